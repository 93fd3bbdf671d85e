"""READ CAPACITY(10) answers (SBC-3 5.15; MMC-6 6.24): size of the mounted disc."""

from __future__ import annotations

from rescue.record import record
from rescue.scsi.fields import Record, be, require


@record(frozen=True, slots=True)
class Capacity(Record):
    last_lba: int
    block_length: int

    @property
    def blocks(self) -> int:
        return self.last_lba + 1

    @property
    def size_bytes(self) -> int:
        return self.blocks * self.block_length


def parse_read_capacity_10(data: bytes) -> Capacity:
    """Eight bytes: the last logical block address, then the block length."""
    require(data, 8, "READ CAPACITY(10)")
    return Capacity(be(data, 0, 4), be(data, 4, 4))
