"""A drive that takes standard SPC download microcode and says so with MMC feature 0x0104.

No optical drive is known to accept a plain SPC download of its image
(docs/protocols.md), so this is the emulator's own drive ("RESCUE EMU SPC DVD"),
built to exercise the generic family. Public facts it follows (SPC-4 WRITE
BUFFER as sg3_utils ``doc/sg_write_buffer.8`` documents it; MMC feature 0x0104):
WRITE BUFFER(10) byte 1 the mode, byte 2 the buffer ID, bytes 3-5 the buffer
offset, bytes 6-8 the length; mode 0Eh downloads with offsets, saves and
defers activation; mode 0Fh activates deferred microcode; READ BUFFER mode
03h returns a descriptor: offset boundary, then a 3-byte capacity.

Modelled plausibly, not known from a source:
- Buffer ID 0 only, capacity 256 KiB, offset boundary 0 (any byte offset).
  Modes other than 0Eh / 0Fh answer 5/24/00, as do chunks past the capacity.
- Activation without deferred microcode, or with bytes missing, answers
  5/2C/00; microcode that does not start with this drive's vendor and
  product (the emulator's own format, ``rescue.emulator.images``) 5/26/00.
  Either way the deferred microcode is dropped and nothing changes.
- Activation shows 2/04/07 for 10 s, then a power-on return (6/29/00,
  6/3F/01) with the new revision.

Registry keys: ``state=PATH``, ``image=PATH`` as in ``rescue.emulator.mt1939``.
"""

from __future__ import annotations

from rescue.emulator.flashable import (
    READ_BUFFER,
    FlashHoldingDrive,
    common_args,
    load_flash,
    persist_new,
)
from rescue.emulator.images import SPC_SIZE, make_spc_image, read_spc_identity
from rescue.emulator.mmc import PROFILE_CD_ROM, PROFILE_DVD_ROM
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

VENDOR, PRODUCT = "RESCUE", "EMU SPC DVD"
MODE_DESCRIPTOR = 0x03
MODE_SAVE_DEFER, MODE_ACTIVATE = 0x0E, 0x0F
ACTIVATE_SECONDS = 10.0
PROFILES = (PROFILE_DVD_ROM, PROFILE_CD_ROM)
KEYS = ("state", "image")


class SpcDrive(FlashHoldingDrive):
    """The emulator's SPC microcode drive; see the module docstring for its behaviour."""

    vendor, product, profiles = VENDOR, PRODUCT, PROFILES
    identify_flash = staticmethod(read_spc_identity)
    microcode_upgrade = True

    def __init__(self, *, flash: bytes, **common: object) -> None:
        self._drop()
        super().__init__(flash=flash, **common)  # type: ignore[arg-type]

    def flash_handlers(self) -> dict[int, Handler]:
        return {WRITE_BUFFER: self._write_buffer, READ_BUFFER: self._read_buffer}

    def _drop(self) -> None:
        self._deferred = bytearray(SPC_SIZE)
        self._received = bytearray(SPC_SIZE)  # 1 where a byte arrived
        self._any = False

    def _read_buffer(self, cdb: bytes, data_out: bytes | None) -> bytes:
        if cdb[1] & 0x1F != MODE_DESCRIPTOR or cdb[2] != 0:
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        return bytes([0]) + SPC_SIZE.to_bytes(3, "big")

    def _write_buffer(self, cdb: bytes, data_out: bytes | None) -> bytes:
        mode, buffer_id = cdb[1] & 0x1F, cdb[2]
        offset, length = int.from_bytes(cdb[3:6], "big"), int.from_bytes(cdb[6:9], "big")
        if buffer_id != 0:
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        if mode == MODE_SAVE_DEFER:
            data = data_out or b""
            if not length or len(data) != length or offset + length > SPC_SIZE:
                raise CheckCondition(INVALID_FIELD_IN_CDB)
            self._deferred[offset : offset + length] = data
            self._received[offset : offset + length] = b"\x01" * length
            self._any = True
        elif mode == MODE_ACTIVATE and not (offset or length):
            self._activate()
        else:
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        return b""

    def _activate(self) -> None:
        image, complete, started = bytes(self._deferred), not self._received.count(0), self._any
        self._drop()
        if not (started and complete):
            raise CheckCondition(COMMAND_SEQUENCE_ERROR)
        found = read_spc_identity(image)
        if found is None or (found.vendor, found.product) != (VENDOR, PRODUCT):
            raise CheckCondition(INVALID_FIELD_IN_PARAMETERS)
        self.start_burn(image, ACTIVATE_SECONDS)


def build(info: ModelInfo, options: Options) -> Device:
    """The registry's constructor for ``generic-spc``."""
    flash = load_flash(options, SPC_SIZE, make_spc_image, info.default_revision)
    return persist_new(SpcDrive(flash=flash, **common_args(options)))
