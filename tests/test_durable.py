"""rescue.durable: whole files under their name only once written and flushed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rescue import durable


def test_write_text_leaves_the_file_and_no_temporary(tmp_path: Path):
    target = tmp_path / "report.json"
    assert durable.write_text(target, '{"a": "é"}') == target
    assert target.read_text(encoding="utf-8") == '{"a": "é"}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path: Path, monkeypatch):
    target = tmp_path / "backup.bin"
    target.write_bytes(b"old")

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "I/O error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        durable.write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.bin"]


def test_every_write_flushes_the_file_and_its_folder(tmp_path: Path, monkeypatch):
    flushed: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        flushed.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    durable.write_bytes(tmp_path / "a.bin", b"x")
    assert flushed == [str(tmp_path / ".a.bin.part"), str(tmp_path)]
    flushed.clear()
    (tmp_path / "j.log").write_text("journal")
    durable.sync_file(tmp_path / "j.log")
    assert flushed == [str(tmp_path / "j.log"), str(tmp_path)]
