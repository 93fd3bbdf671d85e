"""READ BUFFER descriptor (SPC-4 6.17.5) and ATA IDENTIFY data (ATA8-ACS)."""

import pytest

from rescue.errors import ParseError
from rescue.scsi.ata import ata_string, parse_identify
from rescue.scsi.buffer import parse_buffer_descriptor


def test_buffer_descriptor_boundary_and_capacity() -> None:
    desc = parse_buffer_descriptor(bytes.fromhex("0c 100000"))
    assert desc.capacity == 0x100000 and desc.alignment == 4096
    assert desc.accepts_offset(0x3000) and not desc.accepts_offset(0x3020)


def test_buffer_descriptor_without_offsets() -> None:
    desc = parse_buffer_descriptor(bytes.fromhex("ff 00f800"))
    assert desc.alignment is None and desc.capacity == 0xF800
    assert desc.accepts_offset(0) and not desc.accepts_offset(0x1000)
    with pytest.raises(ParseError):
        parse_buffer_descriptor(b"\x00\x01\x00")


def ata_text(text: str, words: int) -> bytes:
    raw = bytearray(text.ljust(2 * words).encode("ascii"))
    raw[0::2], raw[1::2] = raw[1::2], raw[0::2]
    return bytes(raw)


def identify(
    config: int = 0x85C0, udma: int = 0x2020, word53: int = 0x0006, signed: bool = True
) -> bytes:
    data = bytearray(512)
    data[0:2] = config.to_bytes(2, "little")
    data[20:40] = ata_text("  K1A2B3C4D5", 10)
    data[46:54] = ata_text("1.02", 4)
    data[54:94] = ata_text("HL-DT-ST DVD+-RW GH50N", 20)
    data[106:108] = word53.to_bytes(2, "little")
    data[176:178] = udma.to_bytes(2, "little")
    if signed:
        data[510] = 0xA5
        data[511] = -sum(data[:511]) & 0xFF
    return bytes(data)


def test_identify_packet_device() -> None:
    ident = parse_identify(identify())
    assert ident.packet and ident.packet_device_type_name == "CD/DVD"
    assert ident.packet_size == 12
    assert ident.model == "HL-DT-ST DVD+-RW GH50N"
    assert ident.serial == "K1A2B3C4D5"
    assert ident.firmware == "1.02"
    assert ident.udma_supported == (5,) and ident.udma_selected == 5
    assert ident.checksum_valid is True


def test_identify_udma_modes_and_non_packet() -> None:
    ident = parse_identify(identify(config=0x0040, udma=0x047F, signed=False))
    assert not ident.packet and ident.packet_size is None and ident.packet_device_type is None
    assert ident.udma_supported == (0, 1, 2, 3, 4, 5, 6)
    assert ident.udma_selected == 2
    assert ident.checksum_valid is None


def test_identify_word_88_invalid_is_ignored() -> None:
    ident = parse_identify(identify(udma=0x047F, word53=0x0002))
    assert ident.udma_supported == () and ident.udma_selected is None


def test_identify_bad_checksum_and_short_block() -> None:
    bad = bytearray(identify())
    bad[100] ^= 0xFF
    with pytest.raises(ParseError, match="checksum"):
        parse_identify(bytes(bad))
    with pytest.raises(ParseError, match="too short"):
        parse_identify(identify()[:511])


def test_ata_string_swaps_bytes() -> None:
    assert ata_string(b"TBCDRW", 0, 2) == "BTDCWR"
    assert ata_string(b"TBCD", 1, 1) == "DC"
