"""TSST (Toshiba-Samsung) MediaTek-based DVD-ROM drives: the vendor opcode 0xFF flasher.

Source: redumper, ``superg/redumper`` ``drive/flash_tsst.ixx`` and
``cmd_flash_tsst`` in ``scsi/cmd.ixx`` (PROTOCOLS.md). Facts used here:

- one 12-byte vendor command, opcode 0xFF, byte 2 = 0x01, byte 5 = the
  download state: 0x00 on the first chunk, 0xFF on every following chunk,
  and on the last chunk 0x04 for a 256 KiB image (redumper's END_256KB) or
  0x02 for a 128 KiB one;
- the image goes out in 0xFC00-byte chunks, the data carried by the command.

Not supported, said rather than guessed: newer redumper versions rearrange a
128 KiB image into a 0x30000-byte layout before sending it; that layout is
not in PROTOCOLS.md, so only 256 KiB images are flashed here. No read
command and no come-back timing are public: no backup, and the waits below
are this project's choice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rescue.families.base import Family, Identity, Step

if TYPE_CHECKING:
    from rescue.firmware import FirmwareImage

OPCODE = 0xFF
CHUNK = 0xFC00
FIRST, CONTINUE = 0x00, 0xFF
END_256K = 0x04  # redumper END_256KB (0x02 ends a 128 KiB image, unsupported here)
IMAGE_256K = 0x40000
CHUNK_TIMEOUT = 60.0  # our choice


def vendor_flash_cdb(state: int) -> bytes:
    """``FF 00 01 00 00 SS`` padded to 12 bytes: MediaTek's TSST/MT1939 download command."""
    return bytes([OPCODE, 0x00, 0x01, 0x00, 0x00, state]) + bytes(6)


def vendor_flash_steps(data: bytes, chunk: int, end_state: int) -> list[Step]:
    """Chunks with the state byte walking first / continue / end, the last one committing."""
    offsets = list(range(0, len(data), chunk))
    steps = []
    for index, offset in enumerate(offsets):
        last = index == len(offsets) - 1
        state = end_state if last else FIRST if index == 0 else CONTINUE
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
    source = "redumper drive/flash_tsst.ixx, scsi/cmd.ixx"
    no_backup_reason = "no public command reads a TSST drive's flash"
    settle_seconds = 10.0
    ready_timeout = 120.0

    def validate(self, image: FirmwareImage) -> list[str]:
        problems = super().validate(image)
        if not problems and image.size != IMAGE_256K:
            problems.append(
                "128 KiB TSST images need a layout rearrangement this tool does not implement"
            )
        return problems

    def flash_steps(self, data: bytes, identity: Identity) -> list[Step]:
        return vendor_flash_steps(data, CHUNK, END_256K)
