"""MediaTek MT1939 (TSST SE-506CB Blu-ray): the 2 MiB image.

Public source: ``rbdixon/coastermelt`` ``doc/update-ts01-notes.txt`` and
``flasher/checksum.py`` (facts in docs/protocols.md). The first 64 KiB is the
write-protected bootloader; the 48-byte trailer at 0x1FFFD0 starts with the
28-byte INQUIRY identity (vendor 8, product 16, revision 4); the checksum is the
16-bit sum of [0x10000, 0x1E2000) stored big-endian at 0x1FFFFE. The trailer's
remaining bytes have no public meaning and are left alone
(docs/families/mt1939.md).
"""

from __future__ import annotations

from rescue.firmware.fields import be16, read_text_fields, sum16
from rescue.firmware.layouts import mt1959
from rescue.firmware.model import Analysis, Checksum, Identity

FAMILY = "mt1939"
TITLE = "MediaTek MT1939 (2 MiB)"
IMAGE_SIZE = 0x200000
SUM_START = 0x10000
SUM_END = 0x1E2000
SUM_AT = 0x1FFFFE
TRAILER = 0x1FFFD0
IDENTITY_FIELDS = {
    "vendor": (TRAILER, 8),
    "product": (TRAILER + 8, 16),
    "revision": (TRAILER + 24, 4),
}
ALGORITHM = "sum16 of [0x10000, 0x1E2000), stored big-endian at 0x1FFFFE"


def recognise(data: bytes) -> bool | None:
    """2 MiB, unless the MT1959 configuration id sits at 0x3000: that content
    signature wins over the bare size (MT1959 images may be 2 MiB too)."""
    return len(data) == IMAGE_SIZE and not mt1959.recognise(data)


def compute_checksum(data: bytes) -> int:
    return sum16(data, SUM_START, SUM_END)


def analyse(data: bytes) -> Analysis:
    if len(data) != IMAGE_SIZE:
        return Analysis(
            Identity(),
            Checksum(ALGORITHM),
            [f"size {len(data)} bytes, an MT1939 image is exactly {IMAGE_SIZE} (2 MiB)"],
            [],
        )
    values, problems = read_text_fields(data, IDENTITY_FIELDS, "trailer")
    value, expected = compute_checksum(data), be16(data, SUM_AT)
    checksum = Checksum(ALGORITHM, value, expected, SUM_AT, value == expected)
    if value != expected:
        problems.append(
            f"checksum mismatch: computed 0x{value:04X}, "
            f"image stores 0x{expected:04X} at 0x{SUM_AT:X}"
        )
    notes = [
        "the drive appears to ignore the first 64 KiB (its write-protected bootloader)",
        "no firmware date is kept in a documented place",
    ]
    return Analysis(Identity(**values), checksum, problems, notes)
