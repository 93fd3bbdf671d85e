"""LG / ASUS Blu-ray drives on MediaTek MT1959, flashed byte for byte as redumper does.

Source: redumper, ``superg/redumper`` ``drive/flash_mt1959.ixx`` (functions
``redumper_flash_mt1959``, ``read_mt1959_config``, ``modify_firmware``,
``flash_mt1959``; table ``MT1959_SUPPORTED_DRIVES``) and ``scsi/cmd.ixx``
(``cmd_read_buffer``, ``cmd_write_buffer``, ``cmd_drive_ready``). The full
account, with the captures that hold this module to redumper's bytes, is
docs/families/mt1959.md; the capture is tests/data/peers/redumper-mt1959.jsonl.

The checks, in redumper's order, and what rescue makes of each:

1. The file must be at least 0x10000 bytes: an image problem
   (``rescue.firmware.layouts.mt1959``), never overridable.
2. The drive must be in the table and the file's configuration id (16 bytes
   at 0x3000) must be the one the table gives for it; redumper skips this
   with ``--force-flash``. Here: the drive table row's ``config_id``
   (rescue/data/families.json) against the image's id, checked before any
   command is sent, as redumper does. A row without ``config_id`` skips it
   (the next check still binds).
3. READ BUFFER mode 6, buffer 0, offset 0x3000, 0x20 bytes: the drive's own
   block. Its first 16 bytes must equal the file's: redumper refuses a
   mismatch even when forced, and so does rescue, whatever ``--force`` says.
4. The image is changed: its first 0x10000 bytes become 0xFF, then the
   drive's 0x20 bytes are copied in at 0x3000.

The write, all WRITE BUFFER(10) with buffer ID 0: mode 1 (vendor specific)
with offset 0, length 0 and no data; then mode 6 (download with offsets) per
0x4000 bytes, buffer offset = file offset, length = the chunk's (the last
one may be shorter). Nothing follows: no mode 7 and no other commit. redumper
then sends TEST UNIT READY once a second, for at most 15 s, until two succeed;
rescue's wait (``wait_until_back``) polls longer, which is outside the write.

freemkv also flashes MT1959 drives but with another sequence (12-byte CDBs,
a mode-7 commit) that it calls unproven itself; redumper's is the one users
run, so this module sends redumper's and nothing else (the doc says more).
The timeouts below are this project's choice: redumper uses its default.
"""

from __future__ import annotations

from rescue.errors import Refused
from rescue.families.base import Family, Identity, Step, write_buffer_chunks
from rescue.firmware.layouts.mt1959 import BOOT_AREA, CONFIG_AT, CONFIG_SIZE, ID_SIZE
from rescue.scsi.cdb import WriteBufferMode, read_buffer, write_buffer

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.drive import Drive

CHUNK = 0x4000
READ_MODE_OFFSETS = 0x06
CHUNK_TIMEOUT = 60.0  # our choice


def _show(raw: bytes) -> str:
    return raw.decode("ascii", "replace")


class Mt1959Family(Family):
    name = "mt1959"
    title = "MediaTek MT1959"
    source = "redumper drive/flash_mt1959.ixx, scsi/cmd.ixx"
    no_backup_reason = "redumper reads only the 32-byte configuration block, not the flash"
    settle_seconds = 5.0
    ready_timeout = 120.0

    def table_check(self, identity: Identity, data: bytes) -> None:
        """redumper's check 2: the table's configuration id for this drive against the file's."""
        expected = self.params(identity).get("config_id")
        found = data[CONFIG_AT : CONFIG_AT + ID_SIZE]
        if expected and found != expected.encode("ascii", "replace"):
            raise Refused(
                f"the image's configuration id at 0x3000 is {_show(found)!r}, the drive table "
                f"gives {expected!r} for {identity.vendor.strip()} {identity.product.strip()}: "
                "the image is for other MT1959 drives; nothing was sent",
                hint="use the image made for this drive (`rescue fw inspect FILE` shows its id)",
            )

    def image_binding(self, identity: Identity, data: bytes) -> str | None:
        """An MT1959 image names no drive by INQUIRY strings (one configuration id serves
        up to 13 drives), but its id at 0x3000 must be the one the drive table gives this
        drive, and the drive's own block is compared before the first write: that is the
        image-to-drive check, and no --force lifts it (docs/families/mt1959.md)."""
        self.table_check(identity, data)
        expected = self.params(identity).get("config_id")
        if not expected:
            return None
        return (
            f"configuration id {expected!r} at 0x3000 is the drive table's for this drive; "
            "the drive's own block is compared before writing"
        )

    def read_config(self, drive: Drive) -> bytes:
        """READ BUFFER mode 6 at 0x3000, 0x20 bytes: the drive's own configuration block."""
        config = drive.command(
            read_buffer(READ_MODE_OFFSETS, 0, CONFIG_AT, CONFIG_SIZE),
            data_in=CONFIG_SIZE,
            label="read the drive's configuration block",
        ).data
        if len(config) != CONFIG_SIZE:
            raise Refused(
                f"the drive returned {len(config)} of the {CONFIG_SIZE} bytes of its "
                "configuration block; nothing was written"
            )
        return config

    def prepare(self, drive: Drive, data: bytes) -> bytes:
        """Checks 2 and 3, then blank the boot area and put the drive's block in at 0x3000."""
        self.table_check(drive.identity, data)
        config = self.read_config(drive)
        found = data[CONFIG_AT : CONFIG_AT + ID_SIZE]
        if config[:ID_SIZE] != found:
            raise Refused(
                f"the drive's configuration id is {_show(config[:ID_SIZE])!r}, the image's "
                f"is {_show(found)!r}: this image is for another MT1959 board, and no --force "
                "overrides that; nothing was written",
                hint="use an image whose configuration id at 0x3000 is the drive's",
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
