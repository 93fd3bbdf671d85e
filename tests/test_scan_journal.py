"""A scan whose journal's medium fills up reads to its end, keeps its map, then names the loss.

The journal is a record of what was sent, not the scan's result: a full medium
under it must not stop the reads or lose the mapfile (rescue.transport.journal
counts the lines it could not write and says so when it is closed, exit 5).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.diagnostics import mapfile as mf
from rescue.errors import ExitCode
from rescue.transport import journal as journal_module

KEPT_LINES = 5


class _FillsUp:
    """A journal file on a medium with room for KEPT_LINES lines."""

    def __init__(self, real) -> None:  # noqa: ANN001
        self.real, self.lines = real, 0

    def write(self, data: bytes) -> int:
        if self.lines >= KEPT_LINES:
            raise OSError(28, os.strerror(28))
        self.lines += 1
        return self.real.write(data)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.real, name)

    def __enter__(self):  # noqa: ANN204
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()


def test_a_scan_whose_journal_fills_up_reads_to_the_end_and_names_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    opened = journal_module.Journal.__init__

    def on_a_small_medium(self, *args, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        opened(self, *args, **kwargs)
        self._fh = _FillsUp(self._fh)

    monkeypatch.setattr(journal_module.Journal, "__init__", on_a_small_medium)
    journal, mapfile = tmp_path / "scan.jsonl", tmp_path / "scan.map"
    code = main([
        "scan", "emu:generic-dvd,sectors=3000", "--journal", str(journal),
        "--mapfile", str(mapfile), "--reports", str(tmp_path / "reports"),
    ])  # fmt: skip
    captured = capsys.readouterr()
    assert code == ExitCode.BAD_INPUT, captured.err
    assert str(journal) in captured.err and os.strerror(28) in captured.err
    assert "Traceback" not in captured.err
    assert "3000 sectors read this run" in captured.out, captured.out
    assert len(journal.read_text().splitlines()) == KEPT_LINES
    blocks = mf.parse_mapfile(mapfile.read_text()).blocks
    assert {b.status for b in blocks} == {mf.FINISHED}, blocks
    assert sum(b.size for b in blocks) == 3000 * 2048
