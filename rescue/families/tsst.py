"""TSST (Toshiba-Samsung) MediaTek DVD-ROM drives and the Samsung SD-616: vendor opcode 0xFF.

Source: redumper, ``superg/redumper`` ``drive/flash_tsst.ixx`` (functions
``redumper_flash_tsst`` = ``flash::mt1339`` and ``flash_tsst``; tables
``TSST_SUPPORTED_VENDORS``, ``TSST_SUPPORTED_DRIVES``),
``drive/flash_sd616.ixx`` (``redumper_flash_sd616`` = ``flash::sd616``;
``SAMSUNG_SUPPORTED_DRIVES``), ``scsi/cmd.ixx`` (``cmd_flash_tsst``) and
``scsi/mmc.ixx`` (``CDB12_FlashTSST``, ``FLASH_TSST_Mode``). The full account
is docs/families/tsst.md; tests/data/peers/redumper-tsst*.jsonl are the
captures this module is held to.

The command: 12 bytes, opcode 0xFF, byte 2 = 0x01, byte 5 = the state, every
other byte 0, no length in the CDB; the chunk travels as its data. State
0x00 on the first chunk, 0xFF on the following ones, and on the last one
0x04 (``END_256KB``) in ``flash::mt1339`` or 0x02 (``END_128KB``) in
``flash::sd616``.

- TSST drives (``flash::mt1339``): the file is sent as it is, in 0xFC00-byte
  chunks, the last one shorter. redumper checks the drive (vendor TSSTcorp or
  hp, one of 12 products; skipped with ``--force-flash``) but not the file.
  rescue serves the drives its table lists and takes only 256 KiB files for
  them: the one size redumper's end state names (stricter, said in the doc).
- Samsung SD-616F (``flash::sd616``): the file must be exactly 0x20000 bytes
  (redumper refuses any other size); it is rearranged into 0x30000 bytes (see
  ``sd616_layout``) and sent in 0x10000-byte chunks ending with state 0x02.
  redumper knows the drive by INQUIRY vendor SAMSUNG, product
  "DVD-ROM SD-616F"; so does ``SD616_DRIVES`` here, and the drive table
  routes that drive to this family.

No read command and no come-back timing are public: no backup, and the
waits below are this project's choice (redumper does not wait at all).
"""

from __future__ import annotations

from rescue.errors import Refused
from rescue.families.base import Family, Identity, Step, squeeze

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.drive import Drive

OPCODE = 0xFF
CHUNK = 0xFC00
FIRST, CONTINUE = 0x00, 0xFF
END_256K = 0x04  # redumper FLASH_TSST_Mode::END_256KB (flash::mt1339)
END_128K = 0x02  # redumper FLASH_TSST_Mode::END_128KB (flash::sd616)
IMAGE_256K = 0x40000
CHUNK_TIMEOUT = 60.0  # our choice

#: redumper SAMSUNG_SUPPORTED_DRIVES, vendor SAMSUNG (INQUIRY vendor, product).
SD616_DRIVES = frozenset({("SAMSUNG", "DVD-ROM SD-616F")})
SD616_FILE = 0x20000
SD616_IMAGE = 0x30000
SD616_CHUNK = 0x10000


def sd616_layout(data: bytes) -> bytes:
    """The 0x30000 bytes ``flash::sd616`` sends for a 0x20000-byte file (``redumper_flash_sd616``).

    Read from redumper's four copies, in this project's words: the first
    0x10000 bytes stay where they are; file bytes [0x10000, 0x1F800) go to
    0x10400; the file's last 0x800 bytes [0x1F800, 0x20000) go to 0x20000;
    file bytes [0x10400, 0x1F800) go again to 0x20800. Everything else is
    zero: [0x10000, 0x10400), [0x1FC00, 0x20000) and [0x2FC00, 0x30000).
    """
    if len(data) != SD616_FILE:
        raise ValueError(f"an SD-616 file is exactly {SD616_FILE:#x} bytes, not {len(data):#x}")
    out = bytearray(SD616_IMAGE)
    out[0x00000:0x10000] = data[0x00000:0x10000]
    out[0x10400:0x1FC00] = data[0x10000:0x1F800]
    out[0x20000:0x20800] = data[0x1F800:0x20000]
    out[0x20800:0x2FC00] = data[0x10400:0x1F800]
    return bytes(out)


def is_sd616(identity: Identity) -> bool:
    return (squeeze(identity.vendor), squeeze(identity.product)) in {
        (squeeze(v), squeeze(p)) for v, p in SD616_DRIVES
    }


def vendor_flash_cdb(state: int) -> bytes:
    """``FF 00 01 00 00 SS`` padded to 12 bytes: MediaTek's TSST/MT1939 download command."""
    return bytes([OPCODE, 0x00, 0x01, 0x00, 0x00, state]) + bytes(6)


def vendor_flash_steps(data: bytes, chunk: int, end_state: int) -> list[Step]:
    """Chunks with the state byte walking first / continue / end, the last one committing.

    As redumper's ``flash_tsst``: the first chunk is always state 00, even when
    it is also the last (a one-chunk image gets no end state).
    """
    offsets = list(range(0, len(data), chunk))
    steps = []
    for index, offset in enumerate(offsets):
        last = index == len(offsets) - 1
        state = FIRST if index == 0 else end_state if last else CONTINUE
        steps.append(
            Step(
                label=f"chunk {index + 1}/{len(offsets)} at {offset:#08x} (state {state:02X})",
                cdb=vendor_flash_cdb(state),
                data=data[offset : offset + chunk],
                timeout=CHUNK_TIMEOUT,
                commit=last,
            )
        )
    return steps


class TsstFamily(Family):
    name = "tsst"
    title = "TSST MediaTek DVD-ROM"
    source = "redumper drive/flash_tsst.ixx, drive/flash_sd616.ixx, scsi/cmd.ixx"
    no_backup_reason = "no public command reads a TSST drive's flash"
    settle_seconds = 10.0
    ready_timeout = 120.0

    def prepare(self, drive: Drive, data: bytes) -> bytes:
        """The bytes redumper would send to this drive; refuse a size it would not take."""
        who = f"{drive.identity.vendor.strip()} {drive.identity.product.strip()}"
        if is_sd616(drive.identity):
            if len(data) != SD616_FILE:
                raise Refused(
                    f"{who} takes a {SD616_FILE // 1024} KiB file (redumper flash::sd616), "
                    f"this one is {len(data)} bytes; nothing was sent"
                )
            return sd616_layout(data)
        if len(data) != IMAGE_256K:
            raise Refused(
                f"{who} takes a 256 KiB image (redumper flash::mt1339 ends it with state 04), "
                f"this one is {len(data)} bytes; 128 KiB files are the SD-616's; nothing was sent"
            )
        return data

    def flash_steps(self, data: bytes, identity: Identity) -> list[Step]:
        if is_sd616(identity):
            return vendor_flash_steps(data, SD616_CHUNK, END_128K)
        return vendor_flash_steps(data, CHUNK, END_256K)
