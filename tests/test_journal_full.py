"""A journal whose medium fills up costs a command none of its results.

The journal is a record of what was sent, not the command's result: a full
medium under it must not stop a scan's reads, lose its mapfile, or swallow any
command's summary. rescue.transport.journal counts the lines it could not
write; the CLI names the journal after the command's own output (exit 5 when
the command itself succeeded, else the command's code).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from full_medium import fill_the_medium

from rescue.cli import main
from rescue.diagnostics import mapfile as mf
from rescue.errors import ExitCode

KEPT_LINES = 2


@pytest.fixture
def small_medium(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every journal opened from here on sits on a medium with room for KEPT_LINES lines."""
    fill_the_medium(monkeypatch, lambda lines, data: lines >= KEPT_LINES)


@pytest.mark.usefixtures("small_medium")
def test_a_scan_whose_journal_fills_up_reads_to_the_end_and_names_the_journal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
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


@pytest.mark.usefixtures("small_medium")
@pytest.mark.parametrize(
    ("argv", "shown", "code"),
    [
        (["info", "emu:btc-drw1004im"], "revision 0043", ExitCode.BAD_INPUT),
        (["doctor", "emu:generic-dvd", "--reports", "{tmp}"], "8192 sectors", ExitCode.BAD_INPUT),
        (["backup", "emu:tsst-se506cb", "-o", "{tmp}/flash.bin"], "backup: ", ExitCode.BAD_INPUT),
        # probe's own verdict (no WRITE BUFFER data mode) keeps its code; the loss is still told
        (["probe", "emu:btc-drw1004im"], "WRITE BUFFER probe", ExitCode.ILLEGAL_REQUEST),
    ],
)
def test_every_command_shows_its_results_before_the_journal_it_could_not_keep(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], shown: str, code: int
) -> None:
    journal = tmp_path / "j.jsonl"
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    status = main([*argv, "--journal", str(journal)])
    captured = capsys.readouterr()
    assert status == code, captured.err
    assert shown in captured.out, captured.out
    assert f"error: journal {journal}: cannot save it: {os.strerror(28)}" in captured.err
    assert len(journal.read_text().splitlines()) == KEPT_LINES
