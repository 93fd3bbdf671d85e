"""TSST (Toshiba-Samsung) MediaTek-based DVD-ROM drives: 128 KiB or 256 KiB images.

Public source: redumper ``drive/flash_tsst.ixx`` (facts in docs PROTOCOLS.md):
the only facts are the two image sizes, which select the end-of-image state
byte. No identity location and no checksum rule are public: both are reported
as unknown rather than guessed.
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
