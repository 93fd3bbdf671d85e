"""Pioneer DVR drives: DVRFlash's kernel-mode download of the "Normal" firmware part.

Source: DVRFlash 2.1, ``rpc1dev/DVRFlash`` ``DVRFlash.cpp`` (PROTOCOLS.md),
read for the order of commands. Facts used here:

- READ BUFFER mode 2, buffer ID 0xF1, 0x30 bytes: serial (16), interface (4,
  "ATA "), generation (4 ASCII digits), kernel type (8), normal type (8);
- a drive in kernel mode answers INQUIRY revision "0000";
- kernel mode is entered with WRITE BUFFER mode 4, buffer ID 0xFF, 0x100
  bytes: a 16-byte drive name ("PIONEER  DVR-108") and, from the DVR-106
  on, a 32-bit big-endian key at byte 0x10 (one universal key for the
  106/107/108, per kernel type for the 109);
- the Normal part goes out as WRITE BUFFER mode 7, buffer ID 0xF0, 0x8000
  bytes per command at its offset, with 100 ms between commands;
- WRITE BUFFER mode 5, buffer ID 0xFF with the same 0x100-byte block saves
  it and leaves kernel mode; DVRFlash then waits 10 s and re-reads INQUIRY;
- DVRFlash refuses an image whose interface (0xB0) and generation (0xB4)
  differ from the drive's; its SCSI timeout is 300 s.

Not done here, and said so: the DVR-103/104 downgrade unlock (a seeded
challenge on buffers 0xF2/0xF3) and flashing the Kernel part, which DVRFlash
itself does only with -f. No read command for the flash is public: no backup.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rescue.errors import Refused
from rescue.families.base import Family, Identity, Step, write_buffer_chunks
from rescue.scsi.cdb import WriteBufferMode, read_buffer, write_buffer

if TYPE_CHECKING:
    from rescue.drive import Drive

INFO_BUFFER = 0xF1
INFO_SIZE = 0x30
KEY_BUFFER = 0xFF
NORMAL_BUFFER = 0xF0
KEY_BLOCK = 0x100
CHUNK = 0x8000
CHUNK_PAUSE = 0.1
TIMEOUT = 300.0  # DVRFlash MAX_SECONDS
KERNEL_REVISION = "0000"
IMAGE_INTERFACE_AT = 0xB0
IMAGE_GENERATION_AT = 0xB4
IMAGE_PART_AT = 0x110

UNIVERSAL_KEY = 0x9A782361
#: DVR-109 keys by the drive's kernel type (first 7 characters, as DVRFlash compares).
KEYS_109 = {
    "PIO_ADV": 0x51B7DAC2,
    "GENERAL": 0x5C6A8FE9,
    "ASUS   ": 0x2BD55699,
    "PIODATA": 0x150000B0,
    "MEDION ": 0xD1A2ED86,
    "OEM_EXT": UNIVERSAL_KEY,
    "OEM_INT": UNIVERSAL_KEY,
}
#: Drive name sent in the key block, by generation (K12 and K13 borrow the 106/107 names).
NAMES = {
    4: "PIONEER  DVR-105",
    6: "PIONEER  DVR-106",
    52: "PIONEER  DVR-106",
    7: "PIONEER  DVR-107",
    54: "PIONEER  DVR-107",
    8: "PIONEER  DVR-108",
    9: "PIONEER  DVR-109",
}


def key_block(generation: int, kernel_type: str) -> bytes:
    """The 0x100-byte block of the kernel-mode and save commands."""
    if generation not in NAMES:
        raise Refused(
            f"Pioneer generation {generation} is not supported here (DVR-103/104 need a "
            "downgrade unlock this tool does not implement)"
        )
    block = bytearray(KEY_BLOCK)
    block[:16] = NAMES[generation].encode("ascii")
    if generation == 9:
        key = KEYS_109.get(kernel_type[:7])
        if key is None:
            raise Refused(f"no known DVR-109 key for kernel type {kernel_type!r}")
        block[0x10:0x14] = key.to_bytes(4, "big")
    elif generation != 4:
        block[0x10:0x14] = UNIVERSAL_KEY.to_bytes(4, "big")
    return bytes(block)


class PioneerFamily(Family):
    name = "pioneer"
    title = "Pioneer DVR"
    source = "DVRFlash 2.1 (rpc1dev/DVRFlash DVRFlash.cpp)"
    no_backup_reason = "DVRFlash knows no command that reads the flash back"
    recovery_revisions = ("BOOT", KERNEL_REVISION)
    settle_seconds = 10.0  # DVRFlash: countdown(10) after the save command
    ready_timeout = 120.0

    def __init__(self) -> None:
        super().__init__()
        self._key_block = b""
        self._in_kernel = False

    def prepare(self, drive: Drive, data: bytes) -> bytes:
        """Read the drive's generation and kernel type; check the image is for that hardware."""
        info = drive.command(
            read_buffer(0x02, INFO_BUFFER, 0, INFO_SIZE),
            data_in=INFO_SIZE,
            label="read Pioneer drive information",
        ).data
        interface = info[16:20]
        try:
            generation = int(info[20:24].decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            raise Refused(f"the drive's generation field {info[20:24]!r} is not a number") from None
        kernel_type = info[24:32].decode("ascii", "replace")
        if data[IMAGE_PART_AT : IMAGE_PART_AT + 6] != b"Normal":
            raise Refused("only the Normal firmware part is flashed by this tool")
        digits = re.match(rb"\d+", data[IMAGE_GENERATION_AT : IMAGE_GENERATION_AT + 4])
        image_generation = int(digits.group()) if digits else None
        if data[IMAGE_INTERFACE_AT : IMAGE_INTERFACE_AT + 4] != interface or (
            image_generation != generation
        ):
            raise Refused(
                f"the image is for {data[IMAGE_INTERFACE_AT : IMAGE_INTERFACE_AT + 4]!r} "
                f"generation {image_generation}, the drive is {interface!r} generation {generation}"
            )
        self._key_block = key_block(generation, kernel_type)
        self._in_kernel = drive.identity.revision.strip() == KERNEL_REVISION
        return data

    def flash_steps(self, data: bytes, identity: Identity) -> list[Step]:
        enter = [
            Step(
                label="enter kernel mode (mode 4, key block)",
                cdb=bytes(write_buffer(WriteBufferMode.DOWNLOAD, KEY_BUFFER, 0, KEY_BLOCK)),
                data=self._key_block,
                timeout=TIMEOUT,
            )
        ]
        chunks = write_buffer_chunks(
            data,
            CHUNK,
            WriteBufferMode.DOWNLOAD_OFFSETS_SAVE,
            timeout=TIMEOUT,
            buffer_id=NORMAL_BUFFER,
            pause_after=CHUNK_PAUSE,
        )
        save = Step(
            label="save and leave kernel mode (mode 5, key block)",
            cdb=bytes(write_buffer(WriteBufferMode.DOWNLOAD_SAVE, KEY_BUFFER, 0, KEY_BLOCK)),
            data=self._key_block,
            timeout=TIMEOUT,
            commit=True,
        )
        return [*([] if self._in_kernel else enter), *chunks, save]
