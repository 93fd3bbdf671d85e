"""The SG_IO command path does only the work asked for (the real ioctl runs in the guest).

py-sg is replaced by stand-ins that record what they were handed; the
clock and the sense decoder are replaced by ones that fail when called, so
a path that still reads the clock without a journal, or decodes a GOOD
answer, fails here instead of only costing time in `make bench`.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator

import pytest

from rescue.drive import Drive, read10_reader
from rescue.errors import CommandTimeout, DeviceNotFound, PermissionDenied, TransportError
from rescue.scsi import cdb as build
from rescue.scsi import sense as sense_mod
from rescue.transport import sgio
from rescue.transport.base import READY_POLL, READY_TIMEOUT
from rescue.transport.journal import Journal, read_journal
from rescue.transport.sgio import SgioTransport

SENSE_3_11_00 = bytes([0x70, 0, 3, 0, 0, 0, 0, 10] + [0] * 4 + [0x11, 0] + [0] * 4)


class _Clock:
    """time.monotonic's stand-in: counts calls, or fails when the path must not read it."""

    def __init__(self, allowed: bool) -> None:
        self.allowed, self.calls = allowed, 0

    def monotonic(self) -> float:
        assert self.allowed, "the clock was read although no journal keeps the duration"
        self.calls += 1
        return self.calls * 0.5


@pytest.fixture
def sent(monkeypatch) -> list[tuple]:  # noqa: ANN001
    """Every py-sg call as (kind, cdb object, length or data, timeout_ms)."""
    calls: list[tuple] = []

    def read(fd, cdb, length, timeout_ms):  # noqa: ANN001, ANN202
        calls.append(("read", cdb, length, timeout_ms))
        return bytes(length - 2048)  # one sector short: a residual

    def write(fd, cdb, data, timeout_ms):  # noqa: ANN001, ANN202
        calls.append(("write", cdb, data, timeout_ms))

    monkeypatch.setattr(sgio, "_sg_read", read)
    monkeypatch.setattr(sgio, "_sg_write", write)
    return calls


