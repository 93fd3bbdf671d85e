"""READ BUFFER descriptor answers (SPC-4 6.17.5, mode 03h).

Before reading or writing a drive's buffer in chunks the tool asks for its
descriptor: the offset boundary says which offsets the drive accepts, the
capacity how large the buffer is. Both bound the WRITE BUFFER plan.
"""

from __future__ import annotations

from enum import IntEnum

from rescue.record import record
from rescue.scsi.fields import Record, be, require


class WriteBufferMode(IntEnum):
    """WRITE BUFFER modes (SPC-4 6.49.1, table of mode field values)."""

    HEADER_AND_DATA = 0x00  # obsolete in SPC-4
    VENDOR = 0x01
    DATA = 0x02
    DOWNLOAD = 0x04  # download microcode and activate
    DOWNLOAD_SAVE = 0x05  # download microcode, save, and activate
    DOWNLOAD_OFFSETS = 0x06  # with offsets, activate
    DOWNLOAD_OFFSETS_SAVE = 0x07  # with offsets, save, and activate
    ECHO = 0x0A  # write data to echo buffer
    DOWNLOAD_OFFSETS_EVENTS_DEFER = 0x0D  # with offsets, select activation events, save, defer
    DOWNLOAD_OFFSETS_SAVE_DEFER = 0x0E  # with offsets, save, and defer activation
    ACTIVATE_DEFERRED = 0x0F  # activate deferred microcode


class ReadBufferMode(IntEnum):
    """READ BUFFER modes (SPC-4 6.17.1); 6 and 7 are vendor uses seen on optical drives."""

    HEADER_AND_DATA = 0x00
    VENDOR = 0x01
    DATA = 0x02
    DESCRIPTOR = 0x03
    VENDOR_OFFSETS = 0x06  # MediaTek: memory at a 24-bit address (see read_buffer_memory)
    VENDOR_OFFSETS_7 = 0x07
    ECHO = 0x0A
    ECHO_DESCRIPTOR = 0x0B


NO_BOUNDARY = 0xFF  # SPC-4: offsets other than zero are not supported


@record(frozen=True, slots=True)
class BufferDescriptor(Record):
    offset_boundary: int  # the raw field: offsets must be multiples of 2**field
    capacity: int  # bytes

    @property
    def alignment(self) -> int | None:
        """Required offset multiple in bytes; None when only offset 0 is allowed."""
        if self.offset_boundary == NO_BOUNDARY:
            return None
        return 1 << self.offset_boundary

    def accepts_offset(self, offset: int) -> bool:
        align = self.alignment
        return offset == 0 if align is None else offset % align == 0


def parse_buffer_descriptor(data: bytes) -> BufferDescriptor:
    """Four bytes: offset boundary, then a 24-bit buffer capacity."""
    require(data, 4, "READ BUFFER descriptor")
    return BufferDescriptor(data[0], be(data, 1, 3))
