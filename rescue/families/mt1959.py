"""LG / ASUS Blu-ray drives on MediaTek MT1959: redumper's flasher.

Source: redumper, ``superg/redumper`` ``drive/flash_mt1959.ixx`` and
``scsi/cmd.ixx`` (PROTOCOLS.md). Facts used here:

- before flashing, READ BUFFER mode 6 (with offsets) at offset 0x3000 reads
  the drive's own 0x20-byte configuration block ("MT1959 Boot JB8 ..." on the
  ASUS BW-16D1HT; newer redumper versions check this name per drive, kept
  in ``rescue/data/families.json``);
- the image is then changed: its first 0x10000 bytes set to 0xFF and the
  configuration block copied in at 0x3000;
- WRITE BUFFER mode 1 (vendor specific), no data; then WRITE BUFFER mode 6
  chunks of 0x4000 bytes at their image offsets (buffer ID 0); then the
  flasher waits until the drive is ready.

Not public: a backup command, the image size, how long the drive takes:
no backup here, and the waits below are this project's choice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rescue.errors import Refused
from rescue.families.base import Family, Identity, Step, write_buffer_chunks
from rescue.scsi.cdb import WriteBufferMode, read_buffer, write_buffer

if TYPE_CHECKING:
    from rescue.drive import Drive

CONFIG_AT = 0x3000
CONFIG_SIZE = 0x20
BOOT_AREA = 0x10000
CHUNK = 0x4000
READ_MODE_OFFSETS = 0x06
CHUNK_TIMEOUT = 60.0  # our choice


class Mt1959Family(Family):
    name = "mt1959"
    title = "MediaTek MT1959"
    source = "redumper drive/flash_mt1959.ixx, scsi/cmd.ixx"
    no_backup_reason = "redumper reads only the 32-byte configuration block, not the flash"
    settle_seconds = 5.0
    ready_timeout = 120.0

    def prepare(self, drive: Drive, data: bytes) -> bytes:
        """Blank the boot area and put the drive's own configuration block in at 0x3000."""
        config = drive.command(
            read_buffer(READ_MODE_OFFSETS, 0, CONFIG_AT, CONFIG_SIZE),
            data_in=CONFIG_SIZE,
            label="read the drive's configuration block",
        ).data
        expected = self.params(drive.identity).get("config_id")
        if len(config) != CONFIG_SIZE or (expected and not config.startswith(expected.encode())):
            raise Refused(
                f"the drive's configuration block is {config[:16]!r}, expected {expected!r}: "
                "this is not the MT1959 drive the image is for; nothing was written"
            )
        image = bytearray(data)
        image[:BOOT_AREA] = b"\xff" * BOOT_AREA
        image[CONFIG_AT : CONFIG_AT + CONFIG_SIZE] = config
        return bytes(image)

    def flash_steps(self, data: bytes, identity: Identity) -> list[Step]:
        start = Step(
            label="enter download (vendor mode 1)",
            cdb=bytes(write_buffer(WriteBufferMode.VENDOR, 0, 0, 0)),
            timeout=CHUNK_TIMEOUT,
            commit=True,  # unknown when the drive starts erasing: assume at once
        )
        chunks = write_buffer_chunks(
            data, CHUNK, WriteBufferMode.DOWNLOAD_OFFSETS, timeout=CHUNK_TIMEOUT
        )
        return [start, *chunks]
