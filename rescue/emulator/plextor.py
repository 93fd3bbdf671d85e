"""The Plextor PX-716A DVD writer, as far as flashing goes.

Public facts (docs/protocols.md; redumper ``drive/flash_plextor.ixx``, QPxTool
``console/pxfw/pxfw.cpp``): the firmware goes down in WRITE BUFFER(10)
chunks, buffer ID 0, buffer offset and length those of the chunk, mode 4
(download microcode) for every chunk but the last and mode 5 (download and
save) for the last; 0x4000-byte chunks on the PX-716A; Plextor's flasher
sends TEST UNIT READY before each chunk. pxfw (which sends 0x1000 chunks with
nothing between them: tests/data/peers/pxfw-plextor.jsonl, captured against
this model) checks that the image's size is the drive's firmware size, that
its 16-bit sum matches and that the model it names is the drive's
(``rescue.emulator.images`` has the layout).

Modelled plausibly, not known from a source:
- The drive makes pxfw's checks itself when the last chunk arrives: a wrong
  size answers 5/2C/00, a wrong sum or another model's image 5/26/00; the
  download is dropped and the flash untouched.
- Chunks must arrive in order (offset = bytes so far) and be at most 0x4000
  bytes, else 5/2C/00 / 5/24/00; other modes or buffer IDs answer 5/24/00.
- The revision sits in the 4 bytes after the product in the image header
  (no public source says where Plextor keeps it).
- After mode 5 the drive answers 2/04/07 for 30 s, then comes back as from
  a power on (6/29/00, 6/3F/01). A flash that fails its sum runs the boot
  loader (revision ``BOOT``), where a full download repairs it.
- READ BUFFER is not offered (5/20/00): nothing public reads this flash.

Registry keys: ``state=PATH``, ``image=PATH`` as in ``rescue.emulator.mt1939``.
"""

from __future__ import annotations

from rescue.emulator.flashable import (
    FlashHoldingDrive,
    common_args,
    load_flash,
    persist_new,
)
from rescue.emulator.images import (
    PLEXTOR_SIZE,
    make_plextor_image,
    read_plextor_identity,
)
from rescue.emulator.mmc import PROFILE_CD_ROM, PROFILE_DVD_ROM
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

WRITE_BUFFER = 0x3B
MODE_DOWNLOAD, MODE_DOWNLOAD_SAVE = 0x04, 0x05
VENDOR, PRODUCT = "PLEXTOR", "DVDR   PX-716A"
CHUNK = 0x4000
BURN_SECONDS = 30.0
PROFILES = (0x001B, 0x001A, 0x0014, 0x0011, PROFILE_DVD_ROM, 0x000A, 0x0009, PROFILE_CD_ROM)
KEYS = ("state", "image")


class OrderedDownload:
    """A download buffer filled by WRITE BUFFER chunks at increasing, contiguous offsets."""

    def __init__(self, size: int, chunk: int) -> None:
        self.size, self.chunk = size, chunk
        self.data = bytearray()

    def add(self, cdb: bytes, data_out: bytes | None) -> None:
        offset, length = int.from_bytes(cdb[3:6], "big"), int.from_bytes(cdb[6:9], "big")
        data = data_out or b""
        if not length or len(data) != length or length > self.chunk:
            self.drop()
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        if offset != len(self.data) or offset + length > self.size:
            self.drop()
            raise CheckCondition(COMMAND_SEQUENCE_ERROR)
        self.data += data

    def complete(self) -> bytes:
        """The whole image, or 5/2C/00 when it is short; the buffer is emptied either way."""
        image = bytes(self.data)
        self.drop()
        if len(image) != self.size:
            raise CheckCondition(COMMAND_SEQUENCE_ERROR)
        return image

    def drop(self) -> None:
        self.data = bytearray()


class PlextorDrive(FlashHoldingDrive):
    """A PX-716A holding ``flash``; see the module docstring for its behaviour."""

    vendor, product, profiles = VENDOR, PRODUCT, PROFILES
    identify_flash = staticmethod(read_plextor_identity)

    def __init__(self, *, flash: bytes, **common: object) -> None:
        self.download = OrderedDownload(PLEXTOR_SIZE, CHUNK)
        super().__init__(flash=flash, **common)  # type: ignore[arg-type]

    def flash_handlers(self) -> dict[int, Handler]:
        return {WRITE_BUFFER: self._write_buffer}

    def power_on_reset(self) -> None:
        self.download.drop()
        super().power_on_reset()

    def _write_buffer(self, cdb: bytes, data_out: bytes | None) -> bytes:
        mode, buffer_id = cdb[1] & 0x1F, cdb[2]
        if buffer_id != 0 or mode not in (MODE_DOWNLOAD, MODE_DOWNLOAD_SAVE):
            self.download.drop()
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        self.download.add(cdb, data_out)
        if mode == MODE_DOWNLOAD_SAVE:
            image = self.download.complete()
            found = read_plextor_identity(image)
            if found is None or found.product != PRODUCT:
                raise CheckCondition(INVALID_FIELD_IN_PARAMETERS)
            self.start_burn(image, BURN_SECONDS)
        return b""


def build(info: ModelInfo, options: Options) -> Device:
    """The registry's constructor for ``plextor-px716a``."""
    flash = load_flash(options, PLEXTOR_SIZE, make_plextor_image, info.default_revision)
    return persist_new(PlextorDrive(flash=flash, **common_args(options)))
