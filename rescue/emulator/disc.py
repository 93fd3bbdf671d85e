"""The medium in an emulated drive: its sectors, and where it is damaged.

User data comes from an image file (an ISO, read on demand so a 4 GB image
costs nothing) or from a generated pattern whose every sector names its own
LBA, so a scan or a read-back can check it got the sector it asked for.
Reads take the time a CAV drive would: the drive spins at a constant rate,
so the data rate grows with the radius, from about 43% of the top speed at
the hub (radius 25 mm) to all of it at the rim (58 mm); the radius of an LBA
follows from a spiral of constant density (a sector takes the same length
of track everywhere). That gives scans the rising speed curve real drives
show. Speeds are in the usual multiples: 1x CD = 150 KiB/s of Mode 1 user
data (Red Book 75 sectors/s), 1x DVD = 1,385,000 B/s (ECMA-267).

Damage is modelled as LBA ranges that cannot be read (the drive answers
3/11/00), ranges that read slowly (the drive retries, taking seconds), and
weak ranges: sectors whose CD layer needs more than the CIRC decoder can fix,
so READ CD flags bytes in its C2 error pointers, while the sector's own
error correction still gives the right user data to a plain READ.
"""

from __future__ import annotations

import os
from enum import StrEnum

from rescue.record import field, record

SECTOR = 2048
PATTERN_TAG = b"RESC"
DEFAULT_PATTERN_SECTORS = 16 * 1024 * 1024 // SECTOR  # 16 MiB
DEFAULT_SLOW_SECONDS = 2.0
RAW_SECTOR = 2352  # bytes of a CD sector the C2 pointers cover, one bit each (MMC-6 6.19)
WEAK_C2_BASE = 8  # a weak sector flags 8..23 bytes, varying with its LBA (see c2_errors)
HUB_MM, RIM_MM = 25.0, 58.0  # program area radii (ECMA-130, ECMA-267)
ONE_X = {"cd": 75 * SECTOR, "dvd": 1_385_000}  # bytes/s at 1x (user data)
TOP_SPEED = {"cd": 48, "dvd": 16}  # a typical writer's CAV read maximum, in x
#: 1x in the kB/s (1000 bytes) of mode page 2Ah's speed fields: MMC counts CD speed as
#: the 176.4 kB/s of audio (2352-byte sectors), DVD as 1385 kB/s.
PAGE_ONE_X_KBPS = {"cd": 176.4, "dvd": 1385.0}


def page_speed_kbps(kind: str, speed: float) -> int:
    """A speed in x of medium KIND as page 2Ah's 16-bit kB/s field holds it."""
    return min(0xFFFF, round(PAGE_ONE_X_KBPS[kind] * speed))


class MediaKind(StrEnum):
    CD = "cd"
    DVD = "dvd"


def pattern_sector(lba: int) -> bytes:
    """The generated content of sector ``lba``: its LBA (big-endian) and a tag, repeated."""
    return (lba.to_bytes(4, "big") + PATTERN_TAG) * (SECTOR // 8)


@record
class Disc:
    """A readable disc: ``sectors`` long, CD or DVD, optionally backed by ``image``."""

    kind: MediaKind = MediaKind.DVD
    sectors: int = DEFAULT_PATTERN_SECTORS
    image: str | None = None
    unreadable: list[range] = field(default_factory=list)
    slow: list[tuple[range, float]] = field(default_factory=list)
    weak: list[range] = field(default_factory=list)
    top_speed: float | None = None  # x at the rim; None: the medium's typical, 0: instant reads

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
        """Model seconds a read of ``[lba, lba + count)`` takes: transfer + the worst slow range."""
        end = lba + count
        retries = max((s for r, s in self.slow if r.start < end and r.stop > lba), default=0)
        return self.transfer_seconds(lba, count) + retries

    @property
    def speed(self) -> float:
        """Top read speed in x of this medium (0: reads take no time)."""
        return TOP_SPEED[self.kind] if self.top_speed is None else self.top_speed

    def transfer_seconds(self, lba: int, count: int) -> float:
        """Time to read ``count`` sectors at ``lba``'s radius at the CAV rate there."""
        top = self.speed
        if not top:
            return 0.0
        filled = min(1.0, (lba + count / 2) / max(1, self.sectors))
        radius = (HUB_MM**2 + (RIM_MM**2 - HUB_MM**2) * filled) ** 0.5
        rate = ONE_X[self.kind] * top * radius / RIM_MM
        return count * SECTOR / rate

    def read(self, lba: int, count: int) -> bytes:
        """User data of ``count`` sectors from ``lba``; the caller has checked bounds."""
        if self.image is None:
            return b"".join(pattern_sector(n) for n in range(lba, lba + count))
        with open(self.image, "rb") as f:
            f.seek(lba * SECTOR)
            data = f.read(count * SECTOR)
        return data.ljust(count * SECTOR, b"\0")
