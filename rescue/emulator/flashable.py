"""The parts every flash-holding drive model shares: state, burn, recovery, download.

A model of a drive whose firmware can be rewritten holds its flash image,
persists it to ``state=`` so separate CLI runs see one drive, goes not-ready
while it "burns", and comes back as after a power-on. Only the receive side
of each vendor protocol differs; that lives in the family's own module.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from rescue.emulator import state as state_file
from rescue.emulator.base import Reply
from rescue.emulator.images import FlashIdentity
from rescue.emulator.mmc import (
    INQUIRY,
    REQUEST_SENSE,
    TEST_UNIT_READY,
    Handler,
    Identity,
    MmcDrive,
)
from rescue.emulator.sense import (
    COMMAND_SEQUENCE_ERROR,
    INVALID_FIELD_IN_CDB,
    MICROCODE_CHANGED,
    NO_MEDIUM_TRAY_CLOSED,
    OPERATION_IN_PROGRESS,
    CheckCondition,
    Sense,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.emulator.base import Clock
    from rescue.emulator.disc import Disc
    from rescue.emulator.faults import Fault
    from rescue.emulator.registry import Options


VENDOR_FLASH = 0xFF  # MediaTek vendor download opcode (docs/protocols.md: TSST, MT1939)
READ_BUFFER = 0x3C
STATE_FIRST, STATE_CONTINUE = 0x00, 0xFF
RECOVERY_REVISION = "BOOT"


class FlashHoldingDrive(MmcDrive):
    """A drive whose identity comes from the flash it holds, burns a new one, and persists it.

    The part every flashable model shares: which firmware runs (main or boot
    loader), the not-ready burn, the unit attentions after it, and the
    ``state=`` file. Subclasses name the drive as class attributes (what its
    boot loader reports, its profiles, how its flash identifies itself) and
    give their flash commands in ``flash_handlers``.
    """

    #: What INQUIRY reports while the loader runs (Pioneer's kernel mode says "0000").
    recovery_revision = RECOVERY_REVISION
    vendor: str
    product: str
    profiles: tuple[int, ...]
    identify_flash: Callable[[bytes], FlashIdentity | None]  # a staticmethod
    microcode_upgrade = False  # whether GET CONFIGURATION claims feature 0104h

    def __init__(
        self,
        *,
        flash: bytes,
        state_path: str | None,
        serial: str,
        clock: Clock,
        disc: Disc | None = None,
        tray_open: bool = False,
        faults: list[Fault] | None = None,
    ) -> None:
        super().__init__(
            identity=Identity(self.vendor, self.product, self.recovery_revision, serial),
            profiles=self.profiles,
            clock=clock,
            disc=disc,
            tray_open=tray_open,
            faults=faults,
            microcode_upgrade=self.microcode_upgrade,
        )
        self.state_path = state_path
        flash_handlers = self.flash_handlers()
        self._normal_handlers = {**self.handlers, **flash_handlers}
        kept = (TEST_UNIT_READY, REQUEST_SENSE, INQUIRY, *flash_handlers)
        self._recovery_handlers = {op: self._normal_handlers[op] for op in kept}
        self._burn: tuple[float, bytes] | None = None
        self.boot(flash)

    def flash_handlers(self) -> dict[int, Handler]:
        """The family's flash (and dump) commands; the boot loader takes them too."""
        raise NotImplementedError

    def boot(self, flash: bytes) -> None:
        """Start the main firmware in ``flash`` when it identifies itself, else the loader."""
        self.flash = flash
        found = self.identify_flash(flash)
        self.recovery = found is None
        if found is None:
            self.identity.vendor, self.identity.product = self.vendor, self.product
            self.identity.revision = self.recovery_revision
            self.handlers = self._recovery_handlers
        else:
            self.identity.vendor, self.identity.product = found.vendor, found.product
            self.identity.revision = found.revision
            if found.date:
                self.firmware_date = found.date
            self.handlers = self._normal_handlers

    def start_burn(self, image: bytes, seconds: float) -> None:
        self._burn = (self.clock.now() + seconds, image)

    def save_state(self) -> None:
        """Write the flash to ``state_path`` atomically and durably (a crash or power cut
        leaves the old file; ``rescue.emulator.state`` marks it as a state file): the next
        run's drive is this one, as a real drive's flash is."""
        if self.state_path is not None:
            state_file.save(self.state_path, bytes(self.flash))

    def tick(self) -> None:
        if self._burn is None or self.clock.now() < self._burn[0]:
            return
        image, self._burn = self._burn[1], None
        self.boot(image)
        self.save_state()
        self.power_on_reset()
        if not self.recovery:
            self.unit_attentions.append(MICROCODE_CHANGED)

    def unit_not_ready(self) -> Sense | None:
        return OPERATION_IN_PROGRESS if self._burn is not None else None

    def medium_sense(self) -> Sense | None:
        return NO_MEDIUM_TRAY_CLOSED if self.recovery else super().medium_sense()


