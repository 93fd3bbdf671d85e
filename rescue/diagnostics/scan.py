"""The surface scan engine: read the disc block by block, pin down every bad sector.

Strategy (the one ddrescue's manual describes for its first passes, done
with plain READ(10)): read big blocks for speed; a block that fails is marked
non-trimmed and re-read one sector at a time, each with a bounded number of
retries, so the bad ranges come out exact to the sector without hammering a
scratched zone. Progress lives in a per-sector status array using the
mapfile's characters, so an interrupted scan keeps all it learnt and a
mapfile from an earlier run says which areas to skip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from rescue.diagnostics import mapfile as mf
from rescue.drive import Drive
from rescue.scsi.sense import SenseError

SECTOR = 2048
DEFAULT_BLOCK = 32
DEFAULT_RETRIES = 1
ZONES = 16  # speed is reported per sixteenth of the scanned range
SLOW_SECONDS = 1.0  # a block taking longer than this is reported as slow
CTRL_C = "interrupted (Ctrl-C)"
NOT_READY = 0x2  # sense key: the disc went away (ejected, drive reset); every read would fail


@dataclass(frozen=True)
class SectorRange:
    first: int
    count: int
    detail: str | None  # the sense triple of a bad range (None: known from an earlier run)
    seconds: float = 0.0  # drive time spent reading it (slow ranges)

    @property
    def last(self) -> int:
        return self.first + self.count - 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "first": self.first,
            "last": self.last,
            "count": self.count,
            "detail": self.detail,
            "seconds": self.seconds,
        }


@dataclass
class Zone:
    first: int
    count: int
    bytes_read: int = 0
    seconds: float = 0.0

    @property
    def kib_per_second(self) -> float | None:
        return self.bytes_read / 1024 / self.seconds if self.seconds > 0 else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "first": self.first,
            "count": self.count,
            "bytes_read": self.bytes_read,
            "seconds": self.seconds,
            "kib_per_second": self.kib_per_second,
        }


@dataclass
class ScanResult:
    start: int
    end: int  # exclusive
    status: bytearray  # one mapfile status character per sector of the whole disc
    triples: dict[int, str] = field(default_factory=dict)  # bad LBA -> sense triple
    slow: list[SectorRange] = field(default_factory=list)
    zones: list[Zone] = field(default_factory=list)
    position: int = 0  # where the scan stopped (== end when complete)
    interrupted: bool = False
    stopped_by: str | None = None  # why the scan ended early: Ctrl-C or the drive's sense
    sectors_read_now: int = 0  # sectors this run actually asked the drive for

    @property
    def bad(self) -> list[SectorRange]:
        """Bad ranges over the whole map (earlier runs included), split where the sense differs."""
        out: list[SectorRange] = []
        lba = 0
        for code, run in groupby(self.status):
            n = sum(1 for _ in run)
            if code == ord(mf.BAD_SECTOR):
                for triple, same in groupby(range(lba, lba + n), key=self.triples.get):
                    lbas = list(same)
                    out.append(SectorRange(lbas[0], len(lbas), triple))
            lba += n
        return out

    def mapfile(self) -> mf.Mapfile:
        return mf.from_sectors(self.status, SECTOR, self.position)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end - 1,
            "sector_size": SECTOR,
            "complete": not self.interrupted,
            "stopped_at": self.position,
            "stopped_by": self.stopped_by,
            "sectors_read_now": self.sectors_read_now,
            "bad": [r.to_dict() for r in self.bad],
            "slow": [r.to_dict() for r in self.slow],
            "zones": [z.to_dict() for z in self.zones],
        }


Progress = Callable[[int], None]  # called with the number of sectors just dealt with


class Scanner:
    def __init__(
        self,
        drive: Drive,
        *,
        block: int = DEFAULT_BLOCK,
        retries: int = DEFAULT_RETRIES,
        slow_seconds: float = SLOW_SECONDS,
    ) -> None:
        self.drive = drive
        self.block = block
        self.retries = retries
        self.slow_seconds = slow_seconds

    def run(self, result: ScanResult, progress: Progress | None = None) -> ScanResult:
        """Scan ``[result.start, result.end)``; Ctrl-C ends the scan, keeping what was learnt."""
        span = result.end - result.start
        size = max(1, -(-span // ZONES))
        result.zones = [
            Zone(z, min(size, result.end - z)) for z in range(result.start, result.end, size)
        ]
        result.position = result.start
        try:
            for lba in range(result.start, result.end, self.block):
                count = min(self.block, result.end - lba)
                for first, n in _pending_runs(result.status, lba, count):
                    self._read_run(result, first, n)
                result.position = lba + count
                if progress:
                    progress(count)
        except KeyboardInterrupt:
            result.interrupted, result.stopped_by = True, CTRL_C
        except SenseError as err:  # only "not ready" escapes _read_run: the disc is gone
            result.interrupted, result.stopped_by = True, err.message
        return result

    def _timed_read(self, lba: int, count: int) -> float:
        started = self.drive.now()
        self.drive.read10(lba, count)
        return self.drive.now() - started

    def _read_run(self, result: ScanResult, lba: int, count: int) -> None:
        result.sectors_read_now += count
        try:
            seconds = self._timed_read(lba, count)
        except SenseError as err:
            _stop_if_not_ready(err)
            result.status[lba : lba + count] = mf.NON_TRIMMED.encode() * count
            self._trim(result, lba, count)
            return
        result.status[lba : lba + count] = mf.FINISHED.encode() * count
        zone = result.zones[(lba - result.start) // result.zones[0].count]
        zone.bytes_read += count * SECTOR
        zone.seconds += seconds
        if seconds > self.slow_seconds:
            _add_slow(result.slow, SectorRange(lba, count, None, seconds))

    def _trim(self, result: ScanResult, lba: int, count: int) -> None:
        """Re-read a failed block sector by sector, each up to 1 + retries times."""
        for sector in range(lba, lba + count):
            for attempt in range(1 + self.retries):
                try:
                    self._timed_read(sector, 1)
                except SenseError as err:
                    _stop_if_not_ready(err)
                    if attempt == self.retries:
                        result.status[sector] = ord(mf.BAD_SECTOR)
                        result.triples[sector] = err.triple or "no sense"
                    continue
                result.status[sector] = ord(mf.FINISHED)
                break


def _add_slow(slow: list[SectorRange], new: SectorRange) -> None:
    """Append, merging with the previous range when they touch: one slow zone, one line."""
    if slow and slow[-1].last + 1 == new.first:
        old = slow.pop()
        new = SectorRange(old.first, old.count + new.count, None, old.seconds + new.seconds)
    slow.append(new)


def _stop_if_not_ready(err: SenseError) -> None:
    """A not-ready answer says nothing about this sector: marking it bad would be a lie."""
    if err.sense is not None and err.sense.key == NOT_READY:
        raise err


def _pending_runs(status: bytearray, lba: int, count: int) -> list[tuple[int, int]]:
    """Runs inside ``[lba, lba+count)`` that are not finished yet (bad counts as tried)."""
    done = (ord(mf.FINISHED), ord(mf.BAD_SECTOR))
    runs: list[tuple[int, int]] = []
    pos = lba
    for is_done, run in groupby(status[lba : lba + count], key=lambda c: c in done):
        n = sum(1 for _ in run)
        if not is_done:
            runs.append((pos, n))
        pos += n
    return runs
