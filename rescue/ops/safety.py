"""Pre-flight checks of the flasher: nothing else may touch the drive while it writes.

docs/architecture.md's safety policy asks for: no disc in the drive, no other process
holding it, the kernel's media polling and udev's tray lock off for that drive
(and restored afterwards), and the user's confirmation. Each check here either
passes, is skipped with the reason said out loud (an emulated drive has no
sysfs node), or raises ``Refused`` (exit code 6) with what to do next.

Linux facts (docs/protocols.md, "Linux facts that bite"): the kernel polls
removable media every ``/sys/block/srN/events_poll_msecs``; udev's
``60-cdrom_id.rules`` runs ``cdrom_id --lock-media`` on every change event.
Both send commands to the drive in the middle of a flash unless turned off.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from rescue.errors import BadInput, PermissionDenied, Refused
from rescue.record import field, record
from rescue.scsi.advice import advise

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.drive import Drive
    from rescue.transport.base import Transport

LOCK_DIR_ENV = "RESCUE_LOCK_DIR"
_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)
DEFAULT_LOCK_DIR = Path("/run/lock")
UDEV_RULE = "60-cdrom_id.rules"
UDEV_SYSTEM_DIRS = (Path("/usr/lib/udev/rules.d"), Path("/lib/udev/rules.d"))
UDEV_RUNTIME_DIR = Path("/run/udev/rules.d")
OVERRIDE_MARKER = "# written by rescue flash: cdrom_id kept off"


@record
class Check:
    """One line of the pre-flight report."""

    name: str
    outcome: str  # "ok", "skipped", "overridden" or "refused"
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "outcome": self.outcome, "detail": self.detail}


@record
class Preflight:
    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, outcome: str, detail: str) -> None:
        self.checks.append(Check(name, outcome, detail))

    def to_list(self) -> list[dict[str, str]]:
        return [c.to_dict() for c in self.checks]


# --- exclusive lock --------------------------------------------------------------------------


def lock_dir() -> Path:
    configured = os.environ.get(LOCK_DIR_ENV)
    return Path(configured) if configured else DEFAULT_LOCK_DIR


def drive_key(transport: Transport) -> str:
    """A name for the physical drive, the same whichever node (srN or sgN) opened it."""
    name = transport.name
    if transport.real_hardware:
        device = sysfs_device_dir(name)
        if device is not None:
            name = device.resolve().name  # the H:C:T:L address
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[-40:]
    return f"{readable}-{hashlib.sha256(name.encode()).hexdigest()[:12]}"


@contextlib.contextmanager
def exclusive_lock(key: str, directory: Path | None = None) -> Iterator[Path]:
    """Hold ``rescue-KEY.lock`` with flock for the duration; Refused if someone else does.

    flock belongs to the open file, so a second process (or a second open in
    this one) is refused, and the kernel drops the lock if we crash. The lock
    file is truncated and rewritten, so only a regular file is taken: a link
    planted under its name (to someone's file) or a FIFO is refused, never
    followed. Only the lock folder itself is made, never a chain of folders.
    """
    directory = directory or lock_dir()
    path = directory / f"rescue-{key}.lock"
    hint = f"run as root, or point {LOCK_DIR_ENV} at a folder you can write"
    try:
        directory.mkdir(exist_ok=True)
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        fd = os.open(path, flags, 0o644)
    except OSError as err:
        kind = PermissionDenied if err.errno in _DENIED else BadInput
        why = "a symbolic link is in its place" if err.errno == errno.ELOOP else err.strerror
        raise kind(f"cannot take the drive lock {path}: {why}", hint=hint) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise BadInput(f"cannot take the drive lock {path}: not a regular file", hint=hint)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise Refused(
                f"another rescue process (pid {holder}) is working on this drive",
                hint=f"wait for it to finish; the lock is {path}",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(fd)


# --- no disc ---------------------------------------------------------------------------------


def _take_the_disc_out(device: str) -> str:
    """A next step that works as printed: `eject` on the node rescue opened (util-linux eject
    takes an sr or an sg node), or, for an emulated drive, its spec without a disc."""
    from shlex import quote

    from rescue.devices import EMULATED_PREFIX

    if device.startswith(EMULATED_PREFIX):
        return "an emulated drive has no tray: add `disc=none` to its spec, then run again"
    return f"take the disc out (`eject {quote(device)}` or the tray button), then run again"


def check_no_disc(drive: Drive) -> str:
    """Refuse unless the drive says it is empty; return what was seen.

    Only 2/3A/xx (MEDIUM NOT PRESENT, tray open or closed) means "no disc".
    GOOD means a disc is in; a pending unit attention (6/xx/xx) is consumed
    and the question asked again; 2/04/xx (becoming ready, loading) is
    refused as busy. Every other answer (2/30/00 an unreadable disc, 4/44/00
    an internal failure, 5/20/00 a drive that does not take TEST UNIT READY,
    ...) stops the flash with that sense explained: none of them says "empty".
    """
    for _ in range(4):
        sense = drive.test_unit_ready()
        if sense is None:
            raise Refused(
                "a disc is in the drive: the drive must be empty while it flashes",
                hint=_take_the_disc_out(drive.transport.name),
            )
        triple = f"{sense.key:X}/{sense.asc:02X}/{sense.ascq:02X}"
        if sense.key == 0x2 and sense.asc == 0x3A:
            return f"empty ({triple})"
        if sense.key == 0x6:
            continue
        if sense.key == 0x2 and sense.asc == 0x04:
            raise Refused(
                f"the drive is busy or loading a disc ({triple})",
                hint="wait until it settles, eject any disc, then run the same command again",
            )
        advice = advise(sense.key, sense.asc, sense.ascq)
        raise Refused(
            f"the drive did not say it is empty: TEST UNIT READY answered {triple} "
            f"({sense.asc_name}): {advice.meaning}; nothing was written",
            hint=f"{advice.next_step}; the flash needs an empty drive answering 2/3A/xx",
        )
    raise Refused("the drive keeps reporting unit attentions", hint="run the command again")


# --- media polling and udev's tray lock ------------------------------------------------------


def sysfs_device_dir(node: str, sys_root: Path = Path("/sys")) -> Path | None:
    """The SCSI device directory behind /dev/srN or /dev/sgN, if sysfs knows it."""
    base = os.path.basename(node)
    for cls in ("block", "scsi_generic"):
        device = sys_root / "class" / cls / base / "device"
        if device.exists():
            return device
    return None


def block_name(node: str, sys_root: Path = Path("/sys")) -> str | None:
    """srN for the drive behind ``node`` (an sg node maps to its sr sibling)."""
    device = sysfs_device_dir(node, sys_root)
    if device is None:
        return None
    names = sorted(p.name for p in (device / "block").glob("sr*"))
    return names[0] if names else None


@record
class QuietDrive:
    """Turns off media polling and udev's tray lock for one drive; ``restore`` undoes it."""

    sr: str
    sys_root: Path = Path("/sys")
    udev_runtime: Path = UDEV_RUNTIME_DIR
    udev_system: tuple[Path, ...] = UDEV_SYSTEM_DIRS
    saved_poll: str | None = None
    wrote_rule: Path | None = None
    notes: list[str] = field(default_factory=list)

    def apply(self) -> None:
        poll = self.sys_root / "block" / self.sr / "events_poll_msecs"
        try:
            self.saved_poll = poll.read_text().strip()
            poll.write_text("0\n")
            self.notes.append(f"media polling off for {self.sr} (was {self.saved_poll})")
        except OSError as err:
            raise Refused(
                f"cannot turn off media polling for {self.sr}: {err.strerror}",
                hint="run as root",
            ) from None
        self._udev_off()

    def _udev_off(self) -> None:
        original = next((d / UDEV_RULE for d in self.udev_system if (d / UDEV_RULE).exists()), None)
        target = self.udev_runtime / UDEV_RULE
        if original is None:
            self.notes.append("udev's cdrom_id rule is not installed: no tray lock to turn off")
            return
        if target.exists():
            self.notes.append(f"{target} already exists (not ours): left as it is")
            return
        lines = original.read_text().splitlines()
        skip = f'KERNEL=="{self.sr}", GOTO="cdrom_end"'
        at = next((i + 1 for i, line in enumerate(lines) if "ENV{DEVTYPE}" in line), 0)
        text = "\n".join([OVERRIDE_MARKER, *lines[:at], skip, *lines[at:]]) + "\n"
        self.udev_runtime.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        self.wrote_rule = target
        _reload_udev()
        self.notes.append(f"udev tray lock off for {self.sr} ({target})")

    def restore(self) -> None:
        if self.saved_poll is not None:
            poll = self.sys_root / "block" / self.sr / "events_poll_msecs"
            with contextlib.suppress(OSError):
                poll.write_text(self.saved_poll + "\n")
                self.notes.append(f"media polling restored for {self.sr} ({self.saved_poll})")
        if self.wrote_rule is not None and self.wrote_rule.exists():
            self.wrote_rule.unlink()
            _reload_udev()
            self.notes.append("udev tray lock restored")


def _reload_udev() -> None:
    udevadm = shutil.which("udevadm")
    if udevadm and Path("/run/udev/control").exists():
        subprocess.run([udevadm, "control", "--reload"], check=False, capture_output=True)


@contextlib.contextmanager
def quiet_drive(transport: Transport, preflight: Preflight) -> Iterator[None]:
    """Media polling and tray lock off for the flash; skipped (and said so) when not real."""
    if not transport.real_hardware:
        preflight.add("media polling", "skipped", "emulated drive: no kernel node to quiet")
        preflight.add("udev tray lock", "skipped", "emulated drive: udev never sees it")
        yield
        return
    sr = block_name(transport.name)
    if sr is None:
        preflight.add("media polling", "skipped", f"{transport.name} has no srN node in sysfs")
        preflight.add("udev tray lock", "skipped", "no srN node: udev does not lock it")
        yield
        return
    quiet = QuietDrive(sr)
    try:
        quiet.apply()
        for note in quiet.notes:
            preflight.add("quiet drive", "ok", note)
        yield
    finally:
        applied = len(quiet.notes)
        quiet.restore()
        for note in quiet.notes[applied:]:
            preflight.add("restored", "ok", note)


# --- confirmation ----------------------------------------------------------------------------


def confirm(question: str, assume_yes: bool, ask: Callable[[str], str] | None = None) -> None:
    """Ask for a typed YES: on the terminal, or through ``ask`` (the menu's console).

    Without either (and without --yes) refuse rather than guess.
    """
    if assume_yes:
        return
    if ask is None and (not sys.stdin or not sys.stdin.isatty()):
        raise Refused(
            "no terminal to ask for confirmation on, and --yes was not given",
            hint="read the plan above, then pass --yes to flash without asking",
        )
    try:
        answer = (ask or input)(f"{question} Type YES to continue: ")
    except EOFError:  # Ctrl-D: no answer is not a yes
        answer = ""
    if answer.strip() != "YES":
        raise Refused("not confirmed: nothing was written")
