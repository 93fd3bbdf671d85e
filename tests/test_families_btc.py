"""The BTC family's command list against btcflash's sequence (docs/protocols.md), byte by byte.

CDB fields are decoded here by hand from SPC-4's WRITE BUFFER layout, not
with rescue.scsi.cdb, so a wrong builder and a wrong family cannot agree.
"""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st
from stubs import Ident

from rescue.families import family_for, family_named


def decode_write_buffer(cdb: bytes) -> tuple[int, int, int, int]:
    """(mode, buffer id, offset, length) of a 10-byte WRITE BUFFER."""
    assert len(cdb) == 10 and cdb[0] == 0x3B
    return cdb[1] & 0x1F, cdb[2], int.from_bytes(cdb[3:6], "big"), int.from_bytes(cdb[6:9], "big")


DRIVE = Ident("BTC", "DVDRW IDE1004", "0043")


def test_btc_sequence_is_btcflash_sequence() -> None:
    image = os.urandom(0x100000)
    steps = family_named("btc").flash_steps(image, DRIVE)
    assert len(steps) == 256 + 2
    for index, step in enumerate(steps[:256]):
        mode, buffer_id, offset, length = decode_write_buffer(step.cdb)
        assert (mode, buffer_id, length) == (6, 0, 0x1000)
        assert offset == index * 0x1000 + 0x20
        assert step.data == image[index * 0x1000 : (index + 1) * 0x1000]
        assert not step.commit and not step.probe
    header = steps[256]
    assert decode_write_buffer(header.cdb) == (6, 0, 0, 0x20)
    total = sum(image) & 0xFFFF
    assert header.data == bytes(30) + bytes([total >> 8, total & 0xFF])
    commit = steps[257]
    assert decode_write_buffer(commit.cdb) == (7, 0, 0, 0)
    assert commit.data is None and commit.commit


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.integers(0, 0xFF))
def test_header_checksum_wraps_at_16_bits(seed: bytes, fill: int) -> None:
    image = (seed * (0x100000 // 16))[:-1] + bytes([fill])
    header = family_named("btc").flash_steps(image, DRIVE)[256]
    assert int.from_bytes(header.data[30:32], "big") == sum(image) % 0x10000
    assert header.data[:30] == bytes(30)


def test_btc_timing_follows_btcflash() -> None:
    btc = family_named("btc")
    assert btc.settle_seconds == 50 and btc.ready_timeout == 300
    assert not btc.can_backup and "read" in btc.no_backup_reason


def test_family_table_picks_btc_by_identity_only() -> None:
    assert family_for(Ident("BTC     ", "DVDRW IDE1004   ", "0043")).name == "btc"
    assert family_for(Ident("BTC", "DVD-RW IDE1008", "BOOT")).name == "btc"  # recovery mode
    assert family_for(Ident("BTC", "DRW-2000", "0001")) is None
    assert family_for(Ident("ACME", "DVDRW IDE1004", "0043")) is None


def test_describe_names_cdb_data_and_timeout() -> None:
    step = family_named("btc").flash_steps(bytes(0x100000), DRIVE)[0]
    text = step.describe()
    assert text.startswith("3b 06 00 00 00 20 00 10 00 00")
    assert "0x1000 bytes out" in text and "chunk 1/256" in text
