"""Pioneer DVR drives: two parts, a "Kernel" and a "Normal" firmware.

Public source: DVRFlash (``rpc1dev/DVRFlash`` ``DVRFlash.cpp``), read for facts
only: the part type is the text "Kernel" or "Normal" at 0x110; the INQUIRY
vendor+product (24 bytes) sits at 0x60 and the kernel type at 0xD0; a kernel is
64 KiB (DVR-106 to 108) or 128 KiB (DVR-109); a normal part is 1 MiB, or at least
0x128000 bytes for the DVR-109; nothing larger than 2 MiB. DVRFlash checks no
checksum, so none is known here; the revision's place is not documented either.
"""

from __future__ import annotations

from rescue.firmware.fields import read_text_fields, text_field
from rescue.firmware.model import Analysis, Checksum, Identity

FAMILY = "pioneer"
TITLE = "Pioneer DVR (kernel / normal parts)"
PART_AT = 0x110
PARTS = (b"Kernel", b"Normal")
IDENTITY_FIELDS = {"vendor": (0x60, 8), "product": (0x68, 16)}
KERNEL_TYPE = (0xD0, 8)
KERNEL_SIZES = (0x10000, 0x20000)
NORMAL_SIZE = 0x100000
NORMAL_109_MIN = 0x128000
MAX_SIZE = 0x200000


def recognise(data: bytes) -> bool | None:
    return data[PART_AT : PART_AT + 6] in PARTS


def _size_problem(part: str, size: int) -> str | None:
    if part == "Kernel" and size not in KERNEL_SIZES:
        return f"size {size} bytes, a Pioneer kernel part is 65536 or 131072"
    if part == "Normal" and not (size == NORMAL_SIZE or NORMAL_109_MIN <= size <= MAX_SIZE):
        return (
            f"size {size} bytes, a Pioneer normal part is 1048576, "
            f"or {NORMAL_109_MIN} to {MAX_SIZE} for the DVR-109"
        )
    return None


def analyse(data: bytes) -> Analysis:
    values, problems = read_text_fields(data, IDENTITY_FIELDS, "header")
    part_raw = data[PART_AT : PART_AT + 6]
    extra: dict[str, str] = {}
    if part_raw in PARTS:
        part = part_raw.decode("ascii")
        extra["part"] = part
        size_problem = _size_problem(part, len(data))
        if size_problem:
            problems.append(size_problem)
    else:
        problems.append("no 'Kernel' or 'Normal' part marker at 0x110: not a Pioneer part")
    kernel_type = text_field(data, *KERNEL_TYPE)
    if kernel_type:
        extra["kernel_type"] = kernel_type
    notes = [
        "no checksum rule is publicly known for Pioneer images (DVRFlash checks none)",
        "firmware revision and date are not in a documented place in Pioneer images",
    ]
    return Analysis(Identity(**values, extra=extra), Checksum(None), problems, notes)
