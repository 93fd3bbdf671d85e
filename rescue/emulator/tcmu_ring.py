"""The TCMU command ring: the shared memory a user-space SCSI device lives in.

target_core_user gives each user-backed device a UIO region: a mailbox, a
ring of command entries, and a data area. Layout, from the kernel's
include/uapi/linux/target_core_user.h and Documentation/target/tcmu-design
(facts only; this is an independent reading):

- mailbox at 0: version u16 @0, flags u16 @2, cmdr_off u32 @4, cmdr_size
  u32 @8, cmd_head u32 @12 (the kernel's producer index), cmd_tail u32 @64
  (ours, on its own cache line);
- each entry starts with len_op u32 (length, a multiple of 8, in the high
  bits; opcode in the low 3: 0 PAD, 1 CMD, 2 TMR), cmd_id u16, kflags u8,
  uflags u8;
- CMD: iov_cnt u32 @8, iov_bidi_cnt @12, iov_dif_cnt @16, cdb_off u64 @24
  (offset of the CDB from the start of the region), iovecs @48 as {u64
  offset into the region, u64 length}. The response overwrites the request
  in place: scsi_status u8 @8, read_len u32 @12, sense[96] @16;
- TMR: tmr_type u8 @8, cmd_cnt u32 @12, cmd_ids u16[] @32;
- entries never straddle the end of the ring (the kernel pads with PAD);
  user space handles entries from cmd_tail to cmd_head, then moves cmd_tail
  past them. The kernel collects responses of everything behind the tail.

This module only reads and writes that layout in a buffer (an mmap, or a
bytearray in tests); waking the kernel is the bridge's job.
"""

from __future__ import annotations

import struct

from rescue.errors import TransportError
from rescue.record import record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import Protocol
else:
    Protocol = object  # a Protocol is for the type checker; at run time a plain base will do

OP_PAD, OP_CMD, OP_TMR = 0, 1, 2
OP_MASK = 0x7
MAILBOX_FLAG_CAP_READ_LEN = 1 << 1
UFLAG_UNKNOWN_OP = 0x1
UFLAG_READ_LEN = 0x2
SENSE_BUFFER_SIZE = 96

_MAILBOX = struct.Struct("<HHIII")  # version, flags, cmdr_off, cmdr_size, cmd_head
_TAIL_AT = 64
_HEADER = struct.Struct("<IHBB")  # len_op, cmd_id, kflags, uflags
_REQUEST = struct.Struct("<IIIxxxxQ")  # iov_cnt, iov_bidi_cnt, iov_dif_cnt, cdb_off
_IOVEC = struct.Struct("<QQ")
_IOV_AT = 48
_TMR = struct.Struct("<BxxxI")  # tmr_type, cmd_cnt
_TMR_IDS_AT = 32

# TMR types (target_core_user.h).
TMR_NAMES = {
    0: "unknown",
    1: "abort task",
    2: "abort task set",
    3: "clear ACA",
    4: "clear task set",
    5: "LUN reset",
    6: "target warm reset",
    7: "target cold reset",
    128: "LUN reset (persistent reservation)",
}

# SCSI's CDB length by opcode group, as the kernel's COMMAND_SIZE() has it:
# groups 6 and 7 (vendor specific) arrive as 10 bytes; group 3 holds the
# variable-length 7Fh form, whose additional length is in byte 7.
_GROUP_CDB_LENGTH = (6, 10, 10, 12, 16, 12, 10, 10)
_VARIABLE_LENGTH_OPCODE = 0x7F


class Buffer(Protocol):
    def __len__(self) -> int: ...

    def __getitem__(self, index: slice) -> bytes: ...

    def __setitem__(self, index: slice, value: bytes) -> None: ...


class RingError(TransportError):
    """The shared ring holds something the TCMU layout does not allow."""


@record(frozen=True)
class Command:
    """One SCSI command from the kernel, located in the ring."""

    offset: int  # of the entry, from the start of the region
    cmd_id: int
    cdb: bytes
    iovecs: tuple[tuple[int, int], ...]  # (offset, length) in the region
    end: int  # ring position just past the entry: the tail once it is consumed

    @property
    def data_length(self) -> int:
        return sum(length for _, length in self.iovecs)


