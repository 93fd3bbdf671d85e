"""INQUIRY Vital Product Data pages (SPC-4 7.8): 00h, 80h and 83h.

The supported-pages list tells which other pages are worth asking for; the
unit serial number and the device identification descriptors tell two
identical drives on one bench apart in reports and journals.
"""

from __future__ import annotations

from rescue.errors import ParseError
from rescue.record import record
from rescue.scsi.fields import Record, ascii_field, be, extent, require

SUPPORTED_PAGES = 0x00
UNIT_SERIAL = 0x80
DEVICE_IDENTIFICATION = 0x83

# SPC-4 table "Code set"
CODE_SETS: dict[int, str] = {1: "binary", 2: "ascii", 3: "utf-8"}

_TEXT_CODE_SETS = {2: "ascii", 3: "utf-8"}

# SPC-4 table "Association"
ASSOCIATIONS: dict[int, str] = {0: "logical unit", 1: "target port", 2: "target device"}

# SPC-4 table "Designator type"
DESIGNATOR_TYPES: dict[int, str] = {
    0x0: "vendor specific",
    0x1: "T10 vendor ID based",
    0x2: "EUI-64 based",
    0x3: "NAA",
    0x4: "relative target port identifier",
    0x5: "target port group",
    0x6: "logical unit group",
    0x7: "MD5 logical unit identifier",
    0x8: "SCSI name string",
    0x9: "protocol specific port identifier",
    0xA: "UUID",
}


def _page_body(data: bytes, page: int, what: str) -> tuple[bytes, bool]:
    """Check the 4-byte VPD header; return the page's bytes and whether they were cut.

    The page length may promise more than the allocation let through; the
    body is what is actually present, but a different page code is an error.
    """
    require(data, 4, what)
    if data[1] != page:
        raise ParseError(f"{what}: got page {data[1]:02X}h instead of {page:02X}h")
    end, truncated = extent(data, 4 + be(data, 2, 2))
    return bytes(data[4:end]), truncated


@record(frozen=True, slots=True)
class SupportedPages(Record):
    pages: tuple[int, ...]


def parse_supported_pages(data: bytes) -> SupportedPages:
    """VPD page 00h: the list of page codes the drive answers."""
    return SupportedPages(tuple(_page_body(data, SUPPORTED_PAGES, "VPD 00h")[0]))


@record(frozen=True, slots=True)
class UnitSerial(Record):
    serial: str


def parse_unit_serial(data: bytes) -> UnitSerial:
    """VPD page 80h: the product serial number, ASCII."""
    return UnitSerial(ascii_field(_page_body(data, UNIT_SERIAL, "VPD 80h")[0]))


@record(frozen=True, slots=True)
class Designator(Record):
    protocol: int
    code_set: int
    code_set_name: str
    piv: bool
    association: int
    association_name: str
    designator_type: int
    designator_type_name: str
    value: bytes
    text: str | None  # the value decoded when the code set says it is text


@record(frozen=True, slots=True)
class DeviceIdentification(Record):
    designators: tuple[Designator, ...]
    truncated: bool  # the allocation length cut off descriptors the drive had


def parse_device_identification(data: bytes) -> DeviceIdentification:
    """VPD page 83h: designation descriptors, each with a 4-byte header.

    Descriptors the allocation length cut off are dropped (``truncated``);
    one that overruns the page's own length is an error.
    """
    body, truncated = _page_body(data, DEVICE_IDENTIFICATION, "VPD 83h")
    found = []
    pos = 0
    while pos < len(body):
        end = pos + 4 + body[pos + 3] if len(body) - pos >= 4 else len(body) + 1
        if end > len(body) and truncated:
            break
        require(body[pos:], 4, "VPD 83h descriptor header")
        length = body[pos + 3]
        if end > len(body):
            raise ParseError(
                f"VPD 83h: descriptor at {pos} claims {length} bytes, "
                f"only {len(body) - pos - 4} left"
            )
        code_set = body[pos] & 0x0F
        association = (body[pos + 1] >> 4) & 0x03
        dtype = body[pos + 1] & 0x0F
        value = body[pos + 4 : end]
        encoding = _TEXT_CODE_SETS.get(code_set)
        text = ascii_field(value, encoding) if encoding else None
        found.append(
            Designator(
                protocol=body[pos] >> 4,
                code_set=code_set,
                code_set_name=CODE_SETS.get(code_set, "reserved"),
                piv=bool(body[pos + 1] & 0x80),
                association=association,
                association_name=ASSOCIATIONS.get(association, "reserved"),
                designator_type=dtype,
                designator_type_name=DESIGNATOR_TYPES.get(dtype, "reserved"),
                value=value,
                text=text,
            )
        )
        pos = end
    return DeviceIdentification(tuple(found), truncated)
