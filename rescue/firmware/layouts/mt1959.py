"""LG / ASUS Blu-ray drives on MediaTek MT1959.

Public source: redumper ``drive/flash_mt1959.ixx`` (facts in docs PROTOCOLS.md).
What is public is how an image is prepared, not how one is recognised: the
flasher fills the first 64 KiB with 0xFF and copies the drive's own 32-byte
configuration block (read back from the drive at 0x3000) into the image at
0x3000. No size, identity location or checksum is documented, so this layout
never claims a file by itself; it applies only when the caller names the family.
"""

from __future__ import annotations

from rescue.firmware.model import Analysis, Checksum, Identity

FAMILY = "mt1959"
TITLE = "MediaTek MT1959 Blu-ray (chosen explicitly)"
CONFIG_AT = 0x3000
CONFIG_SIZE = 0x20
BOOT_AREA = 0x10000


def recognise(data: bytes) -> bool | None:
    return None


def analyse(data: bytes) -> Analysis:
    problems = (
        []
        if len(data) > BOOT_AREA
        else [f"size {len(data)} bytes: too small to hold the 64 KiB boot area and any firmware"]
    )
    notes = [
        "MT1959 images have no public signature, identity location or checksum rule",
        "before flashing, the first 64 KiB becomes 0xFF and the drive's 32-byte "
        "configuration block is copied in at 0x3000",
    ]
    return Analysis(Identity(), Checksum(None), problems, notes)
