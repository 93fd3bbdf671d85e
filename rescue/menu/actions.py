"""What the menu does to a drive: each action runs the CLI command in-process.

Flashing calls the engine (``rescue.engine.flash``) directly, the same
function `rescue flash` calls, so the menu has no flasher of its own: it
passes through exactly the checks of `rescue flash` (image validity,
identity, the catalog's plan, lock, no disc, quiet drive) and its YES
question, which reads the same console as the menu. Other actions run
``rescue.cli.main``. The equivalent command line is echoed first either way,
so the user learns the command for next time.
"""

from __future__ import annotations

import re
import shlex
import time
from pathlib import Path

from rescue.engine.flash import FlashOptions
from rescue.errors import EXIT_CODE_MEANINGS, ExitCode, RescueError
from rescue.families.unknown import Evidence, quote
from rescue.menu.drives import DriveEntry
from rescue.menu.screen import MenuExit, Option, choose, numbered, say, yes_no

BACK = Option("b", "back")


def _echo(argv: list[str]) -> list[str]:
    """Say the command line (with the session's ``--drives`` files) that does this by hand."""
    from rescue.families.table import explicit_files

    argv = [arg for path in explicit_files() for arg in ("--drives", str(path))] + argv
    say("", "$ rescue " + shlex.join(argv))
    return argv


def _ended(code: int) -> int:
    if code:
        say(f"(exit {code}: {EXIT_CODE_MEANINGS.get(code, 'failed')})")
    return code


def run_command(argv: list[str]) -> int:
    """Run one `rescue` command and say how it ended when it failed.

    The session's ``--drives`` files go to every command it runs, so they all
    see the drive table the menu sees.
    """
    from rescue.cli import main

    argv = _echo(argv)
    try:
        code = main(argv)
    except SystemExit as done:  # argparse on a command line the menu built badly
        code = done.code if isinstance(done.code, int) else int(ExitCode.USAGE)
    except EOFError:  # the input ended at the command's own question (the flasher's YES)
        print()
        raise MenuExit("end of input") from None
    return _ended(code)


def run_flash(argv: list[str], options: FlashOptions) -> int:
    """Flash through the engine, as `rescue flash` does (ARGV is echoed, not parsed).

    The session's drive table is the one ``rescue menu`` opened, so the
    engine sees what the menu sees; errors end as the CLI ends them.
    """
    import sys

    from rich.console import Console

    from rescue.cli import report_error
    from rescue.engine import FlashJob, RunContext

    _echo(argv)
    try:
        FlashJob(options, RunContext(console=Console(highlight=False, soft_wrap=True))).run()
        code = 0
    except RescueError as err:
        code = report_error(err, False)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        code = 130
    except EOFError:  # the input ended at the flasher's YES
        print()
        raise MenuExit("end of input") from None
    return _ended(code)


def backup(drive: DriveEntry, reports: Path) -> int:
    name = re.sub(r"[^A-Za-z0-9.-]+", "_", f"{drive.product}-{drive.revision}").strip("_")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return run_command(["backup", drive.device, "-o", str(reports / f"backup-{name}-{stamp}.bin")])


def firmware_files(folder: Path | None) -> list[Path]:
    if folder is None or not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def flash(drive: DriveEntry, folder: Path | None) -> int | None:
    """Pick an image from the firmware folder and hand it to `rescue flash`.

    The one thing asked here rather than by the flasher is consent to flash
    without a backup, which `rescue flash` takes as --no-backup; it is asked
    only for a family that cannot back up (the flasher backs up the others).
    """
    files = firmware_files(folder)
    if not files:
        where = str(folder) if folder else "no firmware folder (USB stick not mounted)"
        say(
            f"No firmware files in {where}.",
            "Copy images into firmware/ on the stick, or start `rescue menu --firmware DIR`.",
        )
        return None
    picked = choose(f"Firmware in {folder}:", numbered([p.name for p in files]), [BACK])
    if picked == BACK.key:
        return None
    argv = ["flash", drive.device, str(files[int(picked) - 1])]
    family = _family_for_flash(drive)
    if family is None:
        return None
    if family:
        argv += ["--family", family]
    reason = _no_backup_reason(drive, family or None)
    if reason is None:
        return None
    if reason:
        say(f"This drive cannot be backed up first: {reason}.")
        if not yes_no("Flash without a backup?"):
            say("Nothing was sent.")
            return None
        argv.append("--no-backup")
    options = FlashOptions(
        drive.device, str(files[int(picked) - 1]), no_backup=bool(reason), family=family or None
    )
    return run_flash(argv, options)


def _no_backup_reason(drive: DriveEntry, requested: str | None = None) -> str | None:
    """'' when the family backs up, its reason when it cannot, None when it has no protocol."""
    from rescue.devices import open_device
    from rescue.drive import Drive
    from rescue.families import resolve_family

    try:
        with open_device(drive.device) as transport:
            family = resolve_family(Drive(transport), requested).family
    except RescueError as err:
        say(f"Cannot flash this drive: {err.message}")
        return None
    return "" if family.can_backup else family.no_backup_reason


def unknown_drive(device: str) -> Evidence | None:
    """The evidence about a drive no table row serves; None when one does (or it is gone)."""
    from rescue.devices import open_device
    from rescue.drive import Drive
    from rescue.families import UnknownDrive, resolve_family

    try:
        with open_device(device) as transport:
            resolve_family(Drive(transport))
    except UnknownDrive as err:
        return err.evidence
    except RescueError:
        return None
    return None


def explain_unknown(found: Evidence) -> None:
    """What the drive screen says about a drive no table row serves."""
    say("Not in rescue's drive table. The drive reports (INQUIRY, padding kept):")
    for key, text in found.reports.items():
        print(f"  {key:<8} {quote(text)}")
    if not found.candidates:
        say("No evidence points at a flashing protocol for it.")
    for candidate in found.candidates:
        say(f"  could be {candidate.text()}")


def _family_for_flash(drive: DriveEntry) -> str | None:
    """'' for a drive the table serves; the family the user picks for one it does not;
    None when there is nothing to pick (the user is told how to add the drive)."""
    found = unknown_drive(drive.device)
    if found is None:
        return ""
    explain_unknown(found)
    if not found.candidates:
        say(found.next_steps(drive.device)[1])
        return None
    say("Pick the protocol only if you know it: a wrong protocol can leave the drive unusable.")
    names = [c.family for c in found.candidates]
    picked = choose("Flash with which protocol?", numbered(names), [BACK])
    if picked == BACK.key:
        return None
    return names[int(picked) - 1]
