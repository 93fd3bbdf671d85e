"""TSST (Toshiba-Samsung) MediaTek DVD-ROM drives and the Samsung SD-616: 256 / 128 KiB files.

Public source: redumper, ``superg/redumper`` ``drive/flash_tsst.ixx``
(``redumper_flash_tsst``: the end state it sends is named END_256KB) and
``drive/flash_sd616.ixx`` (``redumper_flash_sd616``: refuses any file that is
not exactly 0x20000 bytes). Those two sizes are the only facts; which one a
drive takes is decided by the family (``rescue.families.tsst``) from the
drive's identity. No identity location and no checksum rule are public: both
are reported as unknown rather than guessed (docs/families/tsst.md).
"""

from __future__ import annotations

from rescue.firmware.model import Analysis, Checksum, Identity

FAMILY = "tsst"
TITLE = "TSST MediaTek DVD-ROM (128 / 256 KiB)"
IMAGE_SIZES = (0x20000, 0x40000)


def recognise(data: bytes) -> bool | None:
    return len(data) in IMAGE_SIZES


def analyse(data: bytes) -> Analysis:
    problems = (
        []
        if len(data) in IMAGE_SIZES
        else [f"size {len(data)} bytes, a TSST image is 131072 or 262144"]
    )
    notes = [
        "identity is not in a documented place in TSST images: match the drive by other means",
        "no checksum rule is publicly known for TSST images",
    ]
    return Analysis(Identity(), Checksum(None), problems, notes)
