"""The transport stack: emulated carrier, journal, replay."""

from __future__ import annotations

import hashlib
import json
import os
import re

import pytest
from full_medium import FullMedium
from hypothesis import given, settings
from hypothesis import strategies as st

from rescue.emulator.base import CHECK_CONDITION, GOOD, Reply, VirtualClock
from rescue.errors import BadInput, CommandTimeout, DeviceNotFound
from rescue.transport.base import Result
from rescue.transport.emulated import EmulatedTransport
from rescue.transport.journal import KEEP_DATA_BYTES, Journal, read_journal, untold_losses
from rescue.transport.replay import ReplayMismatch, ReplayTransport

SENSE_5_20_00 = bytes([0x70, 0, 5, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0])


class EchoDevice:
    """Answers opcode 0x12 with 100 bytes, 0x3B takes data, 0xAA hangs, 0xDD vanishes."""

    def __init__(self) -> None:
        self.clock = VirtualClock()
        self.received: list[bytes] = []

    def submit(self, cdb: bytes, data_out: bytes | None, data_in_len: int) -> Reply:
        if cdb[0] == 0x12:
            return Reply(data=bytes(range(100)), busy_seconds=0.25)
        if cdb[0] == 0x3B:
            self.received.append(data_out or b"")
            return Reply(status=GOOD)
        if cdb[0] == 0xAA:
            return Reply(hang=True)
        if cdb[0] == 0xDD:
            return Reply(gone=True)
        return Reply(status=CHECK_CONDITION, sense=SENSE_5_20_00)


def test_data_in_is_truncated_and_residual_counted() -> None:
    t = EmulatedTransport(EchoDevice(), "emu:echo")
    r = t.execute(bytes([0x12, 0, 0, 0, 36, 0]), data_in=36)
    assert r.data == bytes(range(36)) and r.residual == 0 and r.ok
    r = t.execute(bytes([0x12, 0, 0, 0, 200, 0]), data_in=200)
    assert len(r.data) == 100 and r.residual == 100
    assert r.duration == pytest.approx(0.25)


def test_check_condition_is_a_result_not_an_exception() -> None:
    r = EmulatedTransport(EchoDevice(), "emu:echo").execute(bytes(6))
    assert r.status == CHECK_CONDITION and r.sense == SENSE_5_20_00 and not r.ok


def test_hang_times_out_in_model_time() -> None:
    device = EchoDevice()
    t = EmulatedTransport(device, "emu:echo")
    with pytest.raises(CommandTimeout, match="within 7 s"):
        t.execute(bytes([0xAA] + [0] * 9), timeout=7)
    assert device.clock.now() == pytest.approx(7)


def test_vanished_device_stays_gone() -> None:
    t = EmulatedTransport(EchoDevice(), "emu:echo")
    with pytest.raises(DeviceNotFound):
        t.execute(bytes([0xDD] + [0] * 5))
    with pytest.raises(DeviceNotFound):
        t.execute(bytes([0x12, 0, 0, 0, 36, 0]), data_in=36)


def test_both_directions_at_once_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        EmulatedTransport(EchoDevice(), "e").execute(bytes(6), data_out=b"x", data_in=1)


def _record_session(path) -> EchoDevice:  # noqa: ANN001
    device = EchoDevice()
    journal = Journal(path)
    t = EmulatedTransport(device, "emu:echo", journal=journal)
    t.execute(bytes([0x12, 0, 0, 0, 96, 0]), data_in=96)
    t.execute(bytes([0x3B, 6, 0, 0, 0, 0x20, 0, 0x10, 0, 0]), data_out=b"\x5a" * 4096)
    t.execute(bytes(6))
    with pytest.raises(CommandTimeout):
        t.execute(bytes([0xAA] + [0] * 9), timeout=1)
    journal.close()
    return device


