"""BTC DRW-1004IM / DRW-1008 / DRW-1108 on MediaTek MT1x08: the btcflash protocol.

Source: btcflash (dvd+rw-tools 7.1; cdrtools ``btcflash.c`` 1.18, public
domain), summarised in docs/protocols.md. Facts used here:

- the image is the whole 1 MiB flash;
- every 4 KiB chunk at image offset ``o`` goes out as WRITE BUFFER mode 6
  (download microcode with offsets), buffer ID 0, buffer offset ``o + 0x20``;
- then a 32-byte header, mode 6, offset 0, whose bytes 30-31 hold the 16-bit
  sum of all image bytes, big-endian, the rest zero;
- then mode 7 (with offsets, save), offset 0, no data: the drive burns;
- btcflash sleeps 50 s, then waits up to 300 s for TEST UNIT READY to answer
  GOOD or NOT READY / MEDIUM NOT PRESENT, then re-reads INQUIRY.

Not in the source, chosen here and said so: the per-command timeouts (btcflash
uses its SCSI library's default). The protocol has no read command for the
flash, so a BTC drive cannot be backed up and verification is INQUIRY's
revision only. btcflash merely warns on an identity mismatch; this project
refuses instead (docs/architecture.md, safety policy).
"""

from __future__ import annotations

from rescue.families.base import Family, Identity, Step, write_buffer_chunks
from rescue.firmware.fields import sum16
from rescue.scsi.cdb import WriteBufferMode, write_buffer

CHUNK = 0x1000
DATA_OFFSET = 0x20  # chunks sit after the 32-byte header in the drive's buffer
HEADER_SIZE = 0x20
CHUNK_TIMEOUT = 60.0  # our choice: a 4 KiB transfer into drive RAM
COMMIT_TIMEOUT = 120.0  # our choice: the drive may hold the mode 7 command while it starts


def checksum_header(data: bytes) -> bytes:
    """The 32-byte header: zeros, then the image's 16-bit sum big-endian in bytes 30-31."""
    return bytes(HEADER_SIZE - 2) + sum16(data).to_bytes(2, "big")


class BtcFamily(Family):
    name = "btc"
    title = "BTC / MediaTek MT1x08"
    source = "btcflash (dvd+rw-tools 7.1, cdrtools btcflash.c 1.18)"
    no_backup_reason = "the btcflash protocol has no command that reads the flash back"
    settle_seconds = 50.0  # btcflash: sleep(50) before the first poll
    ready_timeout = 300.0  # btcflash: wait_unit_ready(scgp, 300)

    def flash_steps(self, data: bytes, identity: Identity) -> list[Step]:
        chunks = write_buffer_chunks(
            data,
            CHUNK,
            WriteBufferMode.DOWNLOAD_OFFSETS,
            timeout=CHUNK_TIMEOUT,
            offset_base=DATA_OFFSET,
        )
        header = Step(
            label="checksum header",
            cdb=bytes(write_buffer(WriteBufferMode.DOWNLOAD_OFFSETS, 0, 0, HEADER_SIZE)),
            data=checksum_header(data),
            timeout=CHUNK_TIMEOUT,
        )
        commit = Step(
            label="commit: save to flash",
            cdb=bytes(write_buffer(WriteBufferMode.DOWNLOAD_OFFSETS_SAVE, 0, 0, 0)),
            timeout=COMMIT_TIMEOUT,
            commit=True,
        )
        return [*chunks, header, commit]
