"""READ BUFFER descriptor answers (SPC-4 6.17.5, mode 03h).

Before reading or writing a drive's buffer in chunks the tool asks for its
descriptor: the offset boundary says which offsets the drive accepts, the
capacity how large the buffer is. Both bound the WRITE BUFFER plan.
"""

from __future__ import annotations

from rescue.record import record
from rescue.scsi.fields import Record, be, require

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
