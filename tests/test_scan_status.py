"""The scan's per-sector status array: which runs are still to read, which ranges are bad.

Both are answered with C-level byte searches (they run once per block and
per report); these properties pin them to the plain per-sector definition.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from rescue.diagnostics import mapfile as mf
from rescue.diagnostics.scan import ZONES, Scanner, ScanResult, _pending_runs
from rescue.drive import Drive
from rescue.emulator.registry import create
from rescue.transport.emulated import EmulatedTransport

STATUS = st.lists(
    st.sampled_from([mf.FINISHED, mf.BAD_SECTOR, mf.NON_TRIED, mf.NON_TRIMMED, mf.NON_SCRAPED]),
    max_size=200,
).map(lambda chars: bytearray("".join(chars).encode()))


def _runs_of(lbas: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for lba in lbas:
        if runs and sum(runs[-1]) == lba:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((lba, 1))
    return runs


@given(STATUS, st.integers(0, 200), st.integers(0, 64))
def test_pending_runs_are_the_unfinished_sectors_of_the_block(
    status: bytearray, lba: int, count: int
) -> None:
    block = range(lba, min(lba + count, len(status)))
    done = {mf.FINISHED, mf.BAD_SECTOR}
    expected = _runs_of([n for n in block if chr(status[n]) not in done])
    assert _pending_runs(status, lba, count) == expected


@given(STATUS, st.data())
def test_bad_ranges_are_the_bad_sectors_split_by_sense(
    status: bytearray, data: st.DataObject
) -> None:
    bad = [n for n, c in enumerate(status) if chr(c) == mf.BAD_SECTOR]
    triples = {n: data.draw(st.sampled_from(["3/11/00", "3/02/00"])) for n in bad}
    result = ScanResult(0, len(status), status, triples=triples)
    flat = [(r.first + k, r.detail) for r in result.bad for k in range(r.count)]
    assert flat == [(n, triples[n]) for n in bad]
    for before, after in zip(result.bad, result.bad[1:], strict=False):
        assert before.last + 1 < after.first or before.detail != after.detail


@given(STATUS)
def test_mapfile_blocks_are_the_runs_of_equal_status(status: bytearray) -> None:
    """The checkpoint's regex pass gives the blocks a walk over every sector would."""
    walked: list[tuple[int, int, str]] = []
    for lba, code in enumerate(status):
        if walked and walked[-1][2] == chr(code):
            walked[-1] = (walked[-1][0], walked[-1][1] + 1, walked[-1][2])
        else:
            walked.append((lba, 1, chr(code)))
    mapfile = mf.from_sectors(status, 2048, len(status))
    assert [(b.pos // 2048, b.size // 2048, b.status) for b in mapfile.blocks] == walked
    pending = any(chr(code) not in mf.FINISHED + mf.BAD_SECTOR for code in status)
    assert mapfile.current_status == (mf.NON_TRIED if pending else mf.FINISHED)
    assert mf.to_sectors(mapfile, 2048, len(status)) == status


def _expected_zones(
    before: bytes, start: int, end: int, block: int, bad: set[int]
) -> tuple[list[int], int]:
    """Per zone, the sectors of each run that read, counted at the run's first LBA (the
    plain definition); and the sectors asked for. A run with a bad sector is trimmed
    sector by sector, and trimming counts into no zone."""
    size = -(-(end - start) // ZONES)
    zones, asked = [0] * len(range(start, end, size)), 0
    for lba in range(start, end, block):
        stop = min(lba + block, end)
        if all(before[s] == ord("?") for s in range(lba, stop)):
            runs = [(lba, stop)]  # the short way: the whole block in one READ
        else:
            runs = [(m.start(), m.end()) for m in re.finditer(rb"[^+-]+", before[:stop])]
            runs = [(max(a, lba), b) for a, b in runs if b > lba]
        for first, last in runs:
            asked += last - first
            if not bad & set(range(first, last)):
                zones[(first - start) // size] += last - first
    return zones, asked


@settings(deadline=None, max_examples=80)
@given(
    st.integers(0, 300),
    st.integers(1, 300),
    st.integers(1, 40),
    st.sets(st.integers(0, 599), max_size=4),
    STATUS,
    st.booleans(),
)
def test_zones_count_each_read_run_in_the_zone_of_its_first_lba(
    start: int, span: int, block: int, bad: set[int], done: bytearray, told: bool
) -> None:
    """The short way sums its blocks in locals and adds them when a zone ends: the totals
    are the plain per-run count, over fresh, resumed and failing blocks alike, and every
    sector ends as it read. TOLD: each block takes 0.2 s of the drive's clock, so progress
    is due after every one, ending each stretch of the short way there."""
    sectors = 600
    spec = f"generic-dvd,sectors={sectors}" + (f",bad={';'.join(map(str, bad))}" if bad else "")
    spec += ",slow=0-599:0.2,speed=0" if told else ""
    drive = Drive(EmulatedTransport(create(spec), "emu:test"))
    drive.settle()  # the power-on unit attention, which would fail the first READ
    status = bytearray(b"?" * sectors)
    status[start : start + len(done)] = done[: sectors - start]
    before, end = bytes(status), min(sectors, start + span)
    heard: list[int] = []
    result = Scanner(drive, block=block, retries=0).run(
        ScanResult(start, end, status), heard.append if told else None
    )
    assert result.position == end and not result.interrupted
    assert sum(heard) == (end - start if told else 0)
    zones, asked = _expected_zones(before, start, end, block, bad)
    assert [z.bytes_read // 2048 for z in result.zones] == zones
    assert result.sectors_read_now == asked
    tried = {ord("+"): "+", ord("-"): "-"}  # a finished or bad sector is not read again
    expected = "".join(
        tried.get(before[s], "-" if s in bad else "+") for s in range(start, end)
    )  # fmt: skip
    assert result.status[start:end].decode() == expected
    assert result.status[:start] == before[:start] and result.status[end:] == before[end:]
