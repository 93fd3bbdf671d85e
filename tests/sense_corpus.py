"""Sense buffers built from their fields, and a deterministic corpus of them.

The builders lay bytes out by SPC-4 clause 4.5 independently of the decoder
under test (they write where the decoder reads), so a test can state the
fields it expects instead of hard-coding byte strings. ``corpus()`` spreads
cases over all 16 sense keys, both formats, current and deferred, named ASC
pairs, the patterned 40h/4Dh/70h entries, vendor-specific ASC and ASCQ ranges
and reserved pairs; it is what the sg3_utils cross-check runs over.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from rescue.scsi.asc_table import VENDOR_FIRST, is_known


def sks_bytes(value: int, *, flags: int = 0) -> bytes:
    """Three sense-key-specific bytes with SKSV set: ``flags`` in byte 0, ``value`` after."""
    return bytes([0x80 | flags]) + value.to_bytes(2, "big")


def fixed(
    key: int,
    asc: int,
    ascq: int,
    *,
    deferred: bool = False,
    information: int | None = None,
    flags: int = 0,
    sks: bytes = b"\0\0\0",
) -> bytes:
    raw = bytearray(18)
    raw[0] = (0x71 if deferred else 0x70) | (0x80 if information is not None else 0)
    raw[2] = flags | key
    raw[3:7] = (information or 0).to_bytes(4, "big")
    raw[7] = 10
    raw[12], raw[13] = asc, ascq
    raw[15:18] = sks
    return bytes(raw)


def descriptor(
    key: int,
    asc: int,
    ascq: int,
    *,
    deferred: bool = False,
    information: int | None = None,
    sks: bytes | None = None,
    stream_flags: int | None = None,
) -> bytes:
    body = b""
    if information is not None:
        body += bytes([0x00, 0x0A, 0x80, 0x00]) + information.to_bytes(8, "big")
    if sks is not None:
        body += bytes([0x02, 0x06, 0x00, 0x00]) + sks + b"\0"
    if stream_flags is not None:
        body += bytes([0x04, 0x02, 0x00, stream_flags])
    header = bytes([0x73 if deferred else 0x72, key, asc, ascq, 0, 0, 0, len(body)])
    return header + body


@dataclass(frozen=True)
class Case:
    raw: bytes
    format: str
    deferred: bool
    key: int
    asc: int
    ascq: int
    information: int | None
    category: str


def _pick(rng: random.Random, category: str) -> tuple[int, int]:
    """An ASC/ASCQ pair of the given kind, drawn until it has that kind."""
    while True:
        if category == "vendor-asc":
            return rng.randrange(VENDOR_FIRST, 0x100), rng.randrange(0x100)
        if category == "pattern":
            asc = rng.choice((0x40, 0x41, 0x42, 0x4D, 0x70))
            ascq = rng.randrange(0x01, 0x100)
        else:
            asc = rng.randrange(VENDOR_FIRST)
            low = category != "vendor-ascq"
            ascq = rng.randrange(0, VENDOR_FIRST) if low else rng.randrange(VENDOR_FIRST, 0x100)
        known = is_known(asc, ascq)
        if category in ("named", "pattern") and known:
            return asc, ascq
        if category in ("vendor-ascq", "reserved") and not known:
            return asc, ascq


CATEGORIES = ("named", "named", "named", "named", "pattern", "vendor-asc", "vendor-ascq",
              "reserved")


def corpus(size: int = 256, seed: int = 0x5E45E) -> list[Case]:
    rng = random.Random(seed)
    cases = []
    for i in range(size):
        key = i % 16
        fmt = "fixed" if (i // 16) % 2 == 0 else "descriptor"
        deferred = (i // 32) % 2 == 1
        category = CATEGORIES[(i // 3) % len(CATEGORIES)]
        asc, ascq = _pick(rng, category)
        information = rng.randrange(1 << 32) if rng.random() < 0.4 else None
        if fmt == "fixed":
            raw = fixed(key, asc, ascq, deferred=deferred, information=information)
        else:
            raw = descriptor(key, asc, ascq, deferred=deferred, information=information)
        cases.append(Case(raw, fmt, deferred, key, asc, ascq, information, category))
    return cases
