"""READ TOC/PMA/ATIP answers (MMC-6 6.26): format 0 (TOC) and 1 (session info).

Addresses come as a signed LBA or as MSF (minute/second/frame, 75 frames a
second, with the 2-second pre-gap: LBA 0 is 00:02:00, per ECMA-130). Both
are normalised to LBA here and the MSF kept for display.
"""

from __future__ import annotations

from enum import IntEnum

from rescue.errors import ParseError
from rescue.record import record
from rescue.scsi.fields import Record, be, require


class TocFormat(IntEnum):
    """READ TOC/PMA/ATIP format field (MMC-6 6.26.2.3); the two parsed here."""

    TOC = 0
    SESSION_INFO = 1


LEAD_OUT = 0xAA
DESCRIPTOR = 8
FRAMES_PER_SECOND = 75
PREGAP_FRAMES = 150


def msf_to_lba(minute: int, second: int, frame: int) -> int:
    return (minute * 60 + second) * FRAMES_PER_SECOND + frame - PREGAP_FRAMES


@record(frozen=True, slots=True)
class TocEntry(Record):
    track: int
    adr: int
    control: int
    lba: int
    msf: tuple[int, int, int] | None  # as sent, when the MSF form was asked for

    @property
    def is_data(self) -> bool:
        """CONTROL bit 2: a data track rather than audio."""
        return bool(self.control & 0x04)


@record(frozen=True, slots=True)
class Toc(Record):
    first: int  # first track (format 0) or first complete session (format 1)
    last: int
    entries: tuple[TocEntry, ...]

    @property
    def lead_out(self) -> TocEntry | None:
        for entry in self.entries:
            if entry.track == LEAD_OUT:
                return entry
        return None


def _entry(data: bytes, pos: int, msf: bool) -> TocEntry:
    if msf:
        m, s, f = data[pos + 5], data[pos + 6], data[pos + 7]
        lba, stamp = msf_to_lba(m, s, f), (m, s, f)
    else:
        lba, stamp = int.from_bytes(data[pos + 4 : pos + 8], "big", signed=True), None
    return TocEntry(data[pos + 2], data[pos + 1] >> 4, data[pos + 1] & 0x0F, lba, stamp)


def parse_toc(data: bytes, msf: bool = False) -> Toc:
    """Format 0 or 1 answer: 4-byte header, then 8-byte track descriptors.

    ``msf`` must match the MSF bit of the CDB: the answer itself does not say.
    Descriptors beyond what the allocation length let through are dropped; a
    data length that is not header + whole descriptors is an error.
    """
    require(data, 4, "READ TOC")
    length = be(data, 0, 2)
    if length < 2 or (length - 2) % DESCRIPTOR:
        raise ParseError(f"READ TOC: data length {length} is not a whole number of descriptors")
    end = min(len(data), length + 2)
    count = (end - 4) // DESCRIPTOR
    entries = tuple(_entry(data, 4 + DESCRIPTOR * i, msf) for i in range(count))
    return Toc(data[2], data[3], entries)


def parse_session_info(data: bytes, msf: bool = False) -> Toc:
    """Format 1: first and last complete session, and where the last one starts."""
    toc = parse_toc(data, msf)
    if not toc.entries:
        raise ParseError("READ TOC session info: no descriptor for the last session")
    return toc
