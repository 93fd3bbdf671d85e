"""What every drive family shares: who it serves, its command list, waiting and verifying.

A family turns a firmware image into an explicit list of ``Step``s (CDB bytes,
data, timeout, label) instead of sending commands as it goes. That one
decision gives ``rescue flash --dry-run`` the exact sequence the real run
sends, lets tests compare a family with the public source command by command,
and keeps the engine (``rescue.ops.flash``) the only place that talks to the
drive while writing. The shape follows esptool and fwupd: one loader base,
one small module per protocol, quirks as data (``rescue/data/families.json``).

A family never opens a device: it is handed a ``Drive`` for the few reads it
needs (a configuration block, a backup, a read-back).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from fnmatch import fnmatchcase

from rescue.errors import CommandTimeout, Refused, RescueError
from rescue.record import field, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any, ClassVar, Protocol

    from rescue.drive import Drive
    from rescue.firmware import FirmwareImage
else:
    Protocol = object  # a Protocol is for the type checker; at run time a plain base will do


class Identity(Protocol):
    """What INQUIRY tells about a drive (``Drive.identity``) or an image holds."""

    vendor: str
    product: str
    revision: str


#: INQUIRY revision of a drive running its boot loader after a failed write
#: (docs/families/mt1939.md; for BTC borrowed, not confirmed: docs/families/btc.md).
RECOVERY_REVISION = "BOOT"


@record(frozen=True)
class Step:
    """One command of a flash or backup sequence, exactly as it will be sent.

    ``probe`` marks a readiness probe (TEST UNIT READY before a chunk, as
    Plextor's flasher does) whose CHECK CONDITION is expected and not fatal;
    every other step is write-class and is never retried. ``commit`` marks
    the step after which the drive rewrites its flash: a failure before it
    leaves the old firmware in place. ``data_in`` bytes are read back and
    handed to ``check``, which raises a ``RescueError`` to stop the sequence
    right there (DVRFlash's INQUIRY after the key block must say "0000").
    """

    label: str
    cdb: bytes
    data: bytes | None = None
    timeout: float = 60.0
    probe: bool = False
    commit: bool = False
    pause_after: float = 0.0
    data_in: int = 0
    check: Callable[[bytes], None] | None = field(default=None, compare=False, repr=False)

    @property
    def payload(self) -> int:
        return len(self.data) if self.data is not None else 0

    def describe(self) -> str:
        data = f"{self.payload:#x} bytes out" if self.data is not None else "no data"
        return f"{self.cdb.hex(' ')}  [{data}, timeout {self.timeout:g} s]  {self.label}"

    def to_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "cdb": self.cdb.hex(),
            "out_len": self.payload,
            "timeout": self.timeout,
            "probe": self.probe,
            "commit": self.commit,
        }


@record(frozen=True)
class DrivePattern:
    """One line of families.json: glob patterns on the INQUIRY strings (see ``squeeze``).

    Only ``vendor``/``product``/``revision`` are matched: they are what a drive
    reports (docs/drives.md). ``aliases`` are the names people know the drive
    by (the box's model name), shown, never matched; ``source`` says where the
    reported strings were read. ``origin`` is the user's table file a row came
    from (``rescue.families.table``); None for a row of the shipped table.
    """

    vendor: str
    product: str
    revision: str = "*"
    params: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    source: str = ""
    origin: str | None = None

    def matches(self, identity: Identity) -> bool:
        return (
            fnmatchcase(squeeze(identity.vendor), squeeze(self.vendor))
            and fnmatchcase(squeeze(identity.product), squeeze(self.product))
            and fnmatchcase(squeeze(identity.revision), squeeze(self.revision))
        )


def squeeze(text: str) -> str:
    """Upper case, runs of spaces collapsed: INQUIRY pads names ("CD-R   PX-W4824A")."""
    return " ".join(text.split()).upper()


def family_table() -> dict[str, dict[str, Any]]:
    """The shipped drive table, keyed by family name (``rescue.families.table`` loads it)."""
    from rescue.families.table import shipped_table

    return shipped_table()


class Family(ABC):
    """Base of one flashing protocol. Subclasses hold the protocol's constants."""

    name: ClassVar[str]
    title: ClassVar[str]
    source: ClassVar[str]
    #: How to read the firmware back, or None when the family cannot.
    backup_method: ClassVar[str | None] = None
    #: Why not, shown when a backup is asked of a family that cannot do one.
    no_backup_reason: ClassVar[str] = ""
    #: INQUIRY revisions of a drive in its boot loader or download mode.
    recovery_revisions: ClassVar[tuple[str, ...]] = (RECOVERY_REVISION,)
    #: Wait this long after the last command before the first poll.
    settle_seconds: ClassVar[float] = 5.0
    #: Give up on the drive coming back after this long (after settling).
    ready_timeout: ClassVar[float] = 300.0
    poll_interval: ClassVar[float] = 2.0

    def __init__(self) -> None:
        from rescue.families.table import rows_for

        self.patterns = rows_for(self.name)  # shipped rows first, then the user's

    # --- who ------------------------------------------------------------------------------

    def match(self, identity: Identity) -> DrivePattern | None:
        """The table line serving this drive, if any (a recovery-mode drive included)."""
        return next((p for p in self.patterns if p.matches(identity)), None)

    def params(self, identity: Identity) -> dict[str, Any]:
        pattern = self.match(identity)
        return dict(pattern.params) if pattern else {}

    def in_recovery(self, identity: Identity) -> bool:
        return identity.revision.strip().upper() in self.recovery_revisions

    @property
    def can_backup(self) -> bool:
        return self.backup_method is not None

    # --- image ----------------------------------------------------------------------------

    def load_image(self, path: str | Path) -> FirmwareImage:
        """Read ``path`` with this family's layout (MT1959 images have no signature)."""
        from rescue.firmware import load_firmware

        return load_firmware(path, family=self.name)

    def validate(self, image: FirmwareImage) -> list[str]:
        """Why ``image`` must not go onto this family's drives (never overridable)."""
        from rescue.firmware import validate_for_family

        return validate_for_family(image, self.name)

    def image_binding(self, identity: Identity, data: bytes) -> str | None:
        """The family's own proof that ``data`` is for this drive model, when the image
        format carries one instead of INQUIRY strings (MT1959's configuration id).

        Raise Refused on a mismatch; return what was checked, or None when the format
        holds no such proof (then the image's vendor/product must name the drive).
        """
        return None

    def prepare(self, drive: Drive, data: bytes) -> bytes:
        """The bytes to send, when the protocol rewrites the image first (MT1959)."""
        return data

    # --- the sequence ---------------------------------------------------------------------

    @abstractmethod
    def flash_steps(self, data: bytes, identity: Identity) -> list[Step]:
        """Every command of the write, in order, for an already prepared image."""

    # --- backup and verify ----------------------------------------------------------------

    def backup(self, drive: Drive, progress: Callable[[int, int], None]) -> bytes:
        """Read the firmware out of the drive; only families with a method override this."""
        raise Refused(f"{self.title} drives cannot be backed up: {self.no_backup_reason}")

    def read_back(self, drive: Drive, data: bytes) -> bool | None:
        """Compare the drive's flash with ``data``; None when the family cannot read it."""
        return None


def write_buffer_chunks(
    data: bytes,
    chunk: int,
    mode: int,
    *,
    timeout: float,
    buffer_id: int = 0,
    offset_base: int = 0,
    last_mode: int | None = None,
    pause_after: float = 0.0,
) -> list[Step]:
    """WRITE BUFFER per ``chunk`` bytes at buffer offset ``offset_base + image offset``.

    The shape most optical flashers share (btcflash, redumper, DVRFlash,
    fwupd); ``last_mode`` gives the final chunk its own mode (Plextor saves
    with mode 5), and that chunk is then the commit.
    """
    from rescue.scsi.cdb import write_buffer

    offsets = range(0, len(data), chunk)
    steps = []
    for index, offset in enumerate(offsets):
        piece = data[offset : offset + chunk]
        last = index == len(offsets) - 1
        this_mode = last_mode if last and last_mode is not None else mode
        steps.append(
            Step(
                label=f"chunk {index + 1}/{len(offsets)} at {offset:#07x} (mode {this_mode:X})",
                cdb=bytes(write_buffer(this_mode, buffer_id, offset_base + offset, len(piece))),
                data=piece,
                timeout=timeout,
                commit=last and last_mode is not None,
                pause_after=pause_after,
            )
        )
    return steps


class StepFailed(RescueError):
    """A step of the sequence failed; keeps the drive's own error and exit category."""

    def __init__(self, step: Step, index: int, total: int, cause: RescueError) -> None:
        where = f"step {index + 1}/{total}"
        if step.label not in cause.message:
            where += f" ({step.label})"
        super().__init__(f"{where} failed: {cause.message}", cause.hint)
        self.step = step
        self.index = index
        self.cause = cause
        self.exit_code = cause.exit_code


def run_steps(
    drive: Drive, steps: list[Step], on_step: Callable[[Step], None] | None = None
) -> None:
    """Send every step once, in order; stop at the first failure (no blind retries)."""
    from rescue.scsi.sense import SenseError

    for index, step in enumerate(steps):
        try:
            result = drive.command(
                step.cdb,
                data_in=step.data_in,
                data_out=step.data,
                timeout=step.timeout,
                label=step.label,
            )
            if step.check is not None:
                step.check(result.data)
        except SenseError as err:
            if not step.probe:
                raise StepFailed(step, index, len(steps), err) from err
        except RescueError as err:
            raise StepFailed(step, index, len(steps), err) from err
        if step.pause_after:
            drive.sleep(step.pause_after)
        if on_step is not None:
            on_step(step)


#: Answers that mean "still restarting, keep polling" (docs/protocols.md sense table).
_KEEP_POLLING_NOT_READY = {0x04}
#: Answers that mean "back": GOOD, or NOT READY / MEDIUM NOT PRESENT (btcflash's rule).
_BACK_NOT_READY = {0x3A}


def wait_until_back(drive: Drive, family: Family) -> list[str]:
    """Wait for a drive that is rewriting its flash, as btcflash does; return what it said.

    Unit attentions (6/29/xx reset, 6/3F/01 microcode changed, 6/28/00) and
    2/04/xx (becoming ready) are expected and only recorded; a command that
    times out while the drive is busy is one more poll. GOOD or 2/3A/xx means
    the drive is back.
    """
    events: list[str] = []
    drive.sleep(family.settle_seconds)
    deadline = drive.now() + family.ready_timeout
    while True:
        try:
            sense = drive.test_unit_ready()
        except CommandTimeout:
            sense = None
            events.append("no answer (busy)")
        else:
            if sense is None:
                return events
            triple = f"{sense.key:X}/{sense.asc:02X}/{sense.ascq:02X}"
            if sense.key == 0x2 and sense.asc in _BACK_NOT_READY:
                events.append(triple)
                return events
            if not events or events[-1] != triple:
                events.append(triple)
        if drive.now() >= deadline:
            raise CommandTimeout(
                f"the drive did not come back within {family.ready_timeout:g} s "
                f"after the write (last answer: {events[-1] if events else 'none'})",
                hint="power-cycle the drive, then run the same `rescue flash` again",
            )
        drive.sleep(family.poll_interval)
