"""The TSST SE-506CB Blu-ray writer (MediaTek MT1939), as far as flashing and dumping go.

Public facts (PROTOCOLS.md; ``rbdixon/coastermelt`` ``doc/update-ts01-notes.txt``,
``doc/bootloader.txt``, ``flasher/checksum.py``): a 2 MiB flash whose first
64 KiB is a locked boot loader; INQUIRY's identity sits in a trailer at
0x1FFFD0 and the 16-bit sum of [0x10000, 0x1E2000) at 0x1FFFFE
(``rescue.emulator.images``). The update is vendor opcode 0xFF,
``FF 00 01 00 00 SS``, in 0xF800-byte chunks, SS = 00 first, FF after, 02 on
the last (2 KiB) chunk; the drive stalls about 10 s per MiB inside commands.
INQUIRY reports revision ``BOOT`` while the boot loader runs.
``3C 06 00 aa aa aa ll ll ll`` reads memory at a 24-bit address.

Modelled plausibly, not known from a source:
- The flash is mapped at address 0 for READ BUFFER; reading past its end
  answers 5/24/00 (the real drive returns other memory there).
- A chunk with state FF or 02 before any 00 answers 5/2C/00; a chunk that is
  empty, longer than 0xF800 or runs past 2 MiB answers 5/24/00; a last chunk
  that does not complete exactly 2 MiB answers 5/2C/00; a completed image
  whose stored sum is wrong answers 5/26/00. Every refusal drops the download.
- Each chunk costs 10 s per MiB of model time inside the command; after the
  last, the drive answers 2/04/07 for 10 s, then comes back as from a power
  on (6/29/00, then 6/3F/01). The boot loader's 64 KiB is never rewritten.
- A flash whose main firmware fails its sum runs the boot loader: revision
  ``BOOT``, only TEST UNIT READY (2/3A/01), REQUEST SENSE, INQUIRY, READ
  BUFFER and the download command work.

Registry keys: ``state=PATH`` (the 2 MiB flash, loaded when it exists, written
when created and after every burn), ``image=PATH`` (start from this flash).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from rescue.emulator.base import Reply
from rescue.emulator.images import (
    MT1939_LOADER,
    MT1939_SIZE,
    FlashIdentity,
    make_mt1939_image,
    read_mt1939_identity,
)
from rescue.emulator.mmc import (
    INQUIRY,
    PROFILE_CD_ROM,
    PROFILE_DVD_ROM,
    REQUEST_SENSE,
    TEST_UNIT_READY,
    Handler,
    Identity,
    MmcDrive,
)
from rescue.emulator.sense import (
    COMMAND_SEQUENCE_ERROR,
    INVALID_FIELD_IN_CDB,
    INVALID_FIELD_IN_PARAMETERS,
    MICROCODE_CHANGED,
    NO_MEDIUM_TRAY_CLOSED,
    OPERATION_IN_PROGRESS,
    CheckCondition,
    Sense,
)

if TYPE_CHECKING:
    from rescue.emulator.base import Clock, Device
    from rescue.emulator.disc import Disc
    from rescue.emulator.faults import Fault
    from rescue.emulator.registry import ModelInfo, Options

VENDOR_FLASH = 0xFF
READ_BUFFER = 0x3C
STATE_FIRST, STATE_CONTINUE = 0x00, 0xFF
RECOVERY_REVISION = "BOOT"
VENDOR, PRODUCT = "TSSTcorp", "BDDVDW SE-506CB"
CHUNK = 0xF800
END_STATE = 0x02
SECONDS_PER_MIB = 10.0
COME_BACK_SECONDS = 10.0
#: A BD-RE writer's MMC profiles (BD-RE, BD-R, BD-ROM, DVD, CD); writing is not modelled.
PROFILES = (0x0043, 0x0041, 0x0040, 0x001A, 0x0011, PROFILE_DVD_ROM, 0x000A, PROFILE_CD_ROM)
KEYS = ("state", "image")


class FlashHoldingDrive(MmcDrive):
    """A drive whose identity comes from the flash it holds, burns a new one, and persists it.

    The part every flashable model shares: which firmware runs (main or boot
    loader), the not-ready burn, the unit attentions after it, and the
    ``state=`` file. Subclasses give ``identify`` and their flash opcodes.
    """

    #: What INQUIRY reports while the loader runs (Pioneer's kernel mode says "0000").
    recovery_revision = RECOVERY_REVISION

    def __init__(
        self,
        *,
        flash: bytes,
        identify: Callable[[bytes], FlashIdentity | None],
        vendor: str,
        product: str,
        profiles: tuple[int, ...],
        flash_handlers: dict[int, Handler],
        state_path: str | None,
        serial: str,
        clock: Clock,
        disc: Disc | None = None,
        tray_open: bool = False,
        faults: list[Fault] | None = None,
        microcode_upgrade: bool = False,
    ) -> None:
        super().__init__(
            identity=Identity(vendor, product, self.recovery_revision, serial),
            profiles=profiles,
            clock=clock,
            disc=disc,
            tray_open=tray_open,
            faults=faults,
            microcode_upgrade=microcode_upgrade,
        )
        self.identify = identify
        self.state_path = state_path
        self.loader_name = (vendor, product)
        self._normal_handlers = {**self.handlers, **flash_handlers}
        kept = (TEST_UNIT_READY, REQUEST_SENSE, INQUIRY, *flash_handlers)
        self._recovery_handlers = {op: self._normal_handlers[op] for op in kept}
        self._burn: tuple[float, bytes] | None = None
        self.boot(flash)

    def boot(self, flash: bytes) -> None:
        """Start the main firmware in ``flash`` when it identifies itself, else the loader."""
        self.flash = flash
        found = self.identify(flash)
        self.recovery = found is None
        if found is None:
            self.identity.vendor, self.identity.product = self.loader_name
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
        """Write the flash to ``state_path`` atomically (a crash leaves the old file)."""
        if self.state_path is None:
            return
        partial = f"{self.state_path}.partial"
        with open(partial, "wb") as f:
            f.write(self.flash)
        os.replace(partial, self.state_path)

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


class Mt1939Drive(FlashHoldingDrive):
    """An SE-506CB holding ``flash``; see the module docstring for its behaviour."""

    def __init__(self, *, flash: bytes, **common: object) -> None:
        self.download = VendorDownload(MT1939_SIZE, CHUNK, (END_STATE,))
        super().__init__(
            flash=flash,
            identify=read_mt1939_identity,
            vendor=VENDOR,
            product=PRODUCT,
            profiles=PROFILES,
            flash_handlers={VENDOR_FLASH: self._vendor_flash, READ_BUFFER: self._read_buffer},
            **common,  # type: ignore[arg-type]
        )

    def power_on_reset(self) -> None:
        self.download.data = None
        super().power_on_reset()

    def _vendor_flash(self, cdb: bytes, data_out: bytes | None) -> Reply:
        stall = SECONDS_PER_MIB * len(data_out or b"") / 0x100000
        image = self.download.take(cdb, data_out)
        if image is not None:
            if read_mt1939_identity(image) is None:
                raise CheckCondition(INVALID_FIELD_IN_PARAMETERS)
            self.start_burn(self.flash[:MT1939_LOADER] + image[MT1939_LOADER:], COME_BACK_SECONDS)
        return Reply(busy_seconds=stall)

    def _read_buffer(self, cdb: bytes, data_out: bytes | None) -> bytes:
        mode, buffer_id = cdb[1] & 0x1F, cdb[2]
        address, length = int.from_bytes(cdb[3:6], "big"), int.from_bytes(cdb[6:9], "big")
        if mode != 0x06 or buffer_id != 0 or address + length > MT1939_SIZE:
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        return self.flash[address : address + length]


def load_flash(options: Options, size: int, make: Callable[[str], bytes], default: str) -> bytes:
    """The flash a model starts with: ``state=`` if it exists, else ``image=``, else a made one."""
    extra = options.extra
    state = extra.get("state")
    if state is not None and os.path.exists(state):
        return read_flash(state, "state", size)
    if "image" in extra:
        if options.revision is not None:
            raise ValueError("rev= and image= both set the firmware: give one")
        return read_flash(extra["image"], "image", size)
    return make(options.revision or default)


def read_flash(path: str, key: str, size: int) -> bytes:
    try:
        with open(path, "rb") as f:
            flash = f.read(size + 1)
    except OSError as err:
        raise ValueError(f"{key}={path}: cannot read it ({err.strerror})") from None
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


def build(info: ModelInfo, options: Options) -> Device:
    """The registry's constructor for ``tsst-se506cb`` (keys in the module docstring)."""
    flash = load_flash(options, MT1939_SIZE, make_mt1939_image, info.default_revision)
    return persist_new(Mt1939Drive(flash=flash, **common_args(options)))
