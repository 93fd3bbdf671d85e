"""The Pioneer DVR-108 DVD writer, flashed the way DVRFlash flashes its Normal part.

Public facts (DVRFlash 2.2b, ``rpc1dev/DVRFlash`` @ 8ccb1b7, ``DVRFlash.cpp``
``main()``, ``SetKern()``, ``getInquiry()``; docs/families/pioneer.md):
INQUIRY of 0x60 bytes carries a date "mm/dd/yy" at byte 37 (DVRFlash stops
unless bytes 39 and 42 are '/') and the maker at byte 47; a drive in kernel
mode answers revision "0000" (DVRFlash's test after the key block).
READ BUFFER mode 2, buffer 0xF1, 0x30 bytes: serial (16),
interface (4, "ATA "), generation (4 ASCII digits, "0008" for the DVR-108),
kernel type (8), normal type (8), kernel revision (4). WRITE BUFFER mode 4,
buffer 0xFF, 0x100 bytes enters kernel mode: the name "PIONEER  DVR-108" and,
for the DVR-106/107/108, the universal key 0x9A782361 big-endian at 0x10.
The Normal part (1 MiB) goes as WRITE BUFFER mode 7, buffer 0xF0, 0x8000 bytes
per command at its offset; mode 5, buffer 0xFF with the same block saves it
and leaves kernel mode; DVRFlash waits 10 s and reads INQUIRY again.

Modelled plausibly, not known from a source:
- A wrong key block answers 5/26/00; Normal data or the save outside kernel
  mode 5/2C/00; mode 7 on the Kernel buffer (0xFE) 5/24/00 (flashing the
  kernel is not modelled); any other mode or buffer 5/24/00.
- The save checks what DVRFlash checks host-side: a whole 1 MiB "Normal"
  part (5/2C/00 if bytes are missing) naming this drive, for "ATA "
  generation 0008 and this kernel type (5/26/00 otherwise). A refused save
  leaves the drive in kernel mode with the download dropped: the Normal
  part can be sent again.
- The save shows 2/04/07 for 8 s, then a power-on return (6/29/00, 6/3F/01)
  in normal mode with the new revision (4 bytes at 0x90 in the emulator's
  images, ``rescue.emulator.images``).
- A flash whose Normal part is unreadable starts in kernel mode.
- ``kernel=stays``: the drive accepts the key block (GOOD) but does not
  switch, so INQUIRY still shows its revision: the case DVRFlash checks for
  after the key block ("Could not set drive to Kernel mode!") and stops.
- Its date in kernel mode is "00/00/00" (what the drive's kernel reports is
  not in a source; DVRFlash only prints it).

Registry keys: ``state=PATH`` (the 1 MiB Normal part), ``image=PATH``,
``kernel=stays``.
"""

from __future__ import annotations

