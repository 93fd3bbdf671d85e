"""rescue.durable, and the journal that uses it: on the medium before rescue says saved.

The spies (tests/timeline.py) record every fsync, rename and printed line in
one list, so each test fails when a flush, the folder's flush or their order
after the rename and before the "saved" line goes missing.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

import pytest
from timeline import first, folder_synced, last, timeline

from rescue import durable
from rescue.errors import BadInput
from rescue.transport.base import Result
from rescue.transport.journal import Journal, read_journal, untold_losses


def test_write_bytes_leaves_the_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "drive.state"
    assert durable.write_bytes(target, b"\x00flash") == target
    assert target.read_bytes() == b"\x00flash"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["drive.state"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "backup.bin"
    target.write_bytes(b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        durable.write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.bin"]


def test_the_data_is_flushed_before_the_rename_and_the_folder_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = timeline(monkeypatch)
    durable.write_bytes(tmp_path / "a.bin", b"x")
    assert events == [
        ("fsync", str(tmp_path / ".a.bin.part")),
        ("rename", str(tmp_path / "a.bin")),
        ("fsync", str(tmp_path)),
    ]


def test_a_folder_that_cannot_be_flushed_is_told_apart_from_one_that_need_not_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """EINVAL/EOPNOTSUPP: the file system has no fsync for folders (nothing to do);
    EIO: the medium failed, and the caller must not say saved."""
    code = errno.EINVAL

    def refuse(fd: int) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", refuse)
    durable.sync_folder(tmp_path)
    code = errno.EIO
    with pytest.raises(OSError):
        durable.sync_folder(tmp_path)


def _result() -> Result:
    return Result(status=0, sense=b"", data=b"", residual=0, duration=0.001)


def test_a_journal_reaches_the_medium_when_closed_not_per_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = timeline(monkeypatch)
    path = tmp_path / "flash.journal.jsonl"
    journal = Journal(path)
    for _ in range(50):
        journal.record("emu:x", bytes(6), None, 0, _result())
    assert events == []  # a flash sends hundreds of commands: no fsync each
    journal.close()
    assert events == [("fsync", str(path)), ("fsync", str(tmp_path))]
    journal.close()  # twice is harmless
    assert len(read_journal(path)) == 50 and len(events) == 2


def test_a_journal_that_cannot_be_saved_is_one_line_and_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.record("emu:x", bytes(6), None, 0, _result())

    def pulled(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", pulled)
    journal.close()  # the command's end tells it (rescue.cli), after the command's results
    (loss,) = untold_losses()
    assert isinstance(loss, BadInput)
    assert re.fullmatch(r"journal .*j\.jsonl: cannot save it: Input/output error", loss.message)
    journal.close()  # the file was closed all the same
    assert untold_losses() == []


def test_a_flash_names_its_journal_and_report_only_once_they_are_on_the_medium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also the emulated drive's state= file: the drive a later run meets is the flashed one."""
    from flash_cli import flash_and_journal

    from rescue.emulator.images import make_btc_image

    state = tmp_path / "drive.state"
    spec = f"emu:btc-drw1004im,rev=0043,disc=none,state={state}"
    events = timeline(monkeypatch)
    code, sent = flash_and_journal(spec, tmp_path, make_btc_image("0050"))
    assert code == 0 and sent
    said = first(events, "say", "journal: ")
    assert last(events, "fsync", "journal.jsonl") < said
    assert folder_synced(events, tmp_path) < said  # the journal's folder
    page = first(events, "rename", ".html")
    assert page < folder_synced(events, tmp_path / "reports") < said  # the page's folder
    burnt = last(events, "rename", str(state))
    assert events[burnt - 1] == ("fsync", str(tmp_path / ".drive.state.part"))
    assert events[burnt + 1] == ("fsync", str(tmp_path))


def test_rescue_emulate_saves_its_journal_before_it_reports_the_drives_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bridge itself needs a kernel (tests/guest); here it serves one command and stops."""
    import argparse

    from rescue.emulator.base import Reply
    from rescue.emulator.tcmu import Stats
    from rescue.ops import emulate

    class Bridge:
        def __init__(self, models: list[object], observer: object) -> None:
            self.observer = observer

        def run_until_signal(self, on_ready: object) -> list[Stats]:
            self.observer("generic-dvd", bytes(6), None, 0, Reply(), 0.001)  # type: ignore[operator]
            return [Stats(commands=1)]

    monkeypatch.setattr(emulate, "TcmuBridge", Bridge)
    path = tmp_path / "device.jsonl"
    args = argparse.Namespace(
        specs=["generic-dvd"], rev=None, image=None, fault=None, json=False, journal=str(path)
    )
    events = timeline(monkeypatch)
    assert emulate.run(args) == 0
    said = first(events, "say", "removed after 1 commands")
    assert first(events, "fsync", str(path)) < folder_synced(events, tmp_path) < said
    assert len(read_journal(path)) == 1
