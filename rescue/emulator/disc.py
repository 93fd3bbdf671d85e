"""The medium in an emulated drive: its sectors, and where it is damaged.

User data comes from an image file (an ISO, read on demand so a 4 GB image
costs nothing) or from a generated pattern whose every sector names its own
LBA, so a scan or a read-back can check it got the sector it asked for.
Damage is modelled as LBA ranges that cannot be read (the drive answers
3/11/00), ranges that read slowly (the drive retries, taking seconds), and
weak ranges: sectors whose CD layer needs more than the CIRC decoder can fix,
so READ CD flags bytes in its C2 error pointers, while the sector's own
error correction still gives the right user data to a plain READ.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum

SECTOR = 2048
PATTERN_TAG = b"RESC"
DEFAULT_PATTERN_SECTORS = 16 * 1024 * 1024 // SECTOR  # 16 MiB
DEFAULT_SLOW_SECONDS = 2.0
RAW_SECTOR = 2352  # bytes of a CD sector the C2 pointers cover, one bit each (MMC-6 6.19)
WEAK_C2_BASE = 8  # a weak sector flags 8..23 bytes, varying with its LBA (see c2_errors)


class MediaKind(StrEnum):
    CD = "cd"
    DVD = "dvd"


def pattern_sector(lba: int) -> bytes:
    """The generated content of sector ``lba``: its LBA (big-endian) and a tag, repeated."""
    return (lba.to_bytes(4, "big") + PATTERN_TAG) * (SECTOR // 8)


@dataclass
class Disc:
    """A readable disc: ``sectors`` long, CD or DVD, optionally backed by ``image``."""

    kind: MediaKind = MediaKind.DVD
    sectors: int = DEFAULT_PATTERN_SECTORS
    image: str | None = None
    unreadable: list[range] = field(default_factory=list)
    slow: list[tuple[range, float]] = field(default_factory=list)
    weak: list[range] = field(default_factory=list)

    @classmethod
    def from_image(cls, path: str, kind: MediaKind) -> Disc:
        """A disc whose user data is the file at ``path`` (zero-padded to whole sectors)."""
        size = os.path.getsize(path)
        if size == 0:
            raise ValueError(f"disc image {path} is empty")
        return cls(kind=kind, sectors=-(-size // SECTOR), image=path)

    def is_readable(self, lba: int) -> bool:
        return not any(lba in r for r in self.unreadable)

    def c2_errors(self, lba: int) -> int:
        """Bytes the C2 pointers flag in sector ``lba``: none unless the sector is weak.

        The count differs from one weak sector to the next so a host that
        counts per sector can be told apart from one that counts per block.
        """
        if not any(lba in r for r in self.weak):
            return 0
        return WEAK_C2_BASE + lba % 16

    def first_unreadable(self, lba: int, count: int) -> int | None:
        """The lowest unreadable LBA in ``[lba, lba + count)``, or None."""
        hits = [
            max(r.start, lba) for r in self.unreadable if r.start < lba + count and r.stop > lba
        ]
        return min(hits) if hits else None

    def delay(self, lba: int, count: int) -> float:
        """Model seconds a read of ``[lba, lba + count)`` takes beyond normal (the worst range)."""
        return max((s for r, s in self.slow if r.start < lba + count and r.stop > lba), default=0.0)

    def read(self, lba: int, count: int) -> bytes:
        """User data of ``count`` sectors from ``lba``; the caller has checked bounds."""
        if self.image is None:
            return b"".join(pattern_sector(n) for n in range(lba, lba + count))
        with open(self.image, "rb") as f:
            f.seek(lba * SECTOR)
            data = f.read(count * SECTOR)
        return data.ljust(count * SECTOR, b"\0")
