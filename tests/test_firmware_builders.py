"""Test-side builders of firmware images, written from the public layout facts.

They deliberately do not use rescue.firmware (nor rescue.emulator): checksums and
field positions are computed here a second time, so a wrong constant in the
library shows up as a failing test instead of agreeing with itself.
"""

from __future__ import annotations

MIB = 0x100000


def filler(size: int, seed: int = 7) -> bytearray:
    """Deterministic non-constant bytes (no 05 80 00 run, so no stray INQUIRY block)."""
    return bytearray((i * 7 + seed + (i >> 9)) & 0x7F | 0x08 for i in range(size))


def pad(text: str, width: int) -> bytes:
    return text.encode("ascii").ljust(width, b" ")


def btc_image(
    vendor: str = "BTC",
    product: str = "DVDRW IDE1004",
    revision: str = "0050",
    date: str = "2005/03/14 10:00",
    block_at: int = 0x40B4,
) -> bytes:
    """A 1 MiB MT1x08 image: banks starting 0x02/0x80, canned INQUIRY block at ``block_at``."""
    data = filler(MIB)
    for bank in range(16):
        data[bank * 0x10000] = 0x02 if bank % 2 == 0 else 0x80
    block = bytes([0x05, 0x80, 0x00, 0x32, 0x5B, 0, 0, 0])
    block += pad(vendor, 8) + pad(product, 16) + pad(revision, 4) + pad(date, 16)
    data[block_at : block_at + len(block)] = block
    return bytes(data)


def hex_line(offset: int, kind: int, payload: bytes = b"") -> str:
    body = bytes([len(payload), offset >> 8, offset & 0xFF, kind]) + payload
    return ":" + (body + bytes([(-sum(body)) & 0xFF])).hex().upper()


def btc_hex_lines(image: bytes, width: int = 16, skip_blank: bool = True) -> list[str]:
    """BTC .HEX rendering: data records per bank, ':00000155AA' between banks, end record."""
    lines: list[str] = []
    for bank in range(len(image) // 0x10000):
        if bank:
            lines.append(":00000155AA")
        base = bank * 0x10000
        for offset in range(0, 0x10000, width):
            chunk = image[base + offset : base + offset + width]
            if skip_blank and chunk == b"\xff" * len(chunk):
                continue
            lines.append(hex_line(offset, 0x00, chunk))
    lines.append(":00000001FF")
    return lines


def to_text(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def sparse_btc_image() -> bytes:
    """Mostly-0xFF 1 MiB image (only bank heads written): a small .HEX for fuzzing."""
    data = bytearray(b"\xff" * MIB)
    for bank in range(16):
        data[bank * 0x10000 : bank * 0x10000 + 4] = bytes([0x02, bank, 0x00, 0x10])
    return bytes(data)


def mt1939_image(
    vendor: str = "TSSTcorp", product: str = "BDDVDW SE-506CB", revision: str = "TS01"
) -> bytes:
    data = filler(2 * MIB, seed=3)
    data[0x1FFFD0:0x1FFFEC] = pad(vendor, 8) + pad(product, 16) + pad(revision, 4)
    total = sum(data[0x10000:0x1E2000]) & 0xFFFF
    data[0x1FFFFE:0x200000] = total.to_bytes(2, "big")
    return bytes(data)


def plextor_image(
    product: str = "DVDR   PX-716A ", size: int = 0xF0000, sum_at: int = 0xEFFFE, initial: int = 0
) -> bytes:
    data = filler(size, seed=11)
    data[0:24] = b"PLEXTOR " + pad(product, 16)
    total = (initial + sum(data[:sum_at])) & 0xFFFF
    data[sum_at : sum_at + 2] = total.to_bytes(2, "big")
    return bytes(data)


def pioneer_part(
    part: str = "Normal",
    size: int = MIB,
    product: str = "DVD-RW  DVR-108",
    generation: str = "0008",
) -> bytes:
    data = filler(size, seed=5)
    data[0x60:0x78] = pad("PIONEER", 8) + pad(product, 16)
    data[0xB0:0xB9] = b"ATA " + generation.encode("ascii") + b"\0"
    data[0xD0:0xD8] = pad("GENERAL", 8)
    data[0x110:0x116] = part.encode("ascii")
    return bytes(data)