class VendorDownload:
    """The receive side of MediaTek's ``FF 00 01 00 00 SS`` download (TSST and MT1939)."""

    def __init__(self, size: int, chunk: int, end_states: tuple[int, ...]) -> None:
        self.size, self.chunk, self.end_states = size, chunk, end_states
        self.data: bytearray | None = None

    def take(self, cdb: bytes, data_out: bytes | None) -> bytes | None:
        """Store one chunk; the complete image when this was the last one, else None."""
        if len(cdb) < 12 or cdb[1:5] != bytes([0x00, 0x01, 0x00, 0x00]):
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        state = cdb[5]
        if state == STATE_FIRST:
            self.data = bytearray()
        elif state not in (STATE_CONTINUE, *self.end_states):
            self.data = None
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        if self.data is None:
            raise CheckCondition(COMMAND_SEQUENCE_ERROR)
        data = data_out or b""
        if not data or len(data) > self.chunk or len(self.data) + len(data) > self.size:
            self.data = None
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        self.data += data
        if state not in self.end_states:
            return None
        image, self.data = bytes(self.data), None
        if len(image) != self.size:
            raise CheckCondition(COMMAND_SEQUENCE_ERROR)
        return image


class VendorDownloadDrive(FlashHoldingDrive):
    """A flash-holding drive updated through the MediaTek vendor download.

    Subclasses add the download's geometry to the class attributes and say
    what a complete image does (``accept_download``). ``data_out_opcodes``
    and ``vendor_cdb_lengths`` tell the TCMU bridge (rescue.emulator.tcmu)
    what the kernel's ring does not: the command carries data to the drive,
    in a 12-byte CDB.
    """

    data_out_opcodes = frozenset({VENDOR_FLASH})
    vendor_cdb_lengths = {VENDOR_FLASH: 12}
    flash_size: int
    chunk: int
    end_states: tuple[int, ...]
    seconds_per_mib = 0.0  # model time a chunk costs inside its command

    def __init__(self, *, flash: bytes, **common: object) -> None:
        self.download = VendorDownload(self.flash_size, self.chunk, self.end_states)
        super().__init__(flash=flash, **common)  # type: ignore[arg-type]

    def flash_handlers(self) -> dict[int, Handler]:
        return {VENDOR_FLASH: self._vendor_flash}

    def accept_download(self, image: bytes) -> None:
        raise NotImplementedError

    def power_on_reset(self) -> None:
        self.download.data = None
        super().power_on_reset()

    def _vendor_flash(self, cdb: bytes, data_out: bytes | None) -> Reply:
        stall = self.seconds_per_mib * len(data_out or b"") / 0x100000
        image = self.download.take(cdb, data_out)
        if image is not None:
            self.accept_download(image)
        return Reply(busy_seconds=stall)


def load_flash(options: Options, size: int, make: Callable[[str], bytes], default: str) -> bytes:
    """The flash a model starts with: ``state=`` if it exists, else ``image=``, else a made one."""
    extra = options.extra
    saved = state_file.load(extra["state"], size) if "state" in extra else None
    if saved is not None:
        return saved
    if "image" in extra:
        if options.revision is not None:
            raise ValueError("rev= and image= both set the firmware: give one")
        return read_flash(extra["image"], "image", size)
    return make(options.revision or default)


def read_flash(path: str, key: str, size: int) -> bytes:
    from rescue.errors import RescueError
    from rescue.inputs import read_user_file

    try:  # never a device node, a FIFO or a /proc file (rescue.inputs)
        flash = read_user_file(path, f"{key} file", size + 1)
    except RescueError as err:
        raise ValueError(
            f"{key}={path}: cannot read it ({err.message.removeprefix(path + ': ')})"
        ) from None
    if len(flash) != size:
        raise ValueError(f"{key}={path}: not a {size}-byte flash image ({len(flash)} bytes)")
    return flash


def common_args(options: Options) -> dict[str, object]:
    """The constructor arguments every flash-holding model takes from the common keys."""
    return {
        "state_path": options.extra.get("state"),
        "serial": options.serial,
        "clock": options.clock,
        "disc": options.disc,
        "tray_open": options.tray_open,
        "faults": options.faults,
    }


def persist_new(drive: FlashHoldingDrive) -> FlashHoldingDrive:
    """Write the state file when the model was just created, so later runs see this drive."""
    if drive.state_path is not None and not os.path.exists(drive.state_path):
        drive.save_state()
    return drive