@record(frozen=True)
class TaskManagement:
    """A task management notification: which commands the kernel aborted."""

    offset: int
    kind: int
    cmd_ids: tuple[int, ...]
    end: int

    @property
    def name(self) -> str:
        return TMR_NAMES.get(self.kind, f"type {self.kind}")


@record(frozen=True)
class Unknown:
    """An entry with an opcode this code does not know (a newer kernel)."""

    offset: int
    opcode: int
    end: int


Entry = Command | TaskManagement | Unknown


def cdb_length(head: bytes) -> int:
    """Length of the CDB starting with HEAD (its first 8 bytes), as the kernel sizes it."""
    if head[0] == _VARIABLE_LENGTH_OPCODE and len(head) >= 8:
        return 8 + head[7]
    return _GROUP_CDB_LENGTH[head[0] >> 5]


class CommandRing:
    """Reader and writer of one device's mailbox, ring and data area."""

    def __init__(self, buf: Buffer) -> None:
        if len(buf) < _TAIL_AT + 4:
            raise RingError(f"TCMU region of {len(buf)} bytes is too small for a mailbox")
        self.buf = buf
        self.version, self.flags, self.cmdr_off, self.cmdr_size, _ = _MAILBOX.unpack(
            buf[0 : _MAILBOX.size]
        )
        if self.cmdr_size == 0 or self.cmdr_off + self.cmdr_size > len(buf):
            raise RingError(
                f"TCMU mailbox puts a {self.cmdr_size}-byte ring at {self.cmdr_off}, "
                f"outside the {len(buf)}-byte region"
            )

    @property
    def reports_read_len(self) -> bool:
        return bool(self.flags & MAILBOX_FLAG_CAP_READ_LEN)

    @property
    def head(self) -> int:
        return self._u32(12)

    @property
    def tail(self) -> int:
        return self._u32(_TAIL_AT)

    def _u32(self, at: int) -> int:
        return int.from_bytes(self.buf[at : at + 4], "little")

    def _set_tail(self, value: int) -> None:
        self.buf[_TAIL_AT : _TAIL_AT + 4] = value.to_bytes(4, "little")

    def _entry_header(self, ring_pos: int) -> tuple[int, int, int, int]:
        """(length, opcode, cmd_id, region offset) of the entry at ring position RING_POS."""
        if ring_pos >= self.cmdr_size or ring_pos % 8:
            raise RingError(f"TCMU ring position {ring_pos} is outside or misaligned")
        at = self.cmdr_off + ring_pos
        len_op, cmd_id, _, _ = _HEADER.unpack(self.buf[at : at + _HEADER.size])
        length = len_op & ~OP_MASK
        if length < _HEADER.size or ring_pos + length > self.cmdr_size:
            raise RingError(f"TCMU entry at ring position {ring_pos} has bad length {length}")
        return length, len_op & OP_MASK, cmd_id, at

    def pending(self) -> list[Entry]:
        """Every entry from the tail to the head, PADs left out; nothing is consumed.

        Each header is read here once: an entry carries the ring position past
        it (``end``), which is all ``advance`` needs.
        """
        found: list[Entry] = []
        pos, head = self.tail, self.head
        while pos != head:
            length, opcode, cmd_id, at = self._entry_header(pos)
            pos = (pos + length) % self.cmdr_size
            if opcode == OP_CMD:
                found.append(self._command(at, cmd_id, length, pos))
            elif opcode == OP_TMR:
                found.append(self._tmr(at, length, pos))
            elif opcode != OP_PAD:
                found.append(Unknown(at, opcode, pos))
        return found

    def _command(self, at: int, cmd_id: int, length: int, end: int) -> Command:
        iov_cnt, bidi, dif, cdb_off = _REQUEST.unpack(self.buf[at + 8 : at + 8 + _REQUEST.size])
        count = iov_cnt + bidi + dif
        if _IOV_AT + count * _IOVEC.size > length:
            raise RingError(f"TCMU command {cmd_id} claims {count} iovecs in {length} bytes")
        iovecs = []
        for i in range(iov_cnt):  # bidi and DIF buffers are not used by optical drives
            start = at + _IOV_AT + i * _IOVEC.size
            offset, size = _IOVEC.unpack(self.buf[start : start + _IOVEC.size])
            self._check_span(offset, size, f"command {cmd_id} data")
            iovecs.append((offset, size))
        self._check_span(cdb_off, 6, f"command {cmd_id} CDB")
        head = self.buf[cdb_off : cdb_off + 8]
        size = cdb_length(head)
        self._check_span(cdb_off, size, f"command {cmd_id} CDB")
        return Command(at, cmd_id, bytes(self.buf[cdb_off : cdb_off + size]), tuple(iovecs), end)

    def _tmr(self, at: int, length: int, end: int) -> TaskManagement:
        kind, count = _TMR.unpack(self.buf[at + 8 : at + 8 + _TMR.size])
        if _TMR_IDS_AT + 2 * count > length:
            raise RingError(f"TCMU task management entry claims {count} ids in {length} bytes")
        raw = self.buf[at + _TMR_IDS_AT : at + _TMR_IDS_AT + 2 * count]
        ids = struct.unpack(f"<{count}H", raw)
        return TaskManagement(at, kind, ids, end)

    def _check_span(self, offset: int, size: int, what: str) -> None:
        if offset + size > len(self.buf):
            raise RingError(f"TCMU {what} at {offset}+{size} lies outside the region")

    def read_data(self, command: Command) -> bytes:
        """The data-out bytes the kernel gathered into the command's iovecs."""
        return b"".join(bytes(self.buf[o : o + n]) for o, n in command.iovecs)

    def respond(self, command: Command, status: int, sense: bytes, data_in: bytes | None) -> int:
        """Scatter DATA_IN into the iovecs and write the response; returns bytes placed.

        DATA_IN is None for a command that moves no data to the host; for one
        that does, a kernel with the READ_LEN capability learns how much came
        back (a short INQUIRY then shows as a residual, as on a real drive).
        The tail is not moved: ``advance`` does that, so a caller can answer
        several entries before waking the kernel once.
        """
        placed = 0
        for offset, size in command.iovecs if data_in else ():
            chunk = data_in[placed : placed + size]
            if not chunk:
                break
            self.buf[offset : offset + len(chunk)] = chunk
            placed += len(chunk)
        at = command.offset
        uflags = UFLAG_READ_LEN if self.reports_read_len and data_in is not None else 0
        self.buf[at + 7 : at + 8] = bytes([uflags])
        sense = sense[:SENSE_BUFFER_SIZE]
        self.buf[at + 8 : at + 16] = struct.pack("<BxxxI", status, placed)
        self.buf[at + 16 : at + 16 + SENSE_BUFFER_SIZE] = sense.ljust(SENSE_BUFFER_SIZE, b"\0")
        return placed

    def mark_unknown(self, entry: Unknown) -> None:
        """Tell the kernel we did not understand an entry's opcode."""
        self.buf[entry.offset + 7 : entry.offset + 8] = bytes([UFLAG_UNKNOWN_OP])

    def advance(self, entry: Entry) -> None:
        """Move the tail past ENTRY and any PADs before it (entries are consumed in order).

        ENTRY comes from ``pending``, which read its header and noted where it
        ends; the ring is not walked again per entry (a batch of commands cost
        one header read each, not one per entry still ahead of it).
        """
        self._set_tail(entry.end)

    def skip_pads(self) -> None:
        """Consume PADs at the tail, so an idle ring shows tail == head."""
        pos, head = self.tail, self.head
        while pos != head:
            length, opcode, _, _ = self._entry_header(pos)
            if opcode != OP_PAD:
                break
            pos = (pos + length) % self.cmdr_size
        self._set_tail(pos)
