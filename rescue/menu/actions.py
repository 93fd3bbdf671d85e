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

from rescue.errors import EXIT_CODE_MEANINGS, ExitCode, RescueError
from rescue.menu.drives import DriveEntry
from rescue.menu.screen import WIDTH, MenuExit, Option, choose, numbered, say, yes_no
from rescue.record import record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.engine.flash import FlashOptions
    from rescue.families.base import Family
    from rescue.families.unknown import Evidence

BACK = Option("b", "back")


def _echo(argv: list[str]) -> list[str]:
    """Say the command line (with the session's ``--drives`` files) that does this by hand."""
    from rescue.families.table import explicit_files

    argv = [arg for path in explicit_files() for arg in ("--drives", str(path))] + argv
    print()
    print(command_text(["rescue", *argv]))
    return argv


def command_text(argv: list[str], width: int = WIDTH) -> str:
    """``$ ARGV`` shell-quoted, broken only between words, each break a backslash-newline.

    A line wrapped anywhere else (inside a quoted path, or without the
    backslash) would paste into a shell as two commands, the first one short
    of its options; a word longer than the line is kept whole.
    """
    lines = ["$"]
    for word in map(shlex.quote, argv):
        if len(lines[-1]) + 1 + len(word) > width - 2 and lines[-1].strip() != "$":
            lines.append("   ")
        lines[-1] += " " + word
    return " \\\n".join(lines)


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


def run_flash(argv: list[str], options: FlashOptions, reports: Path | None = None) -> int:
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
        console = Console(highlight=False, soft_wrap=True)
        where = str(reports) if reports is not None else None
        # The flasher's typed YES is asked on the menu's console, terminal or not (a serial
        # line, a script): the menu never dead-ends on the CLI's "pass --yes".
        FlashJob(options, RunContext(console=console, reports=where, ask=input)).run()
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


@record(frozen=True)
class Abilities:
    """What the menu may offer for one drive, read with INQUIRY (and GET CONFIGURATION).

    ``family`` is the table's protocol (None for a drive no row serves, whose
    ``unknown`` evidence names the candidates). ``flash`` and ``backup`` are ''
    when the action is offered, else the reason it is not.
    """

    family: Family | None
    unknown: Evidence | None
    flash: str
    backup: str


def abilities(device: str) -> Abilities:
    from rescue.devices import open_device
    from rescue.drive import Drive
    from rescue.families import UnknownDrive, family_named, resolve_family

    try:
        with open_device(device) as transport:
            family = resolve_family(Drive(transport)).family
    except UnknownDrive as err:
        found = err.evidence
        if not found.candidates:
            why = "no known protocol: not in rescue's drive table and nothing points at one"
            return Abilities(None, found, why, why)
        able = [c.family for c in found.candidates if family_named(c.family).can_backup]
        backup = (
            ""
            if able
            else (
                "none of the protocols it could be ("
                + ", ".join(c.family for c in found.candidates)
                + ") has a command that reads the flash back"
            )
        )
        return Abilities(None, found, "", backup)
    except RescueError as err:
        return Abilities(None, None, err.message, err.message)
    return Abilities(family, None, "", "" if family.can_backup else family.no_backup_reason)


def backup(drive: DriveEntry, reports: Path) -> int | None:
    can = abilities(drive.device)
    if can.backup:
        say(f"backup: {can.backup}.")
        return None
    argv = ["backup", drive.device]
    if can.family is None and can.unknown is not None:
        family = _pick_family(drive, can.unknown, "Back up with which protocol?", backup=True)
        if family is None:
            return None
        argv += ["--family", family]
    name = re.sub(r"[^A-Za-z0-9.-]+", "_", f"{drive.product}-{drive.revision}").strip("_")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return run_command([*argv, "-o", str(reports / f"backup-{name}-{stamp}.bin")])


def bench(devices: list[str], firmware: Path | None, reports: Path) -> int | None:
    """`rescue bench` over the listed drives: the live screen of the repair bench.

    Its screen reads the console's file descriptor itself (line commands, a
    serial line included), so it needs one. On a terminal the menu reads a line
    at a time, so nothing typed for the bench is held back in the menu's buffer.
    """
    import sys

    try:
        sys.stdin.fileno()
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        say("The bench screen reads the console directly: start it from a terminal.")
        return None
    folder = ["--firmware", str(firmware)] if firmware is not None else []
    return run_command(["bench", "--reports", str(reports), *folder, *devices])


#: How many files that are not the family's firmware are named one by one (80x25 console).
LISTED_OTHERS = 5


