"""The ASUS BW-16D1HT Blu-ray writer (MediaTek MT1959), flashed the way redumper does it.

Public facts (redumper, ``superg/redumper`` ``drive/flash_mt1959.ixx``:
``redumper_flash_mt1959``, ``read_mt1959_config``, ``flash_mt1959``; CDBs in
``scsi/cmd.ixx``; docs/families/mt1959.md): READ BUFFER mode 6 at offset
0x3000, 0x20 bytes, returns the drive's own configuration block, whose first
16 bytes are its configuration id ("MT1959 Boot JB8 " for this drive in
redumper's table); the flasher blanks the first 0x10000 bytes of the file and
copies that block in at 0x3000; then it sends WRITE BUFFER mode 1 (vendor
specific) without data, then WRITE BUFFER mode 6 chunks of 0x4000 bytes at
their file offsets, and no commit; then it sends TEST UNIT READY once a
second for up to 15 s until two succeed.

Modelled plausibly, not known from a source:
- The flash is 2 MiB; the emulator's images keep INQUIRY text at 0x1FFFD0
  (``rescue.emulator.images``); one without readable text there does not
  boot (revision ``BOOT``). The configuration block at 0x3000 is a fact of
  real images (redumper reads the file's id there); its last 16 bytes here
  are filler.
- READ BUFFER mode 6 serves only the configuration block's 0x20 bytes at
  0x3000; anything else answers 5/24/00 (no public backup path).
- Mode 1 opens a download and writes nothing; mode 6 chunks without it
  answer 5/2C/00. Chunks must come in order, at most 0x4000 bytes each
  (5/2C/00, 5/24/00). When 2 MiB have arrived the drive checks that the
  image carries its own configuration block at 0x3000 (5/26/00 if not, the
  download dropped) and burns all but its 64 KiB boot area, which it keeps.
- The burn shows 2/04/07 for 8 s, then the drive comes back as from a power
  on (6/29/00, 6/3F/01). 8 s is chosen so that redumper's 15 s wait sees the
  drive back (its author expects that much); no timing is published.

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
from rescue.emulator.images import (
    MT1959_BOOT_AREA,
    MT1959_CONFIG_AT,
    MT1959_SIZE,
    make_mt1959_image,
    read_mt1959_identity,
)
from rescue.emulator.mmc import PROFILE_CD_ROM, PROFILE_DVD_ROM
from rescue.emulator.plextor import WRITE_BUFFER, OrderedDownload
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

VENDOR, PRODUCT = "ASUS", "BW-16D1HT"
MODE_VENDOR, MODE_OFFSETS = 0x01, 0x06
CHUNK = 0x4000
CONFIG_SIZE = 0x20
BURN_SECONDS = 8.0  # see the module docstring
PROFILES = (0x0043, 0x0041, 0x0040, 0x001B, 0x001A, 0x0011, PROFILE_DVD_ROM, PROFILE_CD_ROM)
KEYS = ("state", "image")


class Mt1959Drive(FlashHoldingDrive):
    """A BW-16D1HT holding ``flash``; see the module docstring for its behaviour."""

    vendor, product, profiles = VENDOR, PRODUCT, PROFILES
    identify_flash = staticmethod(read_mt1959_identity)

    def __init__(self, *, flash: bytes, **common: object) -> None:
        self.download: OrderedDownload | None = None
        super().__init__(flash=flash, **common)  # type: ignore[arg-type]

    def flash_handlers(self) -> dict[int, Handler]:
        return {WRITE_BUFFER: self._write_buffer, READ_BUFFER: self._read_buffer}

    def power_on_reset(self) -> None:
        self.download = None
        super().power_on_reset()

    @property
    def config_block(self) -> bytes:
        return self.flash[MT1959_CONFIG_AT : MT1959_CONFIG_AT + CONFIG_SIZE]

    def _read_buffer(self, cdb: bytes, data_out: bytes | None) -> bytes:
        mode, buffer_id = cdb[1] & 0x1F, cdb[2]
        offset, length = int.from_bytes(cdb[3:6], "big"), int.from_bytes(cdb[6:9], "big")
        if (mode, buffer_id, offset) != (MODE_OFFSETS, 0, MT1959_CONFIG_AT):
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        if length > CONFIG_SIZE:
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        return self.config_block[:length]

    def _write_buffer(self, cdb: bytes, data_out: bytes | None) -> bytes:
        mode, buffer_id = cdb[1] & 0x1F, cdb[2]
        length = int.from_bytes(cdb[6:9], "big")
        if buffer_id != 0:
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        if mode == MODE_VENDOR:
            if length or data_out:
                raise CheckCondition(INVALID_FIELD_IN_CDB)
            self.download = OrderedDownload(MT1959_SIZE, CHUNK)
            return b""
        if mode != MODE_OFFSETS:
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        if self.download is None:
            raise CheckCondition(COMMAND_SEQUENCE_ERROR)
        self.download.add(cdb, data_out)
        if len(self.download.data) == MT1959_SIZE:
            image, self.download = self.download.complete(), None
            if image[MT1959_CONFIG_AT : MT1959_CONFIG_AT + CONFIG_SIZE] != self.config_block:
                raise CheckCondition(INVALID_FIELD_IN_PARAMETERS)
            self.start_burn(self.flash[:MT1959_BOOT_AREA] + image[MT1959_BOOT_AREA:], BURN_SECONDS)
        return b""


def build(info: ModelInfo, options: Options) -> Device:
    """The registry's constructor for ``asus-bw16d1ht``."""
    flash = load_flash(options, MT1959_SIZE, make_mt1959_image, info.default_revision)
    return persist_new(Mt1959Drive(flash=flash, **common_args(options)))
