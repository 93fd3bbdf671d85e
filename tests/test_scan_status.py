"""The scan's per-sector status array: which runs are still to read, which ranges are bad.

Both are answered with C-level byte searches (they run once per block and
per report); these properties pin them to the plain per-sector definition.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rescue.diagnostics import mapfile as mf
from rescue.diagnostics.scan import ScanResult, _pending_runs

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
