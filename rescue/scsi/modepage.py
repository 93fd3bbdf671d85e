"""MODE SENSE(10) answers and the MMC capabilities page 2Ah.

Page 2Ah (MMC-3 6.3.11, "CD/DVD Capabilities and Mechanical Status"; kept
but marked obsolete in part by MMC-5/6) is what older drives offer instead
of a full feature list: which media they read and write, the loading
mechanism, whether they can eject and lock, speeds and buffer size. It has
no Blu-ray bits: BD support shows only as GET CONFIGURATION features 0040h
(BD Read) and 0041h (BD Write), see ``rescue.scsi.configuration``.
"""

from __future__ import annotations

from enum import IntEnum

from rescue.errors import ParseError
from rescue.record import record
from rescue.scsi.cdb import CAPABILITIES_PAGE  # the builder's default page, defined there
from rescue.scsi.fields import Record, be, extent, require


class PageControl(IntEnum):
    """MODE SENSE page control (SPC-4 6.11.1)."""

    CURRENT = 0
    CHANGEABLE = 1
    DEFAULT = 2
    SAVED = 3


HEADER_LENGTH = 8  # mode parameter header for the 10-byte CDB (SPC-4 7.5.5)

# MMC-3 table "Loading Mechanism Type"
LOADING_MECHANISMS: dict[int, str] = {
    0: "caddy",
    1: "tray",
    2: "pop-up",
    4: "changer, individual discs",
    5: "changer, magazine",
}


@record(frozen=True, slots=True)
class ModePage(Record):
    code: int
    subpage: int | None  # None for a page in the 0-page format (SPF=0)
    saveable: bool
    data: bytes  # the page parameters after the page header


@record(frozen=True, slots=True)
class ModeSense(Record):
    medium_type: int
    device_specific: int
    block_descriptors: bytes
    pages: tuple[ModePage, ...]

    def page(self, code: int, subpage: int | None = None) -> ModePage | None:
        for page in self.pages:
            if page.code == code and (subpage is None or page.subpage == subpage):
                return page
        return None


def parse_mode_sense_10(data: bytes) -> ModeSense:
    """Split a MODE SENSE(10) answer into its header, block descriptors and pages.

    Like every parser here, it keeps what the allocation length let through
    (a page cut short is kept cut short), but refuses length fields that
    contradict each other.
    """
    require(data, HEADER_LENGTH, "MODE SENSE(10)")
    end, truncated = extent(data, be(data, 0, 2) + 2)
    bd_length = be(data, 6, 2)
    pos = HEADER_LENGTH + bd_length
    if pos > end:
        raise ParseError(f"MODE SENSE(10): block descriptor length {bd_length} overruns the data")
    pages = []
    while pos + 2 <= end:
        spf = bool(data[pos] & 0x40)
        header = 4 if spf else 2
        if pos + header > end:
            break
        length = be(data, pos + 2, 2) if spf else data[pos + 1]
        stop = pos + header + length
        if stop > end:
            if not truncated:
                raise ParseError(
                    f"MODE SENSE(10): page {data[pos] & 0x3F:02X}h claims {length} bytes, "
                    f"the mode data length leaves {end - pos - header}"
                )
            stop = end  # keep the part of the page the allocation let through
        pages.append(
            ModePage(
                code=data[pos] & 0x3F,
                subpage=data[pos + 1] if spf else None,
                saveable=bool(data[pos] & 0x80),
                data=bytes(data[pos + header : stop]),
            )
        )
        pos = stop
    return ModeSense(
        data[2], data[3], bytes(data[HEADER_LENGTH : HEADER_LENGTH + bd_length]), tuple(pages)
    )


@record(frozen=True, slots=True)
class Capabilities(Record):
    """Page 2Ah decoded; speeds are in kB/s (1 kB = 1000 bytes), buffer in KiB."""

    read_cd_r: bool
    read_cd_rw: bool
    read_dvd_rom: bool
    read_dvd_r: bool
    read_dvd_ram: bool
    write_cd_r: bool
    write_cd_rw: bool
    write_dvd_r: bool
    write_dvd_ram: bool
    test_write: bool
    buffer_underrun_free: bool
    multisession: bool
    c2_pointers: bool
    cdda_accurate: bool
    loading_mechanism: int
    loading_mechanism_name: str
    eject: bool
    lock: bool
    locked: bool
    prevent_jumper: bool
    max_read_speed: int
    buffer_size: int
    current_read_speed: int
    max_write_speed: int | None
    current_write_speed: int | None
    write_speeds: tuple[int, ...]  # from the MMC-3 performance descriptors, if present


CAPABILITIES_MIN = 16  # through bytes 14-15 (current read speed), the MMC-1 era page


def _bit(byte: int, bit: int) -> bool:
    return bool(byte >> bit & 1)


def _optional(p: bytes, offset: int) -> int | None:
    """A 16-bit field that older, shorter versions of the page do not have."""
    return be(p, offset, 2) if len(p) >= offset + 2 else None


def parse_capabilities(page: ModePage) -> Capabilities:
    """Decode page 2Ah's parameters (``page.data``: byte 2 of the page onwards)."""
    if page.code != CAPABILITIES_PAGE:
        raise ParseError(f"MODE SENSE: expected page 2Ah, got {page.code:02X}h")
    # offsets below are the standard's byte numbers, counted from the page header
    p = b"\0\0" + page.data
    require(p, CAPABILITIES_MIN, "MODE SENSE page 2Ah")
    write_speeds: tuple[int, ...] = ()
    if len(p) >= 32:
        count = be(p, 30, 2)
        have = (len(p) - 32) // 4
        write_speeds = tuple(be(p, 32 + 4 * i + 2, 2) for i in range(min(count, have)))
    mechanism = p[6] >> 5
    return Capabilities(
        read_cd_r=_bit(p[2], 0),
        read_cd_rw=_bit(p[2], 1),
        read_dvd_rom=_bit(p[2], 3),
        read_dvd_r=_bit(p[2], 4),
        read_dvd_ram=_bit(p[2], 5),
        write_cd_r=_bit(p[3], 0),
        write_cd_rw=_bit(p[3], 1),
        test_write=_bit(p[3], 2),
        write_dvd_r=_bit(p[3], 4),
        write_dvd_ram=_bit(p[3], 5),
        buffer_underrun_free=_bit(p[4], 7),
        multisession=_bit(p[4], 6),
        c2_pointers=_bit(p[5], 4),
        cdda_accurate=_bit(p[5], 1),
        loading_mechanism=mechanism,
        loading_mechanism_name=LOADING_MECHANISMS.get(mechanism, "reserved"),
        eject=_bit(p[6], 3),
        prevent_jumper=_bit(p[6], 2),
        locked=_bit(p[6], 1),
        lock=_bit(p[6], 0),
        max_read_speed=be(p, 8, 2),
        buffer_size=be(p, 12, 2),
        current_read_speed=be(p, 14, 2),
        max_write_speed=_optional(p, 18),
        # MMC-3 moved the current write speed from bytes 20-21 to 28-29
        current_write_speed=_optional(p, 28) if len(p) >= 30 else _optional(p, 20),
        write_speeds=write_speeds,
    )


def parse_capabilities_response(data: bytes) -> Capabilities:
    """MODE SENSE(10) for page 2Ah straight to its decoded form."""
    page = parse_mode_sense_10(data).page(CAPABILITIES_PAGE)
    if page is None:
        raise ParseError("MODE SENSE(10): page 2Ah not in the answer")
    return parse_capabilities(page)