def test_good_read_without_journal_reads_no_clock_and_decodes_nothing(sent, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(sgio, "time", _Clock(allowed=False))
    monkeypatch.setattr(sense_mod.SenseError, "from_sense", None)  # a call would raise TypeError
    with SgioTransport("/dev/null") as t:
        c = build.read_10(64, 32)
        data = Drive(t).read10(64, 32, timeout=2.5)
        result = t.execute(c, data_in=c.data_in)
    assert len(data) == 31 * 2048
    assert result.status == 0 and result.sense == b"" and result.residual == 2048
    assert result.duration == 0.0  # nobody asked for it
    assert sent[0][2:] == (32 * 2048, 2500)
    assert sent[1][1] is c  # a CDB that is already bytes is handed on, not copied


def test_a_bytearray_cdb_is_copied_before_it_is_sent(sent) -> None:  # noqa: ANN001
    cdb = bytearray(6)
    with SgioTransport("/dev/null") as t:
        t.execute(cdb)
    cdb[0] = 0x12  # the caller reuses its buffer: what was sent stays as it was
    assert sent[0][0] == "write" and sent[0][1] == bytes(6) and type(sent[0][1]) is bytes


def test_with_a_journal_the_duration_is_measured_and_kept(sent, monkeypatch, tmp_path) -> None:  # noqa: ANN001
    clock = _Clock(allowed=True)
    monkeypatch.setattr(sgio, "time", clock)
    journal = Journal(tmp_path / "j.jsonl")
    with SgioTransport("/dev/null", journal) as t:
        result = t.execute(build.test_unit_ready())
    journal.close()
    assert clock.calls == 2 and result.duration == 0.5
    (entry,) = read_journal(tmp_path / "j.jsonl")
    assert entry["duration"] == 0.5 and entry["cdb"] == "000000000000"


def test_sense_is_decoded_only_when_there_is_sense(monkeypatch) -> None:  # noqa: ANN001
    def check_condition(fd, cdb, length, timeout_ms):  # noqa: ANN001, ANN202
        raise sgio.SCSIError(1, 0, 8, SENSE_3_11_00, b"")

    monkeypatch.setattr(sgio, "_sg_read", check_condition)
    with SgioTransport("/dev/null") as t, pytest.raises(sense_mod.SenseError) as err:
        Drive(t).read10(7, 1)
    assert err.value.triple == "3/11/00" and "READ(10) 7" in str(err.value)


def test_a_good_poll_without_journal_builds_no_result(sent) -> None:  # noqa: ANN001
    """Every GOOD TEST UNIT READY returns the same shared, immutable answer."""
    with SgioTransport("/dev/null") as t:
        first, second = t.execute(build.test_unit_ready()), t.execute(build.test_unit_ready())
        assert Drive(t).test_unit_ready() is None
    assert first is second and first.ok and first == (0, b"", b"", 0, 0.0, 0, 0)


def test_the_timeout_is_converted_only_when_it_changes(sent, monkeypatch) -> None:  # noqa: ANN001
    conversions: list[float] = []

    def counted_int(value: float) -> int:
        conversions.append(value)
        return int(value)

    monkeypatch.setattr(sgio, "int", counted_int, raising=False)  # shadows the builtin there
    with SgioTransport("/dev/null") as t:
        conversions.clear()  # the prepared poll's, once at the open
        for timeout in (10.0, 10.0, 10.0, 2.5, 2.5, 0.0001, 10.0):
            t.execute(build.test_unit_ready(), timeout=timeout)
    assert [call[3] for call in sent] == [10000, 10000, 10000, 2500, 2500, 1, 10000]
    assert len(conversions) == 4  # one per change, none per command


def _frames_of(call) -> list[str]:  # noqa: ANN001
    """The Python functions a call runs, py-sg's stand-ins (this file's) left out."""
    import sys

    called: list[str] = []

    def profile(frame, event, arg) -> None:  # noqa: ANN001
        if event == "call" and frame.f_code.co_filename != __file__:
            called.append(frame.f_code.co_qualname)

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return called


def test_a_good_poll_without_journal_runs_one_python_function(sent, monkeypatch) -> None:  # noqa: ANN001
    """Drive's alone, then py-sg: each Python frame is a visible share of a TUR under TCG."""
    import rescue.drive

    monkeypatch.setattr(rescue.drive, "decode_sense", None)  # a call would raise TypeError
    with SgioTransport("/dev/null") as t:
        drive = Drive(t)
        assert _frames_of(drive.test_unit_ready) == ["Drive.test_unit_ready"]
        assert drive.test_unit_ready() is None
    assert sent == [("write", READY_POLL, b"", 10000)] * 2
    assert READY_POLL == bytes(build.test_unit_ready()) and READY_TIMEOUT == 10.0


def _answering(exc: BaseException):  # noqa: ANN202
    def write(fd, cdb, data, timeout_ms):  # noqa: ANN001, ANN202
        raise exc

    return write


@pytest.mark.parametrize("journaled", [False, True])
def test_a_poll_that_is_not_good_gives_its_decoded_sense(monkeypatch, tmp_path, journaled) -> None:  # noqa: ANN001
    no_disc = bytes([0x70, 0, 2, 0, 0, 0, 0, 10] + [0] * 4 + [0x3A, 0x01] + [0] * 4)
    monkeypatch.setattr(sgio, "_sg_write", _answering(sgio.SCSIError(1, 0, 8, no_disc, b"")))
    journal = Journal(tmp_path / "j.jsonl") if journaled else None
    with SgioTransport("/dev/null", journal) as t:
        sense = Drive(t).test_unit_ready()
    assert sense is not None and (sense.key, sense.asc, sense.ascq) == (2, 0x3A, 0x01)
    if journaled:
        (entry,) = read_journal(tmp_path / "j.jsonl")
        assert entry["cdb"] == "000000000000" and entry["status"] == 2
        assert entry["sense"] == no_disc.hex()


def test_a_journaled_poll_is_recorded_and_timed(sent, monkeypatch, tmp_path) -> None:  # noqa: ANN001
    monkeypatch.setattr(sgio, "time", _Clock(allowed=True))
    journal = Journal(tmp_path / "j.jsonl")
    with SgioTransport("/dev/null", journal) as t:
        assert t.ready_probe is None
        assert Drive(t).test_unit_ready() is None
    (entry,) = read_journal(tmp_path / "j.jsonl")
    assert entry["cdb"] == "000000000000" and entry["status"] == 0 and entry["duration"] == 0.5
    assert sent == [("write", READY_POLL, b"", 10000)]


@pytest.mark.parametrize(
    "answer, error, text",
    [
        (sgio.SCSIError(4, 0, 0, b"", b""), TransportError, "status 08h without sense data"),
        (sgio.SCSIError(0, sgio.DID_TIME_OUT, 0, b"", b""), CommandTimeout, "timed out after 10 s"),
        (sgio.SCSIError(0, sgio.DID_NO_CONNECT, 0, b"", b""), DeviceNotFound, "no longer answers"),
        (OSError(errno.EACCES, "x"), PermissionDenied, "refused command 00h"),
        (OSError(errno.ENODEV, "x"), DeviceNotFound, "vanished during command 00h"),
        (ZeroDivisionError("a bug"), ZeroDivisionError, "a bug"),  # not the carrier's: as it came
    ],
)
def test_a_poll_fails_as_the_general_path_would(monkeypatch, answer, error, text) -> None:  # noqa: ANN001
    monkeypatch.setattr(sgio, "_sg_write", _answering(answer))
    with SgioTransport("/dev/null") as t:
        drive = Drive(t)
        with pytest.raises(error, match=text):
            drive.test_unit_ready()
        if isinstance(answer, sgio.SCSIError) and answer.args[1]:
            with pytest.raises(error, match=text):  # the same words through execute
                t.execute(READY_POLL, None, 0, READY_TIMEOUT)


def _descriptors_given(monkeypatch, binding: str) -> list[int]:  # noqa: ANN001
    """py-sg's BINDING stood in for: records the descriptor, refuses -1 as the kernel does."""
    descriptors: list[int] = []

    def answer(fd, cdb, data, timeout_ms):  # noqa: ANN001, ANN202
        descriptors.append(fd)
        raise OSError(errno.EBADF, "Bad file descriptor")

    monkeypatch.setattr(sgio, binding, answer)
    return descriptors


@contextlib.contextmanager
def _closed_and_reused(t: SgioTransport) -> Iterator[None]:
    """``t`` closed, and its descriptor's number taken by another file while the body runs."""
    old = t._fd
    t.close()
    other = os.open("/dev/null", os.O_RDONLY)  # takes the lowest free number: the old one
    try:
        assert other == old
        yield
    finally:
        os.close(other)


def test_a_closed_transport_keeps_no_probe(monkeypatch) -> None:  # noqa: ANN001
    """A closed descriptor's number may come back for another file: no poll goes to it."""
    descriptors = _descriptors_given(monkeypatch, "_sg_write")
    t = SgioTransport("/dev/null")
    drive = Drive(t)
    with _closed_and_reused(t):
        assert t.ready_probe is None
        with pytest.raises(TransportError, match="SG_IO failed for 00h"):
            drive.test_unit_ready()
    assert descriptors == [-1]  # execute's, which py-sg refuses (EBADF)


def test_the_real_binding_on_a_node_that_is_not_scsi_fails_in_one_line() -> None:
    """py-sg itself (not a stand-in) behind the probe: /dev/null answers SG_IO with ENOTTY."""
    with SgioTransport("/dev/null") as t, pytest.raises(TransportError, match="failed for 00h"):
        Drive(t).test_unit_ready()


# --- a scan's prepared READ(10) (Transport.bulk_reader, rescue.drive.read10_reader) ---------


def test_a_good_block_through_the_prepared_reader_runs_one_python_function(
    sent, monkeypatch
) -> None:  # noqa: ANN001
    """The reader's own frame, then py-sg: no Drive, execute or CDB builder frame, no clock."""
    monkeypatch.setattr(sgio, "time", _Clock(allowed=False))
    monkeypatch.setattr(sense_mod.SenseError, "from_sense", None)  # a call would raise TypeError
    with SgioTransport("/dev/null") as t:
        read = read10_reader(t)
        assert read is not None
        assert _frames_of(lambda: read(64, 32)) == ["SgioTransport.bulk_reader.<locals>.read"]
        assert len(read(0x12345678, 0xFFFF)) == 0xFFFE * 2048  # what py-sg gave, short and all
    for (kind, cdb, length, timeout_ms), (lba, blocks) in zip(
        sent, [(64, 32), (0x12345678, 0xFFFF)], strict=True
    ):
        assert (kind, length, timeout_ms) == ("read", blocks * 2048, 30000)
        assert type(cdb) is bytes and cdb == build.read_10_bytes(lba, blocks)


def test_a_failing_block_through_the_prepared_reader_gives_the_decoded_sense(monkeypatch) -> None:  # noqa: ANN001
    def check_condition(fd, cdb, length, timeout_ms):  # noqa: ANN001, ANN202
        raise sgio.SCSIError(1, 0, 8, SENSE_3_11_00, b"")

    monkeypatch.setattr(sgio, "_sg_read", check_condition)
    with SgioTransport("/dev/null") as t:
        read = read10_reader(t)
        assert read is not None
        with pytest.raises(sense_mod.SenseError) as prepared:
            read(7, 1)
        with pytest.raises(sense_mod.SenseError) as general:
            Drive(t).read10(7, 1)
    assert prepared.value.triple == "3/11/00" and str(prepared.value) == str(general.value)
    assert prepared.value.__context__ is None  # as Drive.read10's: no py-sg error kept behind it


@pytest.mark.parametrize(
    "answer, error, text",
    [
        (sgio.SCSIError(4, 0, 0, b"", b""), TransportError, "READ\\(10\\) 7: the drive is busy"),
        (
            sgio.SCSIError(0, sgio.DID_TIME_OUT, 0, b"", b""),
            CommandTimeout,
            "28h timed out after 30 s",
        ),
        (sgio.SCSIError(0, sgio.DID_BAD_TARGET, 0, b"", b""), DeviceNotFound, "no longer answers"),
        (OSError(errno.EINVAL, "x"), TransportError, "65536-byte transfer for command 28h"),
        (OSError(errno.ENODEV, "x"), DeviceNotFound, "vanished during command 28h"),
    ],
)
def test_the_prepared_reader_fails_as_drive_read10_does(monkeypatch, answer, error, text) -> None:  # noqa: ANN001
    def read(fd, cdb, length, timeout_ms):  # noqa: ANN001, ANN202
        raise answer

    monkeypatch.setattr(sgio, "_sg_read", read)
    with SgioTransport("/dev/null") as t:
        prepared = read10_reader(t)
        assert prepared is not None
        for call in (prepared, Drive(t).read10):
            with pytest.raises(error, match=text):
                call(7, 32)


def test_no_prepared_reader_with_a_journal_or_an_emulated_drive(sent, tmp_path) -> None:  # noqa: ANN001
    """A journaled read is recorded through execute; an emulated one has no SG_IO to prepare."""
    from rescue.devices import open_device

    with SgioTransport("/dev/null", Journal(tmp_path / "j.jsonl")) as t:
        assert read10_reader(t) is None
    with open_device("emu:generic-dvd,sectors=64") as emulated:
        assert read10_reader(emulated) is None


def test_a_closed_transport_has_no_prepared_reader_and_an_old_one_reads_nothing(
    monkeypatch,  # noqa: ANN001
) -> None:
    """A closed descriptor's number may come back for another file: no READ goes to it."""
    descriptors = _descriptors_given(monkeypatch, "_sg_read")
    t = SgioTransport("/dev/null")
    kept = read10_reader(t)
    with _closed_and_reused(t):
        assert read10_reader(t) is None and kept is not None
        with pytest.raises(TransportError, match="SG_IO failed for 28h"):
            kept(0, 1)
    assert descriptors == [-1]


def test_the_real_binding_takes_the_prepared_reads_arguments() -> None:
    """py-sg itself (not a stand-in): it parses the CDB and sizes, then /dev/null says ENOTTY."""
    with SgioTransport("/dev/null") as t:
        read = read10_reader(t)
        assert read is not None
        with pytest.raises(TransportError, match="SG_IO failed for 28h"):
            read(0, 32)


@pytest.mark.parametrize("journaled", [False, True])
def test_a_scan_reads_through_the_prepared_reader_unless_journaled(
    sent, monkeypatch, tmp_path, journaled
) -> None:  # noqa: ANN001
    """The same map either way; only the unjournaled scan skips Drive.read10."""
    from rescue.diagnostics.scan import Scanner, ScanResult

    through_drive: list[int] = []
    general = Drive.read10

    def counted(drive: Drive, lba: int, blocks: int, timeout: float = 30.0) -> bytes:
        through_drive.append(lba)
        return general(drive, lba, blocks, timeout)

    monkeypatch.setattr(Drive, "read10", counted)
    journal = Journal(tmp_path / "j.jsonl") if journaled else None
    result = ScanResult(0, 256, bytearray(b"?" * 256))
    with SgioTransport("/dev/null", journal) as t:
        Scanner(Drive(t), block=32).run(result)
    assert result.status == b"+" * 256 and result.sectors_read_now == 256 and not result.bad
    assert [cdb for _, cdb, _, _ in sent] == [
        build.read_10_bytes(lba, 32) for lba in range(0, 256, 32)
    ]
    assert through_drive == (list(range(0, 256, 32)) if journaled else [])


# --- the sg driver's reserved buffer, sized for a scan's blocks (sg_dd does the same) -------


@pytest.fixture
def ioctls(monkeypatch) -> Iterator[list[tuple[int, bytes]]]:  # noqa: ANN001
    """fcntl.ioctl's stand-in: SG_GET_RESERVED_SIZE answers HELD; every call is recorded."""
    import fcntl
    import struct

    calls: list[tuple[int, bytes]] = []

    def ioctl(fd, request, arg):  # noqa: ANN001, ANN202
        calls.append((request, bytes(arg)))
        if request == sgio.SG_GET_RESERVED_SIZE:
            return struct.pack("i", 32768)
        if request == sgio.SG_SET_RESERVED_SIZE and struct.unpack("i", arg)[0] > 1 << 20:
            raise OSError(errno.EBUSY, "busy")
        return arg

    monkeypatch.setattr(fcntl, "ioctl", ioctl)
    yield calls


def test_an_sg_nodes_reserved_buffer_is_grown_to_the_size_asked_and_never_shrunk(ioctls) -> None:  # noqa: ANN001
    import struct

    with SgioTransport("/dev/null") as t:
        t.path = "/dev/sg3"  # the rule is the node's name: the host has no sg node
        t.reserve_buffer(65536)
        assert ioctls == [
            (sgio.SG_GET_RESERVED_SIZE, bytes(4)),
            (sgio.SG_SET_RESERVED_SIZE, struct.pack("i", 65536)),
        ]
        ioctls.clear()
        t.reserve_buffer(16384)  # the driver holds more already (32 KiB here)
        assert ioctls == [(sgio.SG_GET_RESERVED_SIZE, bytes(4))]
        t.reserve_buffer(4 << 20)  # refused (EBUSY in this stand-in): reads go on without it
        t.path = "/dev/sr0"
        ioctls.clear()
        t.reserve_buffer(65536)
        assert ioctls == []  # a block node keeps no buffer per descriptor
    t.path = "/dev/sg3"
    t.reserve_buffer(65536)  # closed: nothing is asked of a number another file may hold
    assert ioctls == []


def test_a_scan_asks_for_a_buffer_of_one_block() -> None:
    from rescue.devices import open_device
    from rescue.diagnostics.scan import Scanner, ScanResult

    asked: list[int] = []
    with open_device("emu:generic-dvd,sectors=256") as transport:
        transport.reserve_buffer = asked.append  # type: ignore[method-assign]
        drive = Drive(transport)
        drive.settle()
        Scanner(drive, block=64).run(ScanResult(0, 256, bytearray(b"?" * 256)))
    assert asked == [64 * 2048]
