"""Pioneer DVR drives: two parts, a "Kernel" and a "Normal" firmware.

Public source: DVRFlash 2.2b (``rpc1dev/DVRFlash`` @ 8ccb1b7d, ``DVRFlash.cpp``
``main()``), read for facts only; docs/families/pioneer.md has them all.
What DVRFlash reads in a file: the part type, the text "Kernel" or "Normal"
at 0x110 (anything else: "Invalid Pioneer firmware"); the drive's INQUIRY
vendor+product (24 bytes) at 0x60; the interface ("ATA ") at 0xB0; the
generation as decimal digits at 0xB4 (read with atoi); the kernel type at
0xD0. The size it demands depends on the generation (the drive's, which must
equal the image's): generations up to 8 and 52-62 (DVR-103 to 108 and the
K-series of that era) take a 64 KiB kernel and a Normal part of exactly
1 MiB; generations 9-11 and 64 on (DVR-109/110 family) a 128 KiB kernel and a
Normal part of at least 0x128000 bytes. DVRFlash reads at most 2 MiB of a
file; a longer one is refused here. DVRFlash checks no checksum, so none is
known here; the revision's place is not documented either.
"""

from __future__ import annotations

import re

from rescue.firmware.fields import read_text_fields, text_field
from rescue.firmware.model import Analysis, Checksum, Identity

FAMILY = "pioneer"
TITLE = "Pioneer DVR (kernel / normal parts)"
PART_AT = 0x110
PARTS = (b"Kernel", b"Normal")
IDENTITY_FIELDS = {"vendor": (0x60, 8), "product": (0x68, 16)}
INTERFACE = (0xB0, 4)
GENERATION_AT = 0xB4
KERNEL_TYPE = (0xD0, 8)
KERNEL_SIZE, KERNEL_109_SIZE = 0x10000, 0x20000
NORMAL_SIZE = 0x100000
NORMAL_109_MIN = 0x128000
MAX_SIZE = 0x200000  # DVRFlash MAX_SIZE: it reads no more of a file


def recognise(data: bytes) -> bool | None:
    return data[PART_AT : PART_AT + 6] in PARTS


def generation_of(data: bytes) -> int | None:
    """The generation at 0xB4 as DVRFlash's atoi reads it; None without leading digits."""
    found = re.match(rb"[ \t]*([+-]?\d+)", data[GENERATION_AT : GENERATION_AT + 16])
    return int(found.group(1)) if found else None


def is_109_family(generation: int) -> bool:
    """DVRFlash's larger-flash generations: 9-11 (DVR-109/110) and 64 on (K15, K05)."""
    return 9 <= generation <= 11 or generation >= 64


def size_problem(part: str, generation: int, size: int) -> str | None:
    """DVRFlash's size rule for ``part`` of a generation ``generation`` drive."""
    big = is_109_family(generation)
    if size > MAX_SIZE:
        return f"size {size} bytes: DVRFlash reads at most {MAX_SIZE} bytes of a file"
    if part == "Kernel":
        want = KERNEL_109_SIZE if big else KERNEL_SIZE
        if size != want:
            return f"size {size} bytes, a generation {generation} kernel part is {want}"
    elif big and size < NORMAL_109_MIN:
        return (
            f"size {size} bytes, a generation {generation} Normal part is at least {NORMAL_109_MIN}"
        )
    elif not big and size != NORMAL_SIZE:
        return f"size {size} bytes, a generation {generation} Normal part is {NORMAL_SIZE}"
    return None


def analyse(data: bytes) -> Analysis:
    values, problems = read_text_fields(data, IDENTITY_FIELDS, "header")
    part_raw = data[PART_AT : PART_AT + 6]
    extra: dict[str, str] = {}
    generation = generation_of(data)
    interface = data[INTERFACE[0] : INTERFACE[0] + INTERFACE[1]]
    if interface != b"ATA ":
        problems.append(
            f"interface at 0x{INTERFACE[0]:X} is {interface!r}, DVRFlash serves 'ATA ' drives only"
        )
    if generation is None:
        problems.append(
            f"no generation digits at 0x{GENERATION_AT:X}: no drive's generation can match it"
        )
    else:
        extra["generation"] = str(generation)
    if part_raw in PARTS:
        part = part_raw.decode("ascii")
        extra["part"] = part
        problem = size_problem(part, generation, len(data)) if generation is not None else None
        if problem:
            problems.append(problem)
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