def firmware_files(folder: Path | None) -> list[Path]:
    if folder is None or not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def sort_firmware(files: list[Path], family: Family) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The files that read as ``family``'s firmware, and the others with why not.

    The family's own ``load_image`` + ``validate`` decide (the layout's size,
    signature and checksum rules), quietly: nothing is printed and no drive is asked.
    Whether an image is for this very drive is the flasher's check, not this one.
    """
    fits: list[Path] = []
    others: list[tuple[Path, str]] = []
    for path in files:
        try:
            problems = family.validate(family.load_image(path))
        except RescueError as err:
            problems = [err.message.removeprefix(f"{path}: ")]
        if problems:
            others.append((path, "; ".join(problems)))
        else:
            fits.append(path)
    return fits, others


def pages(folder: Path) -> set[Path]:
    """The HTML report pages in the reports folder (the menu names the new ones)."""
    return set(folder.glob("*.html")) if folder.is_dir() else set()


def flash(drive: DriveEntry, folder: Path | None, reports: Path | None = None) -> int | None:
    """Pick an image from the firmware folder and hand it to `rescue flash`.

    The protocol comes first (the table's, or the user's pick among the
    candidates for a drive no row serves), so that only files that read as
    that protocol's firmware are offered. The one thing asked here rather
    than by the flasher is consent to flash without a backup, which `rescue
    flash` takes as --no-backup; it is asked only for a family that cannot
    back up (the flasher backs up the others).
    """
    from rescue.families import family_named

    can = abilities(drive.device)
    if can.flash:
        say(f"flash: {can.flash}.")
        return None
    requested = ""
    if can.family is None and can.unknown is not None:
        requested = _pick_family(drive, can.unknown, "Flash with which protocol?") or ""
        if not requested:
            return None
    family = can.family or family_named(requested)
    files = firmware_files(folder)
    if not files:
        where = str(folder) if folder else "no firmware folder (USB stick not mounted)"
        say(
            f"No firmware files in {where}.",
            "Copy images into firmware/ on the stick, or start `rescue menu --firmware DIR`.",
        )
        return None
    fits, others = sort_firmware(files, family)
    for path, why in others[:LISTED_OTHERS]:
        say(f"not firmware for {family.name}: {path.name} ({why})")
    if len(others) > LISTED_OTHERS:  # a folder of other things must not scroll the list away
        more = len(others) - LISTED_OTHERS
        say(f"and {more} more files that are not {family.name} firmware "
            "(`rescue fw inspect FILE` says why for each)")  # fmt: skip
    if not fits:
        say(f"None of the files in {folder} reads as {family.name} firmware.")
        return None
    picked = choose(f"Firmware for {family.name} in {folder}:", numbered([p.name for p in fits]),
                    [BACK])  # fmt: skip
    if picked == BACK.key:
        return None
    image = str(fits[int(picked) - 1])
    argv = ["flash", drive.device, image] + (["--family", requested] if requested else [])
    argv += ["--reports", str(reports)] if reports is not None else []
    reason = "" if family.can_backup else family.no_backup_reason
    if reason:
        say(f"This drive cannot be backed up first: {reason}.")
        if not yes_no("Flash without a backup?"):
            say("Nothing was sent.")
            return None
        argv.append("--no-backup")
    from rescue.engine.flash import FlashOptions  # the flash engine: loaded when flashing

    options = FlashOptions(drive.device, image, no_backup=bool(reason), family=requested or None)
    return run_flash(argv, options, reports)


def explain_unknown(found: Evidence) -> None:
    """What the drive screen says about a drive no table row serves."""
    from rescue.families.unknown import quote  # the drive table: loaded once a drive is picked

    say("Not in rescue's drive table. The drive reports (INQUIRY, padding kept):")
    for key, text in found.reports.items():
        print(f"  {key:<8} {quote(text)}")
    if not found.candidates:
        say("No evidence points at a flashing protocol for it.")
    for candidate in found.candidates:
        say(f"  could be {candidate.text()}")


def _pick_family(
    drive: DriveEntry, found: Evidence, question: str, backup: bool = False
) -> str | None:
    """The protocol the user picks among the candidates for a drive no row serves;
    None when they go back. ``backup`` offers only the candidates that can back up."""
    from rescue.families import family_named

    names = [c.family for c in found.candidates]
    if backup:
        names = [name for name in names if family_named(name).can_backup]
    say("Pick the protocol only if you know it: a wrong protocol can leave the drive unusable.")
    picked = choose(question, numbered(names), [BACK])
    if picked == BACK.key:
        return None
    return names[int(picked) - 1]
