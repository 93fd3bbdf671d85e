"""MODE SENSE(10) and the capabilities page 2Ah, laid out from SPC-4 7.5 and MMC-3 6.3.11."""

import pytest

from rescue.errors import ParseError
from rescue.scsi.modepage import ModePage, parse_capabilities, parse_capabilities_response
from rescue.scsi.modepage import parse_mode_sense_10 as parse


def page_2a(descriptors: tuple[int, ...] = (7056, 4234)) -> bytes:
    p = bytearray(32)
    p[0], p[2], p[3] = 0x2A, 0x3B, 0x37  # reads CD-R/RW, method 2, DVD-ROM/R/RAM; writes all
    p[4] = 0xC0 | 0x01  # BUF, multi-session, audio play
    p[5] = 0x10 | 0x02  # C2 pointers, CD-DA stream accurate
    p[6] = 1 << 5 | 0x08 | 0x01  # tray, eject, lock supported, not locked
    p[8:10] = (7056).to_bytes(2, "big")  # 40x CD in kB/s
    p[12:14] = (2048).to_bytes(2, "big")  # 2 MiB buffer
    p[14:16] = (5645).to_bytes(2, "big")
    p[18:20] = (8467).to_bytes(2, "big")
    p[28:30] = (4234).to_bytes(2, "big")
    p[30:32] = len(descriptors).to_bytes(2, "big")
    for speed in descriptors:
        p += bytes([0, 0]) + speed.to_bytes(2, "big")
    p[1] = len(p) - 2
    return bytes(p)


def mode_answer(*pages: bytes, block_descriptors: bytes = b"") -> bytes:
    body = block_descriptors + b"".join(pages)
    return (
        (len(body) + 6).to_bytes(2, "big")
        + bytes([0x70, 0, 0, 0])
        + len(block_descriptors).to_bytes(2, "big")
        + body
    )


def test_capabilities_of_a_dvd_writer() -> None:
    caps = parse_capabilities_response(mode_answer(page_2a()))
    assert caps.read_cd_r and caps.read_cd_rw and caps.read_dvd_rom and caps.read_dvd_r
    assert caps.read_dvd_ram
    assert caps.write_cd_r and caps.write_cd_rw and caps.test_write
    assert caps.write_dvd_r and caps.write_dvd_ram
    assert caps.buffer_underrun_free and caps.multisession
    assert caps.c2_pointers and caps.cdda_accurate
    assert caps.loading_mechanism_name == "tray"
    assert caps.eject and caps.lock and not caps.locked and not caps.prevent_jumper
    assert caps.max_read_speed == 7056 and caps.current_read_speed == 5645
    assert caps.buffer_size == 2048
    assert caps.max_write_speed == 8467 and caps.current_write_speed == 4234
    assert caps.write_speeds == (7056, 4234)
    assert caps.to_dict()["write_speeds"] == [7056, 4234]


def test_old_20_byte_page_has_no_write_speed_descriptors() -> None:
    old = bytearray(page_2a()[:22])
    old[1] = 20
    old[20:22] = (1412).to_bytes(2, "big")  # MMC-2 current write speed
    caps = parse_capabilities(parse(mode_answer(bytes(old))).page(0x2A))
    assert caps.current_write_speed == 1412 and caps.write_speeds == ()


def test_read_only_drive_with_caddy_and_jumper() -> None:
    p = bytearray(page_2a(()))
    p[2], p[3], p[4], p[5], p[6] = 0x01, 0x00, 0x00, 0x00, 0x04 | 0x02
    caps = parse_capabilities(parse(mode_answer(bytes(p))).page(0x2A))
    assert caps.read_cd_r and not caps.read_dvd_rom and not caps.write_cd_r
    assert caps.loading_mechanism_name == "caddy" and not caps.eject
    assert caps.prevent_jumper and caps.locked


def test_pages_after_block_descriptors_and_subpages() -> None:
    sub = bytes([0x40 | 0x1C, 0x01, 0x00, 0x02, 0xAA, 0xBB])
    answer = parse(mode_answer(bytes([0x81, 0x02, 0x11, 0x22]), sub, block_descriptors=bytes(8)))
    assert answer.medium_type == 0x70 and answer.block_descriptors == bytes(8)
    first, second = answer.pages
    assert (first.code, first.subpage, first.saveable, first.data) == (1, None, True, b"\x11\x22")
    assert (second.code, second.subpage, second.data) == (0x1C, 1, b"\xaa\xbb")
    assert answer.page(0x1C, 1) is second and answer.page(0x2A) is None


def test_errors() -> None:
    with pytest.raises(ParseError, match="too short"):
        parse(b"\0\x06\0\0\0\0\0")
    with pytest.raises(ParseError, match="block descriptor length"):
        parse(b"\0\x06\0\0\0\0\0\x10")
    with pytest.raises(ParseError, match="page 2Ah not in"):
        parse_capabilities_response(mode_answer(bytes([0x01, 0x02, 0, 0])))
    with pytest.raises(ParseError, match="expected page 2Ah"):
        parse_capabilities(ModePage(0x01, None, False, bytes(30)))
    with pytest.raises(ParseError, match="page 2Ah"):
        parse_capabilities(ModePage(0x2A, None, False, bytes(10)))


def test_page_cut_by_allocation_is_kept_but_overrun_is_refused() -> None:
    full = mode_answer(page_2a())
    caps = parse_capabilities_response(full[: 8 + 22])  # MODE SENSE with a 30-byte allocation
    assert caps.max_write_speed == 8467 and caps.write_speeds == ()
    liar = mode_answer(bytes([0x01, 0x06, 0, 0]))
    with pytest.raises(ParseError, match="page 01h claims 6 bytes"):
        parse(liar)
