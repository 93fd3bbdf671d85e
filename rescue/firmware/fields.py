"""Fixed-position fields inside firmware images: padded ASCII text and big-endian words.

Bounds are checked here once so that no layout can raise IndexError on a short
or hostile file; a missing or unprintable field comes back as None plus a
sentence for the problem list.
"""

from __future__ import annotations

FieldSpec = dict[str, tuple[int, int]]  # name -> (offset, length)


def text_field(data: bytes, offset: int, length: int) -> str | None:
    """ASCII text padded with spaces or NULs as INQUIRY pads it; None if absent or unprintable."""
    raw = data[offset : offset + length]
    if offset < 0 or len(raw) != length:
        return None
    body = raw.rstrip(b"\x00 ")
    if not body or any(b < 0x20 or b > 0x7E for b in body):
        return None
    return body.decode("ascii")


def read_text_fields(
    data: bytes, spec: FieldSpec, where: str
) -> tuple[dict[str, str | None], list[str]]:
    """Read every field of ``spec``; each unreadable one yields a problem naming its offset."""
    values: dict[str, str | None] = {}
    problems: list[str] = []
    for name, (offset, length) in spec.items():
        value = text_field(data, offset, length)
        values[name] = value
        if value is None:
            problems.append(
                f"{name} field ({length} bytes at 0x{offset:X}, {where}) "
                "is empty or not printable text"
            )
    return values, problems


def be16(data: bytes, offset: int) -> int | None:
    """Big-endian 16-bit word at ``offset``, or None past the end of ``data``."""
    if offset < 0 or offset + 2 > len(data):
        return None
    return int.from_bytes(data[offset : offset + 2], "big")


def sum16(data: bytes, start: int = 0, end: int | None = None, initial: int = 0) -> int:
    """Additive checksum masked to 16 bits: the rule of every family documented so far
    (BTC, MT1939, Plextor). Not a CRC, so crcmod has no part in it."""
    return (initial + sum(memoryview(data)[start:end])) & 0xFFFF
