"""MediaTek MT1939 Blu-ray drives (TSST SE-506CB): vendor 0xFF download, READ BUFFER backup.

Source: ``rbdixon/coastermelt`` ``doc/update-ts01-notes.txt`` (a USB trace of
TSST's own updater), ``doc/bootloader.txt`` and ``flasher/checksum.py``
(docs/protocols.md). Facts used here:

- the image is the whole 2 MiB flash, sent with ``FF 00 01 00 00 SS`` (the
  same command as the TSST family) in 0xF800-byte chunks: state 0x00 first,
  0xFF after, 0x02 on the last chunk, which is 2 KiB long;
- the drive stalls about 10 s inside a command per MiB written, and the
  updater's trace shows about 10 s more before the drive answers again;
- the first 64 KiB (the boot loader) is write-protected and ignored;
- INQUIRY answers revision "BOOT" while the boot loader runs;
- ``3C 06 00 aa aa aa ll ll ll`` (READ BUFFER mode 6) reads ARM memory at a
  24-bit address, flash included: the backup and read-back path.

This project's choices: 64 KiB per READ BUFFER, the timeouts below. The full
account is docs/families/mt1939.md. redumper has no MT1939 flasher (its
``flash::mt1339`` serves the older TSST DVD-ROM chip), so no peer capture
exists for this family; tests/test_flash_mt1939.py holds it to the trace.
"""

from __future__ import annotations

from collections.abc import Callable

from rescue.errors import TransportError
from rescue.families.base import Family, Identity, Step
from rescue.families.tsst import vendor_flash_steps
from rescue.ops.pathcheck import fit
from rescue.scsi.cdb import read_buffer_memory

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.drive import Drive

CHUNK = 0xF800
END_STATE = 0x02
FLASH_SIZE = 0x200000
BOOT_LOADER = 0x10000  # write-protected: not compared on read-back
READ_CHUNK = 0x10000  # our choice, cut to the path's limit (rescue/ops/pathcheck.py)
QUEUE_SECTOR = 512  # the unit a block queue's max_sectors counts in
READ_TIMEOUT = 30.0  # our choice


class Mt1939Family(Family):
    name = "mt1939"
    title = "MediaTek MT1939"
    source = "rbdixon/coastermelt doc/update-ts01-notes.txt, doc/bootloader.txt"
    backup_method = "READ BUFFER mode 6 (3C 06) memory read of the 2 MiB flash"
    settle_seconds = 10.0
    ready_timeout = 120.0

    def flash_steps(self, data: bytes, identity: Identity) -> list[Step]:
        return vendor_flash_steps(data, CHUNK, END_STATE)

    def backup(self, drive: Drive, progress: Callable[[int, int], None]) -> bytes:
        return self._read(drive, 0, FLASH_SIZE, progress)

    def read_back(self, drive: Drive, data: bytes) -> bool | None:
        flash = self._read(drive, BOOT_LOADER, FLASH_SIZE, lambda done, total: None)
        return flash == data[BOOT_LOADER:FLASH_SIZE]

    @staticmethod
    def _read(drive: Drive, start: int, end: int, progress: Callable[[int, int], None]) -> bytes:
        parts = []
        step = fit(drive.transport, READ_CHUNK, QUEUE_SECTOR)  # a USB bridge may carry less
        for address in range(start, end, step):
            length = min(step, end - address)
            result = drive.command(
                read_buffer_memory(address, length),
                data_in=length,
                timeout=READ_TIMEOUT,
                label=f"read flash at {address:#08x}",
            )
            if len(result.data) != length:
                raise TransportError(
                    f"READ BUFFER at {address:#08x} returned {len(result.data)} of {length} bytes"
                )
            parts.append(result.data)
            progress(address + length - start, end - start)
        return b"".join(parts)
