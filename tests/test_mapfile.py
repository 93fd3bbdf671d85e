"""ddrescue mapfile writer and parser: round trip, the manual's example shape, bad input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rescue.diagnostics import mapfile as mf
from rescue.errors import BadInput

statuses = st.sampled_from(sorted(mf.BLOCK_STATUSES))


@st.composite
def mapfiles(draw: st.DrawFn) -> mf.Mapfile:
    sizes = draw(st.lists(st.integers(1, 2**40), max_size=20))
    blocks, pos = [], draw(st.integers(0, 2**40))
    for size in sizes:
        blocks.append(mf.Block(pos, size, draw(statuses)))
        pos += size
    return mf.Mapfile(
        draw(st.integers(0, 2**48)),
        draw(st.sampled_from(sorted(mf.CURRENT_STATUSES))),
        draw(st.integers(1, 9)),
        tuple(blocks),
    )


@given(mapfiles(), st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cc"]))))
def test_parse_of_write_is_identity(mapfile: mf.Mapfile, comments: list[str]) -> None:
    assert mf.parse_mapfile(mf.write_mapfile(mapfile, tuple(comments))) == mapfile


@given(st.text())
def test_random_text_parses_or_raises_bad_input_only(text: str) -> None:
    try:
        parsed = mf.parse_mapfile(text)
    except BadInput:
        return
    assert parsed.current_status in mf.CURRENT_STATUSES


def test_reads_a_mapfile_in_the_manuals_shape() -> None:
    text = (
        "# Mapfile. Created by GNU ddrescue version 1.27\n"
        "# Command line: ddrescue -d -r1 /dev/sr0 disc.iso disc.map\n"
        "# current_pos  current_status  current_pass\n"
        "0x00120000     ?               1\n"
        "#      pos        size  status\n"
        "0x00000000  0x00117000  +\n"
        "0x00117000  0x00000800  -\n"
        "0x00117800  0x00008800  /\n"
    )
    parsed = mf.parse_mapfile(text)
    assert (parsed.current_pos, parsed.current_status, parsed.current_pass) == (0x120000, "?", 1)
    assert [b.status for b in parsed.blocks] == ["+", "-", "/"]
    assert parsed.blocks[1] == mf.Block(0x117000, 0x800, "-")


def test_old_status_line_without_pass_defaults_to_pass_one() -> None:
    assert mf.parse_mapfile("0x0 +\n0x0 0x800 +\n").current_pass == 1


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "no status line"),
        ("0x0 ? 1\n0x0 0x800 +\n0x1000 0x800 +\n", "does not follow"),
        ("0x0 ? 1\n0x0 0x800 x\n", "status one of"),
        ("0x0 ? 1\n0x0 0x0 +\n", "empty block"),
        ("0x0 ? 1\n0x0 zz +\n", "not a number"),
        ("0x0 Q 1\n", "current_status"),
    ],
)
def test_malformed_mapfiles_are_bad_input(text: str, why: str) -> None:
    with pytest.raises(BadInput, match=why):
        mf.parse_mapfile(text)


def test_sector_conversion_round_trip_and_alignment() -> None:
    status = bytearray(b"+++--?**+")
    mapfile = mf.from_sectors(status, 2048, 5)
    assert mapfile.current_pos == 5 * 2048 and mapfile.current_status == "?"
    assert mf.to_sectors(mapfile, 2048, len(status)) == status
    assert mf.from_sectors(b"++-", 2048, 3).current_status == "+"
    with pytest.raises(BadInput, match="aligned"):
        mf.to_sectors(mf.parse_mapfile("0x0 ? 1\n0x0 0x400 +\n"), 2048, 4)


@given(st.dictionaries(st.integers(0, 10**7), st.integers(1, 2352), max_size=40))
def test_weak_sector_comments_round_trip_and_ddrescue_format_ignores_them(
    c2: dict[int, int],
) -> None:
    text = mf.write_mapfile(mf.Mapfile(0, "+", 1), mf.c2_comments(c2))
    assert mf.read_c2_comments(text) == c2
    assert mf.parse_mapfile(text) == mf.Mapfile(0, "+", 1)


@pytest.mark.parametrize("pair", ["100", "x:1", "1:-2", "1:"])
def test_a_broken_weak_sector_comment_is_bad_input(pair: str) -> None:
    with pytest.raises(BadInput, match="LBA:BYTES"):
        mf.read_c2_comments(f"# rescue-c2 {pair}\n0x0 +\n")