from rescue.emulator.flashable import (
    READ_BUFFER,
    FlashHoldingDrive,
    common_args,
    load_flash,
    persist_new,
)
from rescue.emulator.images import (
    PIONEER_SIZE,
    FlashIdentity,
    make_pioneer_image,
    read_pioneer_part,
)
from rescue.emulator.mmc import PROFILE_CD_ROM, PROFILE_DVD_ROM, ascii_field
from rescue.emulator.plextor import WRITE_BUFFER
from rescue.emulator.sense import (
    COMMAND_SEQUENCE_ERROR,
    INVALID_FIELD_IN_CDB,
    INVALID_FIELD_IN_PARAMETERS,
    CheckCondition,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.emulator.base import Device
    from rescue.emulator.mmc import Handler
    from rescue.emulator.registry import ModelInfo, Options

VENDOR, PRODUCT = "PIONEER", "DVD-RW  DVR-108"
KERNEL_REVISION, KERNEL_DATE, NORMAL_DATE = "0000", "00/00/00", "05/07/01"
MAKER = "PIONEER"
INTERFACE, GENERATION, KERNEL_TYPE = b"ATA ", b"0008", b"GENERAL "
KEY_BLOCK = b"PIONEER  DVR-108" + (0x9A782361).to_bytes(4, "big") + bytes(0x100 - 20)
INFO_BUFFER, KEY_BUFFER, NORMAL_BUFFER, KERNEL_BUFFER = 0xF1, 0xFF, 0xF0, 0xFE
MODE_DATA, MODE_DOWNLOAD, MODE_SAVE, MODE_OFFSETS_SAVE = 0x02, 0x04, 0x05, 0x07
CHUNK = 0x8000
SAVE_SECONDS = 8.0
PROFILES = (0x001B, 0x001A, 0x0014, 0x0013, 0x0011, PROFILE_DVD_ROM, 0x000A, PROFILE_CD_ROM)
KEYS = ("state", "image", "kernel")
KERNEL_SWITCH_IGNORED = "stays"


def _identify(flash: bytes) -> FlashIdentity | None:
    part = read_pioneer_part(flash)
    return None if part is None else part.identity


class PioneerDrive(FlashHoldingDrive):
    """A DVR-108 holding its Normal part; see the module docstring for its behaviour."""

    vendor, product, profiles = VENDOR, PRODUCT, PROFILES
    identify_flash = staticmethod(_identify)

    recovery_revision = KERNEL_REVISION

    def __init__(self, *, flash: bytes, kernel_switch: bool = True, **common: object) -> None:
        self._drop()
        self.kernel_switch = kernel_switch
        super().__init__(flash=flash, **common)  # type: ignore[arg-type]

    def flash_handlers(self) -> dict[int, Handler]:
        return {WRITE_BUFFER: self._write_buffer, READ_BUFFER: self._read_buffer}

    def _drop(self) -> None:
        self._normal = bytearray(PIONEER_SIZE)
        self._received = bytearray(PIONEER_SIZE)

    def enter_kernel(self) -> None:
        self.recovery = True
        self.identity.revision = KERNEL_REVISION
        self.handlers = self._recovery_handlers
        self._drop()

    def standard_inquiry(self) -> bytes:
        out = bytearray(super().standard_inquiry())
        out[37:45] = (KERNEL_DATE if self.recovery else NORMAL_DATE).encode("ascii")
        out[47:56] = ascii_field(MAKER, 9)
        return bytes(out)

    def _read_buffer(self, cdb: bytes, data_out: bytes | None) -> bytes:
        if (cdb[1] & 0x1F, cdb[2]) != (MODE_DATA, INFO_BUFFER):
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        info = ascii_field(self.identity.serial, 16) + INTERFACE + GENERATION + KERNEL_TYPE
        info += KERNEL_TYPE + b"1.00"
        return info.ljust(0x30, b"\0")[: int.from_bytes(cdb[6:9], "big")]

    def _write_buffer(self, cdb: bytes, data_out: bytes | None) -> bytes:
        mode, buffer_id = cdb[1] & 0x1F, cdb[2]
        offset, length = int.from_bytes(cdb[3:6], "big"), int.from_bytes(cdb[6:9], "big")
        data = data_out or b""
        if len(data) != length:
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        if (mode, buffer_id) == (MODE_DOWNLOAD, KEY_BUFFER):
            if data != KEY_BLOCK:
                raise CheckCondition(INVALID_FIELD_IN_PARAMETERS)
            if self.kernel_switch:
                self.enter_kernel()
        elif (mode, buffer_id) == (MODE_OFFSETS_SAVE, NORMAL_BUFFER):
            if not self.recovery:
                raise CheckCondition(COMMAND_SEQUENCE_ERROR)
            if not length or length > CHUNK or offset + length > PIONEER_SIZE:
                raise CheckCondition(INVALID_FIELD_IN_CDB)
            self._normal[offset : offset + length] = data
            self._received[offset : offset + length] = b"\x01" * length
        elif (mode, buffer_id) == (MODE_SAVE, KEY_BUFFER):
            if data != KEY_BLOCK:
                raise CheckCondition(INVALID_FIELD_IN_PARAMETERS)
            self._save()
        else:
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        return b""

    def _save(self) -> None:
        image, complete = bytes(self._normal), not self._received.count(0)
        self._drop()
        if not self.recovery or not complete:
            raise CheckCondition(COMMAND_SEQUENCE_ERROR)
        part = read_pioneer_part(image)
        if (
            part is None
            or (part.identity.vendor, part.identity.product) != (VENDOR, PRODUCT)
            or (part.interface, part.generation, part.kernel_type)
            != (INTERFACE, GENERATION, KERNEL_TYPE)
        ):
            raise CheckCondition(INVALID_FIELD_IN_PARAMETERS)
        self.start_burn(image, SAVE_SECONDS)


def build(info: ModelInfo, options: Options) -> Device:
    """The registry's constructor for ``pioneer-dvr108``."""
    flash = load_flash(options, PIONEER_SIZE, make_pioneer_image, info.default_revision)
    kernel = options.extra.get("kernel")
    if kernel not in (None, KERNEL_SWITCH_IGNORED):
        raise ValueError(f"kernel={kernel}: the only value is {KERNEL_SWITCH_IGNORED!r}")
    drive = PioneerDrive(flash=flash, kernel_switch=kernel is None, **common_args(options))
    return persist_new(drive)
