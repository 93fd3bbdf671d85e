"""INQUIRY standard data and VPD pages, on responses built from the SPC-4 layout."""

import pytest

from rescue.errors import ParseError
from rescue.scsi.inquiry import parse_inquiry
from rescue.scsi.vpd import (
    parse_device_identification,
    parse_supported_pages,
    parse_unit_serial,
)


def standard_inquiry(
    vendor: bytes = b"BTC     ",
    product: bytes = b"DRW-1008        ",
    revision: bytes = b"0151",
    extra: bytes = b"",
    additional: int | None = None,
) -> bytes:
    body = bytes([0x05, 0x80, 0x00, 0x32]) + b"\0\0\0\0" + vendor + product + revision + extra
    length = len(body) - 5 if additional is None else additional
    return body[:4] + bytes([length]) + body[5:]


def test_btc_drive_identity() -> None:
    date = b"2005/06/28 10:00"
    inq = parse_inquiry(standard_inquiry(extra=date + b"\0" * 4))
    assert (inq.vendor, inq.product, inq.revision) == ("BTC", "DRW-1008", "0151")
    assert inq.device_type == 5 and inq.device_type_name == "CD/DVD device"
    assert inq.qualifier == 0 and inq.is_optical
    assert inq.removable
    assert inq.response_format == 2
    assert inq.vendor_specific == date + b"\0" * 4
    assert inq.to_dict()["vendor_specific"] == (date + b"\0" * 4).hex()


def test_vendor_specific_stops_at_announced_length_and_byte_55() -> None:
    inq = parse_inquiry(standard_inquiry(extra=bytes(range(40)), additional=31 + 10))
    assert inq.vendor_specific == bytes(range(10))
    inq = parse_inquiry(standard_inquiry(extra=bytes(range(40))))
    assert inq.vendor_specific == bytes(range(20))


def test_nul_padding_and_garbage_do_not_raise() -> None:
    product = b"\xffBH16NS40\0" + b"\0" * 6
    inq = parse_inquiry(standard_inquiry(vendor=b"HL-DT-\0\0", product=product))
    assert inq.vendor == "HL-DT-"
    assert inq.product == "\ufffdBH16NS40"


def test_qualifier_and_type_split() -> None:
    raw = bytearray(standard_inquiry())
    raw[0] = 0x7F  # qualifier 3, type 1Fh: no device at this LUN
    inq = parse_inquiry(bytes(raw))
    assert (inq.qualifier, inq.device_type) == (3, 0x1F)
    assert inq.qualifier_name == "not supported"
    assert not inq.is_optical


def test_short_and_inconsistent_inquiry_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="too short"):
        parse_inquiry(standard_inquiry()[:35])
    with pytest.raises(ParseError, match="additional length"):
        parse_inquiry(standard_inquiry(additional=20))


def test_supported_pages() -> None:
    pages = parse_supported_pages(bytes([0x05, 0x00, 0x00, 0x03, 0x00, 0x80, 0x83]))
    assert pages.pages == (0x00, 0x80, 0x83)


def test_unit_serial_is_stripped_and_truncation_tolerated() -> None:
    page = bytes([0x05, 0x80, 0x00, 0x0C]) + b"  K1234567890"[:12]
    assert parse_unit_serial(page).serial == "K123456789"
    assert parse_unit_serial(page[:8]).serial == "K1"


def test_wrong_page_code_is_refused() -> None:
    with pytest.raises(ParseError, match="page 83h instead of 80h"):
        parse_unit_serial(bytes([0x05, 0x83, 0x00, 0x00]))


def test_device_identification_descriptors() -> None:
    t10 = bytes([0x02, 0x01, 0x00, 0x10]) + b"ATA     DRW-1008"
    naa = bytes([0x01, 0x03, 0x00, 0x08]) + bytes.fromhex("5000c50012345678")
    port = bytes([0x61, 0x94, 0x00, 0x04]) + bytes.fromhex("00000001")
    body = t10 + naa + port
    page = bytes([0x05, 0x83]) + len(body).to_bytes(2, "big") + body
    ids = parse_device_identification(page).designators
    assert [d.designator_type_name for d in ids] == [
        "T10 vendor ID based",
        "NAA",
        "relative target port identifier",
    ]
    assert ids[0].text == "ATA     DRW-1008" and ids[0].code_set_name == "ascii"
    assert ids[1].text is None and ids[1].value == bytes.fromhex("5000c50012345678")
    assert ids[2].piv and ids[2].association_name == "target port" and ids[2].protocol == 6


def test_device_identification_overrun_is_refused() -> None:
    body = bytes([0x02, 0x01, 0x00, 0x20]) + b"short"
    page = bytes([0x05, 0x83]) + len(body).to_bytes(2, "big") + body
    with pytest.raises(ParseError, match="claims 32 bytes"):
        parse_device_identification(page)


def test_device_identification_cut_by_allocation_keeps_whole_descriptors() -> None:
    first = bytes([0x02, 0x01, 0x00, 0x08]) + b"ATA     "
    second = bytes([0x01, 0x03, 0x00, 0x08]) + bytes(8)
    body = first + second
    page = bytes([0x05, 0x83]) + len(body).to_bytes(2, "big") + body
    ident = parse_device_identification(page[: 4 + len(first) + 6])
    assert ident.truncated and [d.text for d in ident.designators] == ["ATA"]
    assert not parse_device_identification(page).truncated
