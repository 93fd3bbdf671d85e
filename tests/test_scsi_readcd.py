"""READ CD block sizes (ECMA-130 layouts, MMC-6 6.19) and splitting the answer."""

import itertools

import pytest

from rescue.errors import ParseError
from rescue.scsi.readcd import (
    C2Mode,
    HeaderCode,
    SectorType,
    SubChannel,
    block_size,
    main_channel_size,
    split_blocks,
)


@pytest.mark.parametrize(
    ("sector_type", "sync", "header", "user", "edc", "size"),
    [
        (SectorType.ANY, True, HeaderCode.ALL, True, True, 2352),
        (SectorType.ANY, False, HeaderCode.NONE, False, False, 0),
        (SectorType.CDDA, False, HeaderCode.NONE, True, False, 2352),
        (SectorType.MODE1, False, HeaderCode.NONE, True, False, 2048),
        (SectorType.MODE1, True, HeaderCode.HEADER, True, True, 2352),
        (SectorType.MODE1, False, HeaderCode.ALL, True, True, 2340),  # no sub-header in mode 1
        (SectorType.MODE2_FORMLESS, False, HeaderCode.NONE, True, False, 2336),
        (SectorType.MODE2_FORM1, False, HeaderCode.SUBHEADER, True, False, 2056),
        (SectorType.MODE2_FORM1, True, HeaderCode.ALL, True, True, 2352),
        (SectorType.MODE2_FORM2, False, HeaderCode.NONE, True, False, 2324),
        (SectorType.MODE2_FORM2, True, HeaderCode.ALL, True, True, 2352),
    ],
)
def test_main_channel_sizes(sector_type, sync, header, user, edc, size) -> None:
    assert main_channel_size(sector_type, sync, header, user, edc) == size


def test_any_sector_type_refuses_partial_selections() -> None:
    with pytest.raises(ValueError):
        main_channel_size(SectorType.ANY, False, HeaderCode.NONE, True, False)


def test_block_size_adds_c2_and_subchannel() -> None:
    full = (SectorType.ANY, True, HeaderCode.ALL, True, True)
    assert block_size(*full, C2Mode.C2, SubChannel.RAW) == 2352 + 294 + 96
    assert block_size(*full, C2Mode.C2_AND_BLOCK, SubChannel.Q) == 2352 + 296 + 16
    assert block_size(*full, C2Mode.NONE, SubChannel.RW) == 2352 + 96


def test_split_user_data_c2_and_subchannel() -> None:
    blocks = []
    for n in range(3):
        c2 = bytes(293) + bytes([0x81 if n == 1 else 0])
        blocks.append(bytes([n]) * 2352 + c2 + bytes([0x40 + n]) * 96)
    parts = split_blocks(b"".join(blocks), 2352, C2Mode.C2, SubChannel.RAW)
    assert len(parts) == 3
    assert parts[1].main == bytes([1]) * 2352
    assert parts[1].c2[-1] == 0x81 and len(parts[1].c2) == 294
    assert parts[2].subchannel == bytes([0x42]) * 96
    assert [p.c2_error_count for p in parts] == [0, 2, 0]


def test_block_error_byte_is_not_counted_as_c2() -> None:
    raw = bytes(2048) + bytes(294) + b"\xff\x00"
    (block,) = split_blocks(raw, 2048, C2Mode.C2_AND_BLOCK)
    assert block.c2[-2] == 0xFF and block.c2_error_count == 0


def test_split_refuses_partial_blocks_and_empty_selection() -> None:
    with pytest.raises(ParseError, match="whole number"):
        split_blocks(bytes(2352 + 100), 2352)
    with pytest.raises(ParseError, match="no data"):
        split_blocks(b"", 0)


def test_every_option_combination_has_a_size_or_is_refused() -> None:
    for sector_type, header, sync, user, edc in itertools.product(
        SectorType, HeaderCode, (False, True), (False, True), (False, True)
    ):
        try:
            size = main_channel_size(sector_type, sync, header, user, edc)
        except ValueError:
            assert sector_type is SectorType.ANY
            continue
        assert 0 <= size <= 2352
        if sync and header is HeaderCode.ALL and user and edc:
            assert size == 2352  # every sector layout fills the whole raw sector
