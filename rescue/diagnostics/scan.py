"""The surface scan engine: read the disc block by block, pin down every bad sector.

Strategy (the one ddrescue's manual describes for its first passes): read
big blocks for speed; a block that fails is marked non-trimmed and re-read
one sector at a time, each with a bounded number of retries, so the bad
ranges come out exact to the sector without hammering a scratched zone.
Progress lives in a per-sector status array using the mapfile's characters,
so an interrupted scan keeps all it learnt and a mapfile from an earlier run
says which areas to skip.

With READ CD and C2 pointers (``rescue.diagnostics.readmethod``) a sector
can come back with flagged bytes. A plain READ(10) of that one sector then
decides: the drive's own error correction either still delivers the user
data (a "weak" sector: '+' in the mapfile, since ddrescue can copy it, but
listed apart in the report) or answers a medium error (unreadable, '-').
Weak sectors live only in the report: a mapfile has no status for them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from itertools import groupby

from rescue.diagnostics import mapfile as mf
from rescue.diagnostics.readmethod import (
    LABELS,
    REFUSED,
    ReadMethod,
    UnknownMedium,
    layout_holds,
    read_sectors,
    sector_bytes,
)
from rescue.drive import Drive, read10_reader
from rescue.errors import ParseError, RescueError
from rescue.ops.pathcheck import fit_sectors, transfer_limit
from rescue.record import field, record
from rescue.scsi.sense import SenseError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")

SECTOR = 2048
DEFAULT_BLOCK = 32  # sectors per READ where the path's limit is unknown, and a failed block's runs
AUTO_MOST = 512  # sectors: the largest READ a scan picks by itself (1 MiB of 2048-byte sectors)
DEFAULT_RETRIES = 1
ZONES = 16  # speed is reported per sixteenth of the scanned range
LAYOUT_PROBE_LBA = 16  # ISO 9660's first volume descriptor: a sector that is never blank
SLOW_SECONDS = 1.0  # a block taking longer than this is reported as slow
LOOKAHEAD = 64  # blocks whose status one search checks for untried sectors
PROGRESS_SECONDS = 0.1  # wall time between progress calls (a bar redraws 10 times a second)
CTRL_C = "interrupted (Ctrl-C)"
NOT_READY = 0x2  # sense key: the disc went away (ejected, drive reset); every read would fail
_NON_TRIED = mf.NON_TRIED.encode()
_FINISHED = mf.FINISHED.encode()
_READ10 = ReadMethod.READ10  # looked up once: an enum member costs a class lookup per use
_TRIED = (mf.FINISHED + mf.BAD_SECTOR).encode()
_BAD = mf.BAD_SECTOR.encode()
# Patterns for the rare paths where a stretch ends: compiled (and cached by re) on first
# use, not at import, which comes before the first READ (issue 15).
_NOT_BAD = b"[^" + re.escape(_BAD) + b"]"
_PENDING_RUN = b"[^" + re.escape(_TRIED) + b"]+"
_TRIED_SECTOR = b"[^" + re.escape(_NON_TRIED) + b"]"


@record(frozen=True)
class LbaRun:
    """Consecutive sectors, reported by their first and last LBA."""

    first: int
    count: int

    @property
    def last(self) -> int:
        return self.first + self.count - 1

    def to_dict(self) -> dict[str, Any]:
        return {"first": self.first, "last": self.last, "count": self.count}


@record(frozen=True)
class SectorRange(LbaRun):
    """A bad range with its sense, or a slow one with the drive time it took."""

    detail: str | None  # the sense triple of a bad range (None: known from an earlier run)
    seconds: float = 0.0  # drive time spent reading it (slow ranges)

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"detail": self.detail, "seconds": self.seconds}


@record(frozen=True)
class WeakRange(LbaRun):
    """Consecutive sectors that read, but only with C2 errors."""

    c2_bytes: int  # flagged bytes over the whole range
    worst: int  # the most flagged bytes in one sector

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {
            "c2_bytes": self.c2_bytes,
            "worst_sector_c2_bytes": self.worst,
        }


@record
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


@record
class ScanResult:
    start: int
    end: int  # exclusive
    status: bytearray  # one mapfile status character per sector of the whole disc
    triples: dict[int, str] = field(default_factory=dict)  # bad LBA -> sense triple
    slow: list[SectorRange] = field(default_factory=list)
    zones: list[Zone] = field(default_factory=list)
    position: int = 0  # where the scan stopped (== end when complete)
    interrupted: bool = False
    stopped_by: str | None = None  # why the scan ended early: Ctrl-C, the drive's sense, ...
    failure: RescueError | None = None  # ... or the transport failing (the drive went away)
    sectors_read_now: int = 0  # sectors this run asked the drive for and got an answer about
    c2: dict[int, int] = field(default_factory=dict)  # weak LBA -> bytes its C2 pointers flag
    method: ReadMethod = ReadMethod.READ10  # what the scan read with (after any fallback)
    method_why: str | UnknownMedium = ""  # why that method was chosen (its words: str)
    fallback: str | None = None  # why READ CD was given up for READ(10)
    disc: mf.DiscId | None = None  # which disc this is (kept in the mapfile)
    save_error: RescueError | None = None  # the last mapfile save failed (the command says so)
    mapfile_kept: str | None = None  # where the map went instead (the temp folder)

    @property
    def percent(self) -> float:
        """How far the scan got through ``[start, end)``, in percent of the range."""
        span = self.end - self.start
        done = min(max(self.position - self.start, 0), span)
        return 100.0 if span <= 0 else round(100.0 * done / span, 1)

    @property
    def bad(self) -> list[SectorRange]:
        """Bad ranges over the whole map (earlier runs included), split where the sense differs."""
        out: list[SectorRange] = []
        for first, stop in _bad_runs(self.status):
            for triple, same in groupby(range(first, stop), key=self.triples.get):
                lbas = list(same)
                out.append(SectorRange(lbas[0], len(lbas), triple))
        return out

    @property
    def weak(self) -> list[WeakRange]:
        """Runs of consecutive weak LBAs, each with its C2 totals."""
        out: list[WeakRange] = []
        for lba in sorted(self.c2):
            flagged = self.c2[lba]
            if out and out[-1].last + 1 == lba:
                old = out.pop()
                total, worst = old.c2_bytes + flagged, max(old.worst, flagged)
                out.append(WeakRange(old.first, old.count + 1, total, worst))
            else:
                out.append(WeakRange(lba, 1, flagged, flagged))
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
            "percent": self.percent,
            "stopped_by": self.stopped_by,
            "sectors_read_now": self.sectors_read_now,
            "read_method": LABELS[self.method],
            "read_method_why": str(self.method_why),
            "fallback": self.fallback,
            "bad": [r.to_dict() for r in self.bad],
            "weak": [r.to_dict() for r in self.weak],
            "slow": [r.to_dict() for r in self.slow],
            "zones": [z.to_dict() for z in self.zones],
        }


Progress = Callable[[int], None]  # called with the number of sectors just dealt with


def auto_block(transport: object, method: ReadMethod) -> int:
    """The read size, in sectors, of a scan that was not given one: what the path carries.

    Fewer, larger READs cost the host less per byte read: in the TCG guest a
    scan at 1 MiB per READ was 1.18x ``sg_dd`` where 64 KiB was 2.1x
    (docs/performance.md). So a scan reads as much as the path's limit allows
    (usb-storage 120 KiB, an ATAPI port's max_sectors, an sg node's
    BLKSECTGET), up to AUTO_MOST; where the limit is unknown, DEFAULT_BLOCK.
    A failed block is re-read in DEFAULT_BLOCK runs first (``Scanner._trim``),
    so a large block costs a damaged disc a few more reads, not hundreds.
    """
    limit = transfer_limit(transport)[0]
    if limit is None:
        return DEFAULT_BLOCK
    return max(1, min(AUTO_MOST, limit // sector_bytes(method)))


class Scanner:
    """Scans a range of the disc; ``block`` is the read size asked for, in sectors.

    ``self.block`` is that size cut to what the path carries, counted in the
    bytes a sector really moves with ``method`` (2342 with READ CD and C2):
    over the cap the kernel fails the READ before the drive sees it. A scan
    that gives READ CD up keeps the smaller block for READ(10): it still fits.
    No ``block``: ``auto_block``.
    """

    def __init__(
        self,
        drive: Drive,
        *,
        block: int | None = None,
        retries: int = DEFAULT_RETRIES,
        slow_seconds: float = SLOW_SECONDS,
        method: ReadMethod = ReadMethod.READ10,
    ) -> None:
        if method is ReadMethod.AUTO:
            raise ValueError("Scanner needs a concrete read method (see readmethod.choose)")
        self.drive = drive
        if block is None:  # auto_block's size is within the path's limit already
            self.block = auto_block(drive.transport, method)
        else:
            self.block = fit_sectors(drive.transport, block, sector_bytes(method))
        self.retries = retries
        self.slow_seconds = slow_seconds
        self.method = method
        self._now = drive.transport.now  # read once a block: the clock itself, no Drive call

    def run(self, result: ScanResult, progress: Progress | None = None) -> ScanResult:
        """Scan ``[result.start, result.end)``; Ctrl-C ends the scan, keeping what was learnt.

        So does a drive that stops answering (not ready, or the transport
        failing: ``result.failure``), so the caller can still say how far it
        got and save the map.

        ``progress`` hears of the sectors dealt with at most every
        PROGRESS_SECONDS of the drive's clock (and once at the end): a
        progress bar and a checkpoint need no more, and a call per block
        would cost a scan of a fast drive more than its reads.

        The inner loop runs once per block, so it is the scan's hot path
        (docs/architecture.md, "The command path"). Whole blocks whose sectors
        are all untried, in a READ(10) scan, take the short way a stretch at a
        time: as many as the status looked ahead shows untried, each starting
        in the same zone, until progress is due. Per block that loop reads,
        reads the clock and checks for a slow block and for progress, nothing
        more; the stretch's sectors and time go to the zone's sums (kept in
        locals, added to the zone when it ends) and its status bytes are written
        once per stretch (before progress is told, since a checkpoint saves
        them, and however the loop ends). Anything else (a resumed map's
        part-done block, READ CD, a failed read, a short last block) goes
        through ``_read_run`` or ``_failed``. On the build host the engine adds
        850 instructions per 64 KiB block to the bare reads, against 2,230 a
        block when every block went round the whole loop (docs/performance.md,
        "Stretches of blocks").

        The clock is read once per block: a short-way block is timed from the
        end of the step before it, so the bookkeeping between two reads counts
        to the next one, and the clock is read again after anything longer (a
        progress call, a recovered block). Under QEMU's TCG, whose guest clock
        is HPET, a clock read is a system call of about 2 us: one per 64 KiB
        block is 1-2% of ``sg_dd``'s time for the same reads (docs/performance.md,
        "One clock read a block").
        """
        span = result.end - result.start
        size = max(1, -(-span // ZONES))
        result.zones = [
            Zone(z, min(size, result.end - z)) for z in range(result.start, result.end, size)
        ]
        result.position = result.start
        result.method = self.method
        status, block, end, zones = result.status, self.block, result.end, result.zones
        # the kernel's buffer for this descriptor sized to a block, as sg_dd sizes it
        self.drive.transport.reserve_buffer(block * sector_bytes(self.method))
        # the transport's prepared READ(10) where it has one: a block is then one Python frame
        read10 = read10_reader(self.drive.transport) or self.drive.read10
        now, slow = self._now, self.slow_seconds
        fast = self.method is _READ10  # READ(10)'s short way; False again after any fallback
        told = now()  # the end of the last step: the next short-way read's start
        pending = 0  # sectors progress has not heard of yet; it is told at due, if at all
        due = told + PROGRESS_SECONDS if progress is not None else float("inf")
        untried_to = marked = read_to = position = result.start  # [marked, read_to): unwritten
        # the short way's sums in the zone that ends at zone_end, added to result when it ends
        zone = zones[0] if zones else Zone(result.start, 0)
        zone_end, zone_sectors, zone_seconds = result.start, 0, 0.0
        try:
            if self.method is ReadMethod.CD:
                self._check_read_cd(result)
                fast = self.method is _READ10
            lba = result.start
            while lba < end:
                stop = lba + block  # no min(): a builtin's call costs more than the test
                if stop > end:
                    stop = end
                if stop > untried_to:  # looked ahead LOOKAHEAD blocks at a time, in C
                    untried_to = _untried_to(status, lba, min(end, lba + block * LOOKAHEAD))
                if stop > untried_to or not fast or stop - lba < block:
                    count = stop - lba
                    _mark_read(status, marked, read_to)
                    for first, n in _pending_runs(status, lba, count):
                        self._read_run(result, first, n)
                    marked = read_to = position = lba = stop
                    pending += count
                    fast = self.method is _READ10
                    told = now()
                else:  # a stretch of whole untried blocks in one zone: the short way
                    if lba >= zone_end:  # the next zone: the last one's sums into it
                        _add_read(result, zone, zone_sectors, zone_seconds)
                        zone = zones[(lba - result.start) // size]
                        zone_end, zone_sectors, zone_seconds = zone.first + zone.count, 0, 0.0
                    # whole untried blocks, each starting in this zone (one may end past it)
                    stretch_end = min(lba + (min(untried_to, end) - lba) // block * block, zone_end)
                    first, started, failed = lba, told, None
                    try:
                        for lba in range(first, stretch_end, block):
                            read10(lba, block)
                            now_ = now()
                            if now_ - told > slow:
                                _add_slow(result.slow, SectorRange(lba, block, None, now_ - told))
                            told = now_
                            if told >= due:  # progress is due: told outside the stretch
                                lba += block
                                break
                        else:
                            lba += block
                    except SenseError as err:  # block lba did not read; those before it did
                        failed = err
                    finally:  # however the stretch ends: [first, lba) read, taking told - started
                        zone_sectors += lba - first
                        zone_seconds += told - started
                        read_to = position = lba
                        pending += lba - first
                    if failed is not None:
                        _mark_read(status, marked, read_to)
                        result.sectors_read_now += block
                        self._failed(result, lba, block, failed)
                        marked = read_to = position = lba = lba + block
                        pending += block
                        told = now()
                if told >= due:  # never without progress
                    _mark_read(status, marked, read_to)
                    marked, result.position = read_to, position
                    progress(pending)  # type: ignore[misc]
                    pending, due = 0, told + PROGRESS_SECONDS
                    told = now()  # the progress call's time is no read's
        except KeyboardInterrupt:
            result.interrupted, result.stopped_by = True, CTRL_C
        except SenseError as err:  # only "not ready" escapes a read: the disc is gone
            result.interrupted, result.stopped_by = True, err.message
        except RescueError as err:  # no answer at all: the node vanished, SG_IO failed, a timeout
            result.interrupted, result.stopped_by, result.failure = True, err.message, err
        finally:
            _mark_read(status, marked, read_to)
            result.position = position
            _add_read(result, zone, zone_sectors, zone_seconds)
        if progress is not None and pending:
            progress(pending)
        return result

    def _read(self, result: ScanResult, lba: int, count: int) -> Sequence[int]:
        """C2-flagged bytes per sector (``NO_C2`` without C2); a refused READ CD: READ(10)."""
        try:
            return read_sectors(self.drive, self.method, lba, count)
        except (SenseError, ParseError) as err:
            why = _read_cd_refusal(err) if self.method is ReadMethod.CD else None
            if why is None:
                raise
            self._give_up_read_cd(result, why)
            return self._read(result, lba, count)

    def _check_read_cd(self, result: ScanResult) -> None:
        """Give READ CD up before the scan when its answer does not follow the C2 layout."""
        lba = LAYOUT_PROBE_LBA if len(result.status) >= LAYOUT_PROBE_LBA + 2 else 0
        try:  # two sectors, or one where the path carries no more (self.block fits it)
            if layout_holds(self.drive, lba, min(2, len(result.status), self.block)):
                return
        except (SenseError, ParseError) as err:
            why = _read_cd_refusal(err)
            if why is not None:
                self._give_up_read_cd(result, why)
            elif isinstance(err, SenseError):  # a bad sector: the scan maps it; layout unchecked
                _stop_if_not_ready(err)
            return
        self._give_up_read_cd(
            result,
            "the drive's READ CD answer does not put the user data where C2 pointers "
            "would leave it (it ignores the Error Field)",
        )

    def _give_up_read_cd(self, result: ScanResult, why: str) -> None:
        result.fallback = f"{why}: went on with READ(10), without C2 information"
        self.method = result.method = ReadMethod.READ10

    def _read_run(self, result: ScanResult, lba: int, count: int) -> None:
        """Read one run with the scan's method and account for it (C2, time, zone)."""
        started = self._now()
        try:
            flagged = self._read(result, lba, count)
        except SenseError as err:
            result.sectors_read_now += count
            self._failed(result, lba, count, err)
            return
        seconds = self._now() - started
        result.sectors_read_now += count
        result.status[lba : lba + count] = _FINISHED * count
        if flagged:
            self._check_weak(result, lba, flagged)
        self._account(result, lba, count, seconds)

    def _account(self, result: ScanResult, lba: int, count: int, seconds: float) -> None:
        """A run that read: its bytes and time into its zone, and a slow one noted.

        ``run`` does the same inline for the blocks that take the short way.
        """
        zone = result.zones[(lba - result.start) // result.zones[0].count]
        zone.bytes_read += count * SECTOR
        zone.seconds += seconds
        if seconds > self.slow_seconds:
            _add_slow(result.slow, SectorRange(lba, count, None, seconds))

    def _failed(self, result: ScanResult, lba: int, count: int, err: SenseError) -> None:
        """A run that did not read: non-trimmed, then re-read by ``_trim`` (not ready stops all)."""
        _stop_if_not_ready(err)
        result.status[lba : lba + count] = mf.NON_TRIMMED.encode() * count
        self._trim(result, lba, count)

    def _trim(self, result: ScanResult, lba: int, count: int) -> None:
        """Re-read a failed block: in DEFAULT_BLOCK runs if it is larger, then what fails, sector
        by sector, each sector up to 1 + retries times.

        The runs keep a large block's cost on a damaged disc near a small
        one's: one bad sector in 1 MiB costs 16 runs and 32 sectors, not 512.
        """
        if count > DEFAULT_BLOCK:
            for first in range(lba, lba + count, DEFAULT_BLOCK):
                self._trim_run(result, first, min(DEFAULT_BLOCK, lba + count - first))
            return
        self._trim_sectors(result, lba, count)

    def _trim_run(self, result: ScanResult, lba: int, count: int) -> None:
        """One run of a failed block: a recovery read, so, as its sectors would be, not timed."""
        try:
            flagged = self._read(result, lba, count)
        except SenseError as err:
            self._failed(result, lba, count, err)  # a run of DEFAULT_BLOCK: sector by sector
            return
        result.status[lba : lba + count] = _FINISHED * count
        if flagged:
            self._check_weak(result, lba, flagged)

    def _trim_sectors(self, result: ScanResult, lba: int, count: int) -> None:
        for sector in range(lba, lba + count):
            outcome = self._retried(lambda s=sector: self._read(result, s, 1))
            if isinstance(outcome, SenseError):
                _mark_bad(result, sector, outcome)
            else:
                result.status[sector] = ord(mf.FINISHED)
                self._check_weak(result, sector, outcome)

    def _check_weak(self, result: ScanResult, lba: int, flagged: Sequence[int]) -> None:
        """A sector with C2 errors is weak if READ(10) still gets its data, else bad."""
        if not any(flagged):
            return
        for sector, count in enumerate(flagged, lba):
            if not count:
                continue
            outcome = self._retried(lambda s=sector: self.drive.read10(s, 1))
            if isinstance(outcome, SenseError):
                _mark_bad(result, sector, outcome)
            else:
                result.c2[sector] = count

    def _retried(self, read: Callable[[], T]) -> T | SenseError:
        """``read()``'s value, trying 1 + retries times; the last SenseError when all fail."""
        left = 1 + self.retries
        while True:
            left -= 1
            try:
                return read()
            except SenseError as err:
                _stop_if_not_ready(err)
                if left <= 0:
                    return err


def _read_cd_refusal(err: SenseError | ParseError) -> str | None:
    """Why READ CD cannot serve this scan, when ``err`` says so; None for a medium problem."""
    if isinstance(err, ParseError):  # the answer was not user data + C2 pointers
        return f"the drive's READ CD answer is unusable ({err.message})"
    if err.triple in REFUSED:
        name = err.sense.asc_name if err.sense else ""
        return f"the drive refused READ CD ({err.triple} {name})"
    return None


def _add_read(result: ScanResult, zone: Zone, sectors: int, seconds: float) -> None:
    """Sectors the short way read in ``zone``, and the drive time they took."""
    zone.bytes_read += sectors * SECTOR
    zone.seconds += seconds
    result.sectors_read_now += sectors


def _bad_runs(status: bytearray) -> Iterator[tuple[int, int]]:
    """``[first, stop)`` of each run of bad sectors in a whole disc's status (~10^6 bytes).

    ``bytearray.find`` (memchr) skips the good stretches, where a regex
    steps through every byte: 0.1 ms against 34 ms for a clean DVD's map
    on the build host, paid by every scan's report.
    """
    first = status.find(_BAD)
    if first < 0:
        return  # a clean disc's map: no pattern needed
    not_bad = re.compile(_NOT_BAD)
    while first >= 0:
        good = not_bad.search(status, first)
        stop = len(status) if good is None else good.start()
        yield first, stop
        first = status.find(_BAD, stop)


def _mark_bad(result: ScanResult, sector: int, err: SenseError) -> None:
    result.status[sector] = ord(mf.BAD_SECTOR)
    result.triples[sector] = err.triple or "no sense"


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


def _untried_to(status: bytearray, lba: int, end: int) -> int:
    """Where the stretch of untried sectors from ``lba`` ends (``end`` at most).

    A byte count answers the common case (all untried) several times faster
    than the regex search, which only runs where a stretch does end.
    """
    if status.count(_NON_TRIED, lba, end) == end - lba:
        return end
    tried = re.compile(_TRIED_SECTOR).search(status, lba, end)
    return end if tried is None else tried.start()


def _mark_read(status: bytearray, first: int, stop: int) -> None:
    if stop > first:
        status[first:stop] = _FINISHED * (stop - first)


def _pending_runs(status: bytearray, lba: int, count: int) -> list[tuple[int, int]]:
    """Runs inside ``[lba, lba+count)`` that are not finished yet (bad counts as tried).

    The common cases (a fresh block, a block an earlier run finished) are
    answered by C-level byte counts: this runs once per block of a scan.
    """
    chunk = status[lba : lba + count]
    if chunk and chunk.count(_NON_TRIED) == len(chunk):
        return [(lba, len(chunk))]
    if not chunk.translate(None, _TRIED):
        return []
    runs = re.finditer(_PENDING_RUN, chunk)
    return [(lba + run.start(), run.end() - run.start()) for run in runs]
