"""Builders against byte layouts written out by hand from SPC-4, MMC-6 and SAT-3."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rescue.scsi import cdb
from rescue.scsi.readcd import C2Mode, HeaderCode, SectorType, SubChannel


def h(text: str) -> bytes:
    return bytes.fromhex(text)


@pytest.mark.parametrize(
    ("built", "golden", "data_in", "data_out"),
    [
        (cdb.inquiry(), "12 00 00 00 60 00", 96, 0),
        (cdb.inquiry(evpd=True, page=0x83, alloc=0x200), "12 01 83 02 00 00", 0x200, 0),
        (cdb.test_unit_ready(), "00 00 00 00 00 00", 0, 0),
        (cdb.request_sense(), "03 00 00 00 fc 00", 252, 0),
        (cdb.request_sense(18, descriptor=True), "03 01 00 00 12 00", 18, 0),
        (cdb.get_configuration(), "46 00 0000 000000 fff8 00", 0xFFF8, 0),
        (
            cdb.get_configuration(cdb.ConfigRT.ONE, 0x010C, 0x18),
            "46 02 010c 000000 0018 00",
            0x18,
            0,
        ),
        (cdb.mode_sense_10(0x2A), "5a 08 2a 00 000000 00ff 00", 0xFF, 0),
        (
            cdb.mode_sense_10(0x3F, 0xFF, cdb.PageControl.CHANGEABLE, dbd=False, alloc=0x1000),
            "5a 00 7f ff 000000 1000 00",
            0x1000,
            0,
        ),
        (cdb.read_capacity_10(), "25 00 00000000 0000 00 00", 8, 0),
        (cdb.read_10(0x12345678, 16), "28 00 12345678 00 0010 00", 16 * 2048, 0),
        (cdb.read_10(1, 1, fua=True), "28 08 00000001 00 0001 00", 2048, 0),
        (cdb.read_12(0x100, 0x20, streaming=True), "a8 00 00000100 00000020 80 00", 0x10000, 0),
        (cdb.read_toc(), "43 00 00 00 00 00 00 0324 00", 804, 0),
        (
            cdb.read_toc(cdb.TocFormat.SESSION_INFO, msf=True, alloc=12),
            "43 02 01 00 00 00 00 000c 00",
            12,
            0,
        ),
        (cdb.get_event_status(), "4a 01 00 00 10 00 00 0008 00", 8, 0),
        (cdb.start_stop_unit(cdb.StartStop.EJECT), "1b 00 00 00 02 00", 0, 0),
        (cdb.start_stop_unit(cdb.StartStop.LOAD, immediate=True), "1b 01 00 00 03 00", 0, 0),
        (cdb.start_stop_unit(cdb.StartStop.START), "1b 00 00 00 01 00", 0, 0),
        (cdb.start_stop_unit(cdb.StartStop.STOP), "1b 00 00 00 00 00", 0, 0),
        (cdb.prevent_allow_medium_removal(True), "1e 00 00 00 01 00", 0, 0),
        (cdb.prevent_allow_medium_removal(False), "1e 00 00 00 00 00", 0, 0),
        # btcflash's chunk: mode 6, buffer 0, offset o + 0x20, 4 KiB
        (cdb.write_buffer(6, 0, 0x1020, 0x1000), "3b 06 00 001020 001000 00", 0, 0x1000),
        (cdb.write_buffer(7), "3b 07 00 000000 000000 00", 0, 0),
        # DVRFlash-style vendor mode 1 with a buffer ID and no data
        (cdb.write_buffer(1, 0xF2), "3b 01 f2 000000 000000 00", 0, 0),
        (cdb.write_buffer(4, 0xFF, 0, 0x8000), "3b 04 ff 000000 008000 00", 0, 0x8000),
        (cdb.write_buffer(5, 0, 0, 0x20), "3b 05 00 000000 000020 00", 0, 0x20),
        (cdb.write_buffer(0x0D, 0, 0x4000, 0x4000, 0b101), "3b ad 00 004000 004000 00", 0, 0x4000),
        (cdb.write_buffer(0x0E, 1, 0, 0x200), "3b 0e 01 000000 000200 00", 0, 0x200),
        (cdb.write_buffer(0x0F), "3b 0f 00 000000 000000 00", 0, 0),
        (cdb.read_buffer(2, 0, 0, 0x100), "3c 02 00 000000 000100 00", 0x100, 0),
        (cdb.read_buffer_descriptor(), "3c 03 00 000000 000004 00", 4, 0),
        (cdb.read_buffer(7, 0, 0x3000, 0x20), "3c 07 00 003000 000020 00", 0x20, 0),
        (cdb.read_buffer_memory(0x123456, 0xF800), "3c 06 00 123456 00f800 00", 0xF800, 0),
        (cdb.ata_pass_through_12(), "a1 08 0e 00 01 00 00 00 00 a1 00 00", 512, 0),
        (
            cdb.ata_pass_through_16(),
            "85 08 0e 00 00 00 01 00 00 00 00 00 00 00 a1 00",
            512,
            0,
        ),
    ],
)
def test_golden_bytes(built: cdb.Cdb, golden: str, data_in: int, data_out: int) -> None:
    assert built == h(golden)
    assert (built.data_in, built.data_out) == (data_in, data_out)
    assert isinstance(built, bytes)


def test_read_cd_defaults_are_a_raw_sector_read() -> None:
    built = cdb.read_cd(0x10, 2)
    assert built == h("be 00 00000010 000002 f8 00 00")
    assert built.data_in == 2 * 2352


def test_read_cd_with_c2_and_block_errors_and_raw_subchannel() -> None:
    built = cdb.read_cd(0, 1, c2=C2Mode.C2_AND_BLOCK, subchannel=SubChannel.RAW)
    assert built == h("be 00 00000000 000001 fc 01 00")
    assert built.data_in == 2352 + 296 + 96


def test_read_cd_mode1_user_data_only() -> None:
    built = cdb.read_cd(
        5, 3, sector_type=SectorType.MODE1, sync=False, header=HeaderCode.NONE, edc_ecc=False
    )
    assert built == h("be 08 00000005 000003 10 00 00")
    assert built.data_in == 3 * 2048


def test_read_cd_audio_with_q_subchannel_and_dap() -> None:
    built = cdb.read_cd(0, 1, sector_type=SectorType.CDDA, dap=True, subchannel=SubChannel.Q)
    assert built == h("be 06 00000000 000001 f8 02 00")
    assert built.data_in == 2352 + 16


@pytest.mark.parametrize(
    "call",
    [
        lambda: cdb.inquiry(page=0x80),
        lambda: cdb.inquiry(evpd=True, page=0x100),
        lambda: cdb.inquiry(alloc=0x10000),
        lambda: cdb.write_buffer(0x20),
        lambda: cdb.write_buffer(6, 0, 0x1000000, 0),
        lambda: cdb.write_buffer(6, 0, 0, 0x1000000),
        lambda: cdb.write_buffer(6, 0x100),
        lambda: cdb.write_buffer(0x0D, mode_specific=8),
        lambda: cdb.write_buffer(6, 0, -1, 0),
        lambda: cdb.read_buffer(6, 0, 0x1000000, 4),
        lambda: cdb.read_buffer_memory(0, 0x1000000),
        lambda: cdb.read_10(0x100000000, 1),
        lambda: cdb.read_10(0, 0x10000),
        lambda: cdb.read_cd(0, 0x1000000),
        lambda: cdb.read_cd(0, 1, header=HeaderCode.HEADER),  # ANY: size unknowable
        lambda: cdb.read_cd(0, 1, sector_type=6),
        lambda: cdb.read_cd(0, 1, c2=3),
        lambda: cdb.read_cd(0, 1, subchannel=3),
        lambda: cdb.start_stop_unit(4),
        lambda: cdb.mode_sense_10(0x40),
        lambda: cdb.request_sense(256),
        lambda: cdb.get_configuration(start_feature=0x10000),
        lambda: cdb.read_toc(track=256),
        lambda: cdb.ata_pass_through_16(0x100),
    ],
)
def test_out_of_range_fields_are_refused(call) -> None:
    with pytest.raises(ValueError):
        call()


@given(
    mode=st.integers(0, 0x1F),
    buffer_id=st.integers(0, 0xFF),
    offset=st.integers(0, 0xFFFFFF),
    length=st.integers(0, 0xFFFFFF),
)
def test_buffer_fields_read_back_from_the_cdb(mode, buffer_id, offset, length) -> None:
    for built in (
        cdb.write_buffer(mode, buffer_id, offset, length),
        cdb.read_buffer(mode, buffer_id, offset, length),
    ):
        assert len(built) == 10 and built[1] & 0x1F == mode and built[2] == buffer_id
        assert int.from_bytes(built[3:6], "big") == offset
        assert int.from_bytes(built[6:9], "big") == length
        assert built.data_in + built.data_out == length


@given(lba=st.integers(0, 0xFFFFFFFF), blocks=st.integers(0, 0xFFFF))
def test_read_lba_and_count_read_back(lba, blocks) -> None:
    r10, r12 = cdb.read_10(lba, blocks), cdb.read_12(lba, blocks)
    assert int.from_bytes(r10[2:6], "big") == int.from_bytes(r12[2:6], "big") == lba
    assert int.from_bytes(r10[7:9], "big") == int.from_bytes(r12[6:10], "big") == blocks
    assert r10.data_in == r12.data_in == blocks * 2048


@pytest.mark.parametrize(
    ("name", "home"),
    [
        ("PageControl", "rescue.scsi.modepage"),
        ("TocFormat", "rescue.scsi.toc"),
        ("StartStop", "rescue.scsi.events"),
        ("WriteBufferMode", "rescue.scsi.buffer"),
        ("ReadBufferMode", "rescue.scsi.buffer"),
    ],
)
def test_field_values_made_on_first_use_keep_their_names(name: str, home: str) -> None:
    """cdb names the enums that live beside their answers' parsers (loaded on first use)."""
    enum = getattr(cdb, name)
    assert enum.__module__ == home and enum.__name__ == name
    namespace: dict[str, object] = {}
    exec(f"from rescue.scsi.cdb import {name}", namespace)
    assert namespace[name] is enum


def test_an_unknown_name_of_cdb_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchMode'"):
        cdb.NoSuchMode  # noqa: B018
    assert not hasattr(cdb, "__path__")  # a module, not a package: import machinery asks this


def test_the_lazy_defaults_send_the_bytes_they_sent_as_enums() -> None:
    from rescue.scsi.modepage import PageControl
    from rescue.scsi.toc import TocFormat

    assert cdb.mode_sense_10() == cdb.mode_sense_10(pc=PageControl.CURRENT)
    assert cdb.read_toc() == cdb.read_toc(TocFormat.TOC)
    assert cdb.Opcode.READ_10 == 0x28 and type(cdb.Opcode.READ_10) is int
