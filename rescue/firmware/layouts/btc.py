"""BTC DRW-1004IM / DRW-1008 on MediaTek MT1x08: the 1 MiB image.

Public sources (facts only; see docs/protocols.md): btcflash (dvd+rw-tools /
cdrtools ``btcflash.c``) for the size and the 16-bit sum of all bytes;
OmniPatcher (``rpc1dev/omnipatcher`` ``fw_mtk.pl``) for the canned INQUIRY
block found by pattern at or after 0x4000 (normally at 0x40B4, putting vendor at
0x40BC, product at 0x40C4, revision at 0x40D4, then a 16-byte date) and for the
rule that every 64 KiB bank starts with 0x02 (8051 LJMP) or 0x80.
"""

from __future__ import annotations

from rescue.firmware.fields import read_text_fields, sum16
from rescue.firmware.model import Analysis, Checksum, Identity

FAMILY = "btc"
TITLE = "BTC / MediaTek MT1x08 (1 MiB)"
IMAGE_SIZE = 0x100000
BANK_SIZE = 0x10000
BANK_FIRST_BYTES = (0x02, 0x80)
SEARCH_FROM = 0x4000
USUAL_BLOCK_AT = 0x40B4
# Canned INQUIRY header: device type 05, removable, version 00, format 31|32, length 1F|5B.
BLOCK_PATTERNS = tuple(bytes([0x05, 0x80, 0x00, f, n]) for f in (0x31, 0x32) for n in (0x1F, 0x5B))
IDENTITY_FIELDS = {"vendor": (8, 8), "product": (16, 16), "revision": (32, 4), "date": (36, 16)}


def recognise(data: bytes) -> bool | None:
    """MT1x08 is the only documented family whose image is exactly 1 MiB (Pioneer's
    1 MiB "Normal" part is told apart by its own marker, tried first)."""
    return len(data) == IMAGE_SIZE


def find_inquiry_block(data: bytes) -> int | None:
    """Offset of the first canned INQUIRY block at or after 0x4000, as OmniPatcher looks for it."""
    hits = [at for p in BLOCK_PATTERNS if (at := data.find(p, SEARCH_FROM)) >= 0]
    return min(hits) if hits else None


def _identity(data: bytes) -> tuple[Identity, list[str], list[str]]:
    block = find_inquiry_block(data)
    if block is None:
        return Identity(), ["no canned INQUIRY block (05 80 00 31|32 1F|5B) at or after 0x4000"], []
    spec = {name: (block + off, size) for name, (off, size) in IDENTITY_FIELDS.items()}
    values, problems = read_text_fields(data, spec, "identity")
    notes = (
        []
        if block == USUAL_BLOCK_AT
        else [f"INQUIRY block found at 0x{block:X} (usually 0x{USUAL_BLOCK_AT:X})"]
    )
    return Identity(**values), problems, notes


def _bank_problems(data: bytes) -> list[str]:
    return [
        f"bank {bank} (0x{bank * BANK_SIZE:06X}) starts with 0x{data[bank * BANK_SIZE]:02X}, "
        "not 0x02 or 0x80: missing or corrupt bank"
        for bank in range(len(data) // BANK_SIZE)
        if data[bank * BANK_SIZE] not in BANK_FIRST_BYTES
    ]


def analyse(data: bytes) -> Analysis:
    if len(data) != IMAGE_SIZE:
        return Analysis(
            Identity(),
            Checksum("sum16 of all bytes"),
            [f"size {len(data)} bytes, a BTC MT1x08 image is exactly {IMAGE_SIZE} (1 MiB)"],
            [],
        )
    identity, problems, notes = _identity(data)
    checksum = Checksum("sum16 of all bytes", value=sum16(data))
    notes.append(
        "checksum is not stored in the image: the flasher sends it in the WRITE BUFFER header"
    )
    return Analysis(identity, checksum, problems + _bank_problems(data), notes)
