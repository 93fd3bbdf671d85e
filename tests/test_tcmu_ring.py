"""The TCMU ring handling against a fake region laid out as the kernel lays it out.

FakeKernel plays target_core_user's part (include/uapi/linux/target_core_user.h
and drivers/target/target_core_user.c): it writes command, TMR and PAD
entries at cmd_head, places CDBs after the iovecs (entries at least as long
as the response), and reads answers back. The real kernel is exercised by
tests/guest/test_tcmu.py.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rescue.emulator.base import CHECK_CONDITION, GOOD, Reply, VirtualClock
from rescue.emulator.tcmu import RingServer, is_data_out
from rescue.emulator.tcmu_ring import (
    MAILBOX_FLAG_CAP_READ_LEN,
    OP_CMD,
    OP_PAD,
    OP_TMR,
    UFLAG_READ_LEN,
    UFLAG_UNKNOWN_OP,
    Command,
    CommandRing,
    RingError,
    TaskManagement,
    cdb_length,
)
from rescue.errors import RescueError

CMDR_OFF = 128
RESPONSE_SIZE = 112  # sizeof(struct tcmu_cmd_entry): header + rsp with 96 sense bytes


class FakeKernel:
    def __init__(self, ring_size: int = 4096, data_size: int = 1 << 16, read_len: bool = True):
        self.ring_size = ring_size
        self.buf = bytearray(CMDR_OFF + ring_size + data_size)
        flags = MAILBOX_FLAG_CAP_READ_LEN if read_len else 0
        struct.pack_into("<HHIII", self.buf, 0, 2, flags, CMDR_OFF, ring_size, 0)
        self.data_start = self.data_next = CMDR_OFF + ring_size

    @property
    def head(self) -> int:
        return struct.unpack_from("<I", self.buf, 12)[0]

    @property
    def tail(self) -> int:
        return struct.unpack_from("<I", self.buf, 64)[0]

    def _place(self, size: int) -> int:
        """Where an entry of SIZE goes; PAD to the end first if it would not fit."""
        head = self.head
        if head + size > self.ring_size:
            struct.pack_into("<I", self.buf, CMDR_OFF + head, (self.ring_size - head) | OP_PAD)
            head = 0
        struct.pack_into("<I", self.buf, 12, (head + size) % self.ring_size)
        return CMDR_OFF + head

    def _alloc(self, length: int) -> int:
        if self.data_next + length > len(self.buf):
            self.data_next = self.data_start
        at = self.data_next
        self.data_next += length
        return at

    def command(self, cmd_id: int, cdb: bytes, data: bytes = b"", length: int = 0,
                pieces: int = 1) -> int:  # fmt: skip
        """Queue a command moving LENGTH (or len(DATA)) bytes in PIECES iovecs."""
        length = length or len(data)
        sizes = [length // pieces] * pieces
        sizes[-1] += length - sum(sizes)
        iovecs = [(self._alloc(n), n) for n in sizes if n] if length else []
        base = max(48 + 16 * len(iovecs), RESPONSE_SIZE)
        size = (base + len(cdb) + 7) // 8 * 8
        at = self._place(size)
        struct.pack_into("<IHBB", self.buf, at, size | OP_CMD, cmd_id, 0, 0)
        struct.pack_into("<IIIxxxxQ", self.buf, at + 8, len(iovecs), 0, 0, at + base)
        for i, (offset, n) in enumerate(iovecs):
            struct.pack_into("<QQ", self.buf, at + 48 + 16 * i, offset, n)
        self.buf[at + base : at + base + len(cdb)] = cdb
        flat = bytearray(data)
        for offset, n in iovecs:
            self.buf[offset : offset + n] = flat[:n].ljust(n, b"\xee")
            flat = flat[n:]
        self.iovecs = iovecs
        return at

    def tmr(self, kind: int, cmd_ids: list[int]) -> int:
        size = (32 + 2 * len(cmd_ids) + 7) // 8 * 8
        at = self._place(size)
        struct.pack_into("<IHBB", self.buf, at, size | OP_TMR, 0, 0, 0)
        struct.pack_into(f"<BxxxI16x{len(cmd_ids)}H", self.buf, at + 8, kind, len(cmd_ids),
                         *cmd_ids)  # fmt: skip
        return at

    def response(self, at: int) -> tuple[int, int, int, bytes]:
        """(status, read_len, uflags, sense) of the answered entry at AT."""
        uflags = self.buf[at + 7]
        status, read_len = struct.unpack_from("<BxxxI", self.buf, at + 8)
        return status, read_len, uflags, bytes(self.buf[at + 16 : at + 112])

    def data_in(self, iovecs: list[tuple[int, int]]) -> bytes:
        return b"".join(bytes(self.buf[o : o + n]) for o, n in iovecs)


class Recorder:
    """A model that answers from a table and records what it was given."""

    def __init__(self, replies: dict[int, Reply] | None = None) -> None:
        self.clock = VirtualClock()
        self.replies = replies or {}
        self.calls: list[tuple[bytes, bytes | None, int]] = []

    def submit(self, cdb: bytes, data_out: bytes | None, data_in_len: int) -> Reply:
        self.calls.append((cdb, data_out, data_in_len))
        return self.replies.get(cdb[0], Reply())


def serve(kernel: FakeKernel, device: object, **kwargs: object) -> RingServer:
    return RingServer("test", device, CommandRing(kernel.buf), log=lambda _: None, **kwargs)


INQUIRY = bytes([0x12, 0, 0, 0, 96, 0])
WRITE_BUFFER = bytes([0x3B, 5, 0, 0, 0, 0, 0, 0x10, 0, 0])


def test_data_in_is_scattered_over_iovecs_and_its_length_reported() -> None:
    kernel = FakeKernel()
    answer = bytes(range(36))
    device = Recorder({0x12: Reply(data=answer)})
    at = kernel.command(7, INQUIRY, length=96, pieces=3)
    server = serve(kernel, device)
    assert server.service() is True
    assert device.calls == [(INQUIRY, None, 96)]
    status, read_len, uflags, _ = kernel.response(at)
    assert (status, read_len, uflags) == (GOOD, 36, UFLAG_READ_LEN)
    assert kernel.data_in(kernel.iovecs)[:36] == answer
    assert kernel.tail == kernel.head


def test_data_in_is_truncated_to_the_buffers() -> None:
    kernel = FakeKernel()
    device = Recorder({0x12: Reply(data=bytes(range(200)))})
    at = kernel.command(1, INQUIRY, length=96, pieces=2)
    serve(kernel, device).service()
    assert kernel.response(at)[1] == 96
    assert kernel.data_in(kernel.iovecs) == bytes(range(96))


def test_data_out_is_gathered_for_write_class_opcodes() -> None:
    kernel = FakeKernel()
    payload = bytes(range(256)) * 16
    device = Recorder()
    at = kernel.command(3, WRITE_BUFFER, data=payload, pieces=4)
    serve(kernel, device).service()
    assert device.calls == [(WRITE_BUFFER, payload, 0)]
    status, read_len, uflags, _ = kernel.response(at)
    assert status == GOOD and uflags & UFLAG_READ_LEN == 0


def test_a_model_can_declare_vendor_data_out_opcodes() -> None:
    device = Recorder()
    assert not is_data_out(device, bytes([0xFB, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
    device.data_out_opcodes = frozenset({0xFB})  # type: ignore[attr-defined]
    kernel = FakeKernel()
    kernel.command(1, bytes([0xFB]) + bytes(9), data=b"flash")
    serve(kernel, device).service()
    assert device.calls[0][1:] == (b"flash", 0)


def test_status_and_sense_are_written_and_sense_is_cut_to_96_bytes() -> None:
    kernel = FakeKernel()
    sense = bytes([0x70, 0, 5, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0]) + bytes(range(100))
    at = kernel.command(2, INQUIRY, length=96)
    serve(kernel, Recorder({0x12: Reply(status=CHECK_CONDITION, sense=sense)})).service()
    status, _, _, written = kernel.response(at)
    assert status == CHECK_CONDITION and written == sense[:96]


def test_no_read_len_without_the_kernel_capability() -> None:
    kernel = FakeKernel(read_len=False)
    at = kernel.command(1, INQUIRY, length=96)
    serve(kernel, Recorder({0x12: Reply(data=b"abc")})).service()
    assert kernel.response(at)[2] == 0


def test_pad_at_the_ring_end_is_skipped_and_the_tail_wraps() -> None:
    kernel = FakeKernel(ring_size=512)
    device = Recorder()
    server = serve(kernel, device)
    for cmd_id in range(12):  # 120-byte entries: every fourth one wraps behind a PAD
        kernel.command(cmd_id, bytes(6))
        assert server.service()
        assert kernel.tail == kernel.head
    assert len(device.calls) == 12


def test_a_batch_is_served_with_one_header_read_per_entry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kernel = FakeKernel(ring_size=512)
    device = Recorder()
    server = serve(kernel, device)
    kernel.command(0, bytes(6))
    kernel.command(1, bytes(6))
    server.service()  # the tail is now two entries in: the next batch wraps behind a PAD
    reads: list[int] = []
    real = CommandRing._entry_header

    def counted(ring: CommandRing, pos: int) -> tuple[int, int, int, int]:
        reads.append(pos)
        return real(ring, pos)

    monkeypatch.setattr(CommandRing, "_entry_header", counted)
    for cmd_id in range(2, 5):
        kernel.command(cmd_id, bytes(6))
    assert server.service() is True
    assert [c[0] for c in device.calls] == [bytes(6)] * 5 and kernel.tail == kernel.head
    # skip_pads reads the first header, pending reads each of the four (three
    # commands and the PAD) once; consuming them reads none again
    assert len(reads) == 5 and len(set(reads)) == 4


def test_task_management_entries_are_parsed() -> None:
    kernel = FakeKernel()
    kernel.tmr(1, [5, 9])
    (entry,) = CommandRing(kernel.buf).pending()
    assert isinstance(entry, TaskManagement)
    assert entry.cmd_ids == (5, 9) and entry.name == "abort task"


def test_a_hung_command_waits_for_its_abort_and_holds_later_ones() -> None:
    kernel = FakeKernel()
    device = Recorder({0xF1: Reply(hang=True)})
    server = serve(kernel, device)
    hung = kernel.command(1, bytes([0xF1]) + bytes(9), length=8)
    later = kernel.command(2, bytes(6))
    assert server.service() is False
    assert kernel.tail == 0 and len(device.calls) == 1
    kernel.tmr(1, [1])
    assert server.service() is True
    assert kernel.response(hung)[0] == CHECK_CONDITION
    assert kernel.response(hung)[3][2] == 0x0B  # ABORTED COMMAND
    assert kernel.response(later)[0] == GOOD
    assert [c[0][0] for c in device.calls] == [0xF1, 0x00]
    assert server.stats.aborts == 1 and kernel.tail == kernel.head


def test_the_observer_sees_each_answered_command() -> None:
    seen: list[tuple[object, ...]] = []
    kernel = FakeKernel()
    kernel.command(1, WRITE_BUFFER, data=b"fw")
    kernel.command(2, INQUIRY, length=96)
    device = Recorder({0x12: Reply(data=b"ident")})
    server = serve(kernel, device, observer=lambda *args: seen.append(args[:5]))
    server.service()
    assert seen == [
        ("test", WRITE_BUFFER, b"fw", 0, Reply()),
        ("test", INQUIRY, None, 96, Reply(data=b"ident")),
    ]


def test_a_model_that_goes_away_is_unplugged_once_and_left_unanswered() -> None:
    unplugged: list[bool] = []
    kernel = FakeKernel()
    device = Recorder({0x00: Reply(gone=True)})
    server = serve(kernel, device, on_gone=lambda: unplugged.append(True))
    first = kernel.command(1, bytes(6))
    kernel.command(2, bytes(6))
    assert server.service() is False
    assert server.service() is False
    assert unplugged == [True] and server.gone and kernel.tail == 0 and len(device.calls) == 1
    kernel.tmr(1, [1])
    assert server.service() is True
    assert kernel.response(first)[3][2] == 0x0B  # ABORTED COMMAND, which the kernel drops
    assert unplugged == [True] and len(device.calls) == 2  # command 2 met the gone drive
    assert kernel.tail != kernel.head


def test_busy_time_is_waited_before_answering() -> None:
    waited: list[float] = []
    kernel = FakeKernel()
    kernel.command(1, bytes(6))
    serve(kernel, Recorder({0: Reply(busy_seconds=2.5)}), wait=waited.append).service()
    assert waited == [2.5]


def test_a_failing_model_answers_internal_target_failure() -> None:
    class Broken(Recorder):
        def submit(self, cdb: bytes, data_out: bytes | None, data_in_len: int) -> Reply:
            raise ZeroDivisionError

    kernel = FakeKernel()
    at = kernel.command(1, bytes(6))
    serve(kernel, Broken()).service()
    status, _, _, sense = kernel.response(at)
    assert status == CHECK_CONDITION and (sense[2], sense[12]) == (0x04, 0x44)


def test_an_unknown_entry_opcode_is_flagged_and_consumed() -> None:
    kernel = FakeKernel()
    at = kernel._place(16)
    struct.pack_into("<IHBB", kernel.buf, at, 16 | 5, 0, 0, 0)
    assert serve(kernel, Recorder()).service()
    assert kernel.buf[at + 7] == UFLAG_UNKNOWN_OP and kernel.tail == kernel.head


@pytest.mark.parametrize(
    ("first", "rest", "length"),
    [(0x00, b"", 6), (0x28, b"", 10), (0x5A, b"", 10), (0x88, b"", 16), (0xA8, b"", 12),
     (0xBE, b"", 12), (0xF1, b"", 10), (0xC5, b"", 10), (0x7F, bytes(6) + b"\x18", 32)],
)  # fmt: skip
def test_cdb_length_follows_the_opcode_group(first: int, rest: bytes, length: int) -> None:
    assert cdb_length(bytes([first]) + rest) == length


def test_cdbs_come_out_at_their_group_length() -> None:
    kernel = FakeKernel()
    cdb = bytes([0xBE, 0, 0, 0, 0, 1, 0, 0, 1, 0x10, 0, 0])
    kernel.command(1, cdb + b"\xaa" * 4, length=2352)  # trailing bytes are not the CDB's
    (entry,) = CommandRing(kernel.buf).pending()
    assert isinstance(entry, Command) and entry.cdb == cdb and entry.data_length == 2352


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda k: struct.pack_into("<I", k.buf, CMDR_OFF, 0 | OP_CMD),  # zero length
        lambda k: struct.pack_into("<I", k.buf, CMDR_OFF, 8192 | OP_CMD),  # past ring end
        lambda k: struct.pack_into("<Q", k.buf, CMDR_OFF + 48, len(k.buf)),  # iovec outside
        lambda k: struct.pack_into("<I", k.buf, CMDR_OFF + 8, 1000),  # iov_cnt too large
        lambda k: struct.pack_into("<I", k.buf, 12, 3),  # head misaligned
    ],
)
def test_a_malformed_ring_raises_a_clear_error(corrupt: Callable[[FakeKernel], None]) -> None:
    kernel = FakeKernel()
    kernel.command(1, INQUIRY, length=96)
    corrupt(kernel)
    with pytest.raises(RingError) as err:
        CommandRing(kernel.buf).pending()
    assert isinstance(err.value, RescueError) and "TCMU" in str(err.value)


def test_a_region_too_small_for_the_mailbox_is_refused() -> None:
    with pytest.raises(RingError, match="too small"):
        CommandRing(bytearray(16))


@pytest.mark.parametrize("cmdr_size", [0, 1 << 20])
def test_a_ring_outside_the_region_is_refused(cmdr_size: int) -> None:
    buf = bytearray(4096)
    struct.pack_into("<HHII", buf, 0, 2, 0, CMDR_OFF, cmdr_size)
    with pytest.raises(RingError, match="outside"):
        CommandRing(buf)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 300)), min_size=1, max_size=40))
def test_any_sequence_of_commands_is_answered_in_order(batches: list[tuple[int, int]]) -> None:
    """Batches of 0-3 commands with 0-300 data bytes each, through a small wrapping ring."""
    kernel = FakeKernel(ring_size=1024, data_size=4096)
    device = Recorder({0x12: Reply(data=bytes(range(256)) * 2)})
    server = serve(kernel, device)
    cmd_id = 0
    for count, length in batches:
        queued = []
        for _ in range(count):
            cmd_id += 1
            queued.append((kernel.command(cmd_id, INQUIRY, length=length), length))
        server.service()
        assert kernel.tail == kernel.head
        for at, n in queued:
            assert kernel.response(at)[:2] == (GOOD, n if n else 0)
    assert len(device.calls) == cmd_id
    assert [c[2] for c in device.calls] == [n for c, n in batches for _ in range(c)]
