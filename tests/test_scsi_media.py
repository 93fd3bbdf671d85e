"""READ CAPACITY, READ TOC and GET EVENT STATUS answers, from SBC-3 and MMC-6 layouts."""

import pytest

from rescue.errors import ParseError
from rescue.scsi.capacity import parse_read_capacity_10
from rescue.scsi.events import parse_event_status
from rescue.scsi.toc import msf_to_lba, parse_session_info, parse_toc


def test_read_capacity_of_a_dvd() -> None:
    cap = parse_read_capacity_10(bytes.fromhex("0023052f 00000800"))
    assert cap.last_lba == 0x23052F and cap.blocks == 0x230530
    assert cap.block_length == 2048 and cap.size_bytes == 0x230530 * 2048
    with pytest.raises(ParseError):
        parse_read_capacity_10(bytes(7))


def toc_answer(first: int, last: int, *descs: bytes) -> bytes:
    body = b"".join(descs)
    return (len(body) + 2).to_bytes(2, "big") + bytes([first, last]) + body


def desc(track: int, control: int, address: bytes) -> bytes:
    return bytes([0, 0x10 | control, track, 0]) + address


def test_toc_lba_form_with_audio_and_data_tracks() -> None:
    raw = toc_answer(
        1,
        2,
        desc(1, 0x0, (0).to_bytes(4, "big")),
        desc(2, 0x4, (15000).to_bytes(4, "big")),
        desc(0xAA, 0x4, (200000).to_bytes(4, "big")),
    )
    toc = parse_toc(raw)
    assert (toc.first, toc.last) == (1, 2)
    assert [(e.track, e.lba, e.is_data, e.adr) for e in toc.entries] == [
        (1, 0, False, 1),
        (2, 15000, True, 1),
        (0xAA, 200000, True, 1),
    ]
    assert toc.lead_out is not None and toc.lead_out.lba == 200000


def test_toc_negative_lba_is_signed() -> None:
    toc = parse_toc(toc_answer(1, 1, desc(1, 4, (-150).to_bytes(4, "big", signed=True))))
    assert toc.entries[0].lba == -150


def test_toc_msf_form() -> None:
    raw = toc_answer(1, 1, desc(1, 4, bytes([0, 0, 2, 0])), desc(0xAA, 4, bytes([0, 74, 30, 5])))
    toc = parse_toc(raw, msf=True)
    assert toc.entries[0].lba == 0 and toc.entries[0].msf == (0, 2, 0)
    assert toc.entries[1].lba == (74 * 60 + 30) * 75 + 5 - 150
    assert msf_to_lba(0, 2, 0) == 0


def test_toc_truncated_by_allocation_keeps_whole_descriptors() -> None:
    raw = toc_answer(1, 3, *(desc(t, 4, t.to_bytes(4, "big")) for t in (1, 2, 3)))
    assert [e.track for e in parse_toc(raw[: 4 + 8 + 5]).entries] == [1]


def test_session_info() -> None:
    info = parse_session_info(toc_answer(1, 2, desc(3, 4, (30000).to_bytes(4, "big"))))
    assert (info.first, info.last) == (1, 2)
    assert info.entries[0].track == 3 and info.entries[0].lba == 30000
    with pytest.raises(ParseError, match="no descriptor"):
        parse_session_info(toc_answer(1, 1))


@pytest.mark.parametrize("raw", [b"\0\x0a\x01", b"\0\x05\x01\x01\0\0\0", b"\0\x01\x01\x01"])
def test_toc_errors(raw: bytes) -> None:
    with pytest.raises(ParseError):
        parse_toc(raw)


def test_media_event_tray_open_empty() -> None:
    status = parse_event_status(bytes.fromhex("0006 04 5e  00 01 00 00"))
    assert status.event_class_name == "media" and not status.no_event_available
    assert status.media is not None
    assert status.media.tray_open and not status.media.media_present
    assert status.supported_classes == 0x5E


def test_media_event_new_disc() -> None:
    status = parse_event_status(bytes.fromhex("0006 04 10  02 02 00 00"))
    assert status.media.name == "new media" and status.media.media_present
    assert not status.media.tray_open


def test_no_event_available() -> None:
    status = parse_event_status(bytes.fromhex("0002 80 10"))
    assert status.no_event_available and status.media is None


def test_media_event_without_descriptor_is_refused() -> None:
    with pytest.raises(ParseError, match="media descriptor"):
        parse_event_status(bytes.fromhex("0004 04 10 02 02"))