def test_journal_lines_carry_the_command(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "j.jsonl"
    _record_session(path)
    entries = read_journal(path)
    assert [e["cdb"][:2] for e in entries] == ["12", "3b", "00", "aa"]
    assert entries[0]["direction"] == "in" and entries[0]["in_data"] == bytes(range(96)).hex()
    assert entries[1]["out_len"] == 4096 and entries[1]["out_data"] is not None
    assert entries[2]["sense"] == SENSE_5_20_00.hex() and entries[2]["status"] == 2
    assert entries[3]["error"] == "CommandTimeout"
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_large_data_keeps_only_a_digest(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    t = EmulatedTransport(EchoDevice(), "emu:echo", journal=journal)
    t.execute(bytes([0x3B] + [0] * 9), data_out=b"\1" * (KEEP_DATA_BYTES + 1))
    (entry,) = read_journal(path)
    assert entry["out_data"] is None and len(entry["out_sha256"]) == 64


def test_replay_reproduces_results_and_errors(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "j.jsonl"
    _record_session(path)
    r = ReplayTransport(path)
    assert r.execute(bytes([0x12, 0, 0, 0, 96, 0]), data_in=96).data == bytes(range(96))
    r.execute(bytes([0x3B, 6, 0, 0, 0, 0x20, 0, 0x10, 0, 0]), data_out=b"\x5a" * 4096)
    assert r.execute(bytes(6)).sense == SENSE_5_20_00
    with pytest.raises(CommandTimeout):
        r.execute(bytes([0xAA] + [0] * 9), timeout=1)
    assert r.exhausted


@pytest.mark.parametrize(
    "cdb, kwargs, message",
    [
        (bytes([0x12, 0, 0, 0, 36, 0]), {"data_in": 36}, "CDB"),
        (bytes([0x12, 0, 0, 0, 96, 0]), {"data_in": 95}, "asked for 95"),
        (bytes([0x12, 0, 0, 0, 96, 0]), {}, "direction"),
    ],
)
def test_replay_fails_loudly_on_first_difference(tmp_path, cdb, kwargs, message) -> None:  # noqa: ANN001
    path = tmp_path / "j.jsonl"
    _record_session(path)
    with pytest.raises(ReplayMismatch, match=message):
        ReplayTransport(path).execute(cdb, **kwargs)


def test_replay_notices_different_data_sent(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "j.jsonl"
    _record_session(path)
    r = ReplayTransport(path)
    r.execute(bytes([0x12, 0, 0, 0, 96, 0]), data_in=96)
    with pytest.raises(ReplayMismatch, match="sha256"):
        r.execute(bytes([0x3B, 6, 0, 0, 0, 0x20, 0, 0x10, 0, 0]), data_out=b"\x5b" * 4096)


_datas = st.one_of(
    st.none(),
    st.binary(max_size=64),
    st.binary(min_size=KEEP_DATA_BYTES + 1, max_size=KEEP_DATA_BYTES + 1),
)


@settings(deadline=None, max_examples=60)  # what it pins is the bytes, not the time
@given(
    device=st.text(max_size=20),
    cdb=st.binary(min_size=6, max_size=16),
    data_out=_datas,
    data_in=st.integers(0, 9000),
    data=_datas,
    status=st.integers(0, 255),
    sense=st.binary(max_size=32),
    duration=st.floats(0, 1e4, allow_nan=False),
)
def test_a_journal_line_is_sorted_json_of_the_command(
    tmp_path_factory, device, cdb, data_out, data_in, data, status, sense, duration  # noqa: ANN001
) -> None:
    """The line is built by hand (no JSON encoding of the data's hex); it must read back as
    the same fields, and be byte for byte what ``json.dumps(..., sort_keys=True)`` writes."""
    if data_out is not None:
        data_in = 0
    data = (data or b"") if data_in else b""
    path = tmp_path_factory.mktemp("j") / "j.jsonl"
    journal = Journal(path)
    journal.record(device, cdb, data_out, data_in, Result(status, sense, data, 3, duration, 7, 1))
    journal.close()
    line = path.read_text(encoding="utf-8")
    entry = json.loads(line)
    assert line == json.dumps(entry, sort_keys=True) + "\n"
    kept_in = data.hex() if data_in and len(data) <= KEEP_DATA_BYTES else None
    assert entry == {
        "cdb": cdb.hex(),
        "device": device,
        "direction": "out" if data_out is not None else "in" if data_in else "none",
        "driver_status": 1,
        "duration": round(duration, 6),
        "host_status": 7,
        "in_data": kept_in,
        "in_len": data_in,
        "in_sha256": hashlib.sha256(data).hexdigest() if data_in else None,
        "out_data": data_out.hex() if data_out is not None and len(data_out) <= 4096 else None,
        "out_len": 0 if data_out is None else len(data_out),
        "out_sha256": None if data_out is None else hashlib.sha256(data_out).hexdigest(),
        "residual": 3,
        "sense": sense.hex(),
        "status": status,
        "time": entry["time"],
    }
    assert isinstance(entry["time"], float)


def test_each_line_is_in_the_kernel_when_record_returns(tmp_path) -> None:  # noqa: ANN001
    """A crash of rescue (not of the machine) loses no line: each is written, not buffered."""
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    t = EmulatedTransport(EchoDevice(), "emu:echo", journal=journal)
    for n in range(1, 4):
        t.execute(bytes([0x3B] + [0] * 9), data_out=b"\1" * 4096)
        fd = os.open(path, os.O_RDONLY)  # another reader, as after a kill -9
        try:
            lines = os.read(fd, 1 << 20).decode().splitlines()
        finally:
            os.close(fd)
        assert len(lines) == n and json.loads(lines[-1])["out_len"] == 4096
    journal.close()


def test_a_journal_torn_by_a_crash_gets_new_records_on_a_new_line(tmp_path, capsys) -> None:  # noqa: ANN001
    """A crash mid-line leaves no newline: the next run starts its own line, and replay
    names the torn line instead of refusing the journal (issue 11)."""
    path = tmp_path / "j.jsonl"
    _record_session(path)
    whole = path.read_bytes()
    path.write_bytes(whole + whole.splitlines(keepends=True)[0][:30])  # a line cut at 30 bytes
    _record_session(path)
    torn: list[int] = []
    entries = read_journal(path, torn)
    assert torn == [5] and len(entries) == 8
    with pytest.raises(BadInput, match="line 5 is not JSON"):
        read_journal(path)  # a caller that takes no torn lines still hears of them
    replay = ReplayTransport(path)
    assert "line 5 torn" in capsys.readouterr().err
    assert replay.execute(bytes([0x12, 0, 0, 0, 96, 0]), data_in=96).data == bytes(range(96))


def test_a_journal_of_torn_lines_only_is_refused(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "j.jsonl"
    path.write_text('{"cdb": "12\n')
    with pytest.raises(BadInput, match="line 1 is not JSON"):
        read_journal(path, [])


def test_a_journal_named_as_a_folder_is_refused(tmp_path) -> None:  # noqa: ANN001
    """``newj/`` names a folder: Path would drop the slash and make a file of it."""
    with pytest.raises(BadInput, match="names a folder"):
        Journal(f"{tmp_path / 'newj'}{os.sep}")
    assert not (tmp_path / "newj").exists()


def test_a_full_medium_never_stops_a_command_and_close_names_the_loss(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    t = EmulatedTransport(EchoDevice(), "emu:echo", journal=journal)
    t.execute(bytes([0x12, 0, 0, 0, 96, 0]), data_in=96)
    journal._fh = FullMedium(journal._fh, lambda lines, data: True)  # type: ignore[assignment]
    t.execute(bytes(6))
    t.execute(bytes(6))  # the command goes on; its line is counted as lost
    assert journal.failure == os.strerror(28) and journal.lost == 2 and journal.count == 1
    journal.close()  # the command's end tells it (rescue.cli), after the command's results
    (loss,) = untold_losses()
    assert isinstance(loss, BadInput)
    assert re.search(r"cannot save it: No space left on device \(2 commands", loss.message)
    assert untold_losses() == []  # told once
    assert len(read_journal(path)) == 1
