"""The menu's screens: the drive list, then what to do with the chosen drive.

Screens are drawn anew after every action, so what they show (a revision
after a flash, a drive plugged in before a rescan) is never stale by more
than one action.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from rescue import __version__
from rescue.menu import actions
from rescue.menu.drives import DriveEntry, list_drives
from rescue.menu.screen import MenuExit, Option, ask, choose, numbered, pause, say
from rescue.record import record

DATA_FIRMWARE = Path("/data/firmware")
KMSG = Path("/dev/kmsg")
UPTIME = Path("/proc/uptime")

# With two drives or more, the first screen offers the repair bench's screen over all of them.
BENCH = "bench: all drives at once"
EXPLAIN = Option("e", "explain an error")
RESCAN = Option("r", "rescan")
QUIT = Option("q", "quit to shell")
BACK = actions.BACK


@record(frozen=True)
class Folders:
    firmware: Path | None  # images offered for flashing
    reports: Path  # where backups go


Action = Callable[[DriveEntry, Folders], object]


def _command(name: str, reports: bool = False) -> Action:
    """An action that is exactly one `rescue NAME DEV` (with the menu's ``--reports``
    for a command that writes a report)."""

    def run(drive: DriveEntry, folders: Folders) -> int:
        extra = ["--reports", str(folders.reports)] if reports else []
        return actions.run_command([name, drive.device, *extra])

    return run


INFO = "info"
DOCTOR = "doctor (health check)"
FLASH = "flash firmware"
BACKUP = "back up firmware"
PROBE = "does it take WRITE BUFFER? (writes nothing)"

DRIVE_ACTIONS: dict[str, Action] = {
    INFO: _command("info"),
    DOCTOR: _command("doctor", reports=True),
    FLASH: lambda drive, folders: actions.flash(drive, folders.firmware, folders.reports),
    BACKUP: lambda drive, folders: actions.backup(drive, folders.reports),
    PROBE: _command("probe"),
}


def offered(can: actions.Abilities) -> tuple[list[str], list[str]]:
    """The drive screen's entries for a drive, and a line per action left out and why."""
    left_out = {FLASH: ("flash", can.flash), BACKUP: ("backup", can.backup)}
    names = [name for name in DRIVE_ACTIONS if not left_out.get(name, ("", ""))[1]]
    why = [f"{what}: {reason}" for what, reason in left_out.values() if reason]
    return names, why


def default_firmware_folder() -> Path | None:
    """The stick's firmware/ folder when its data partition is mounted (see iso/README.md)."""
    return DATA_FIRMWARE if DATA_FIRMWARE.is_dir() else None


def run_menu(devices: Sequence[str], firmware: Path | None, reports: Path) -> int:
    """The whole session; returns 0 when the user quits or the input ends."""
    say(f"rescue {__version__}: guided mode. Type a number or letter, then Enter.")
    ready: Callable[[], None] | None = announce_ready
    try:
        while True:
            drives = list_drives(devices)
            entries = [d.label for d in drives] + ([BENCH] if len(drives) > 1 else [])
            picked = choose(_drives_title(drives), numbered(entries),
                            [RESCAN, EXPLAIN, QUIT], drawn=ready)  # fmt: skip
            ready = None
            if picked == QUIT.key:
                raise MenuExit("quit")
            if picked == EXPLAIN.key:
                _explain()
            elif picked == RESCAN.key:
                continue
            elif int(picked) > len(drives):
                actions.bench([d.device for d in drives], firmware, reports)
                pause()
            else:
                _drive_screen(drives[int(picked) - 1].device, devices, Folders(firmware, reports))
    except MenuExit as why:
        say(f"Leaving the menu ({why}). Type 'rescue menu' to come back.")
    return 0


def announce_ready() -> None:
    """Log "rescue: tool ready at <uptime> s" to the kernel when the first screen is out.

    "Ready" is the menu on the screen, not the program started (the session
    script logs that); the boot tests and `make bench` read the line. Nothing is
    written when /dev/kmsg is missing or not writable (not root, a container):
    the node is opened without O_CREAT, so no stray file appears in its place.
    """
    try:
        uptime = UPTIME.read_text().split()[0]
        fd = os.open(KMSG, os.O_WRONLY)
    except (OSError, IndexError):
        return
    try:
        os.write(fd, f"rescue: tool ready at {uptime} s\n".encode())
    except OSError:
        pass
    finally:
        os.close(fd)


def _drives_title(drives: list[DriveEntry]) -> str:
    if not drives:
        return "No optical drive found. Connect one, wait a few seconds, then rescan."
    return "Optical drives: pick one"


def _drive_screen(device: str, devices: Sequence[str], folders: Folders) -> None:
    while True:
        drive = _current(device, devices)
        can = actions.abilities(device)
        if can.unknown is not None:
            actions.explain_unknown(can.unknown)
        names, left_out = offered(can)
        if left_out:
            say("Not offered for this drive:", *(f"  {line}" for line in left_out))
        picked = choose(f"Drive: {drive.label}", numbered(names),
                        [EXPLAIN, BACK, QUIT])  # fmt: skip
        if picked == QUIT.key:
            raise MenuExit("quit")
        if picked == BACK.key:
            return
        if picked == EXPLAIN.key:
            _explain()
            continue
        before = actions.pages(folders.reports)
        DRIVE_ACTIONS[names[int(picked) - 1]](drive, folders)
        for page in sorted(actions.pages(folders.reports) - before):
            print(f"report page (HTML): {page}")  # one line: a path is not wrapped
        pause()


def _current(device: str, devices: Sequence[str]) -> DriveEntry:
    """The drive's entry as of now (its revision changes with a flash)."""
    found = [d for d in list_drives(devices) if d.device == device]
    return found[0] if found else DriveEntry(device, "", "", "", problem="gone")


def _explain() -> None:
    text = ask("Error to explain (e.g. 5/20/0, or sense bytes 70 00 05 ...): ")
    if text:
        actions.run_command(["explain", *text.split()])
    pause()
