"""Which reports folder a command uses when none is named, and when it refuses.

`./reports` is the default; a working folder where it cannot be made (here a
file already holds the name, as a read-only folder would refuse it: the tests
run as root, which no permission bit stops) sends the reports to the user's
state folder with a note, and the scan runs. A folder the user named, by
`--reports` or `$RESCUE_REPORTS`, is never swapped for another: it is refused
before the drive is touched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.diagnostics.report import fallback_reports_dir
from rescue.errors import ExitCode

SCAN = ["scan", "emu:generic-dvd,sectors=64", "--json"]


@pytest.fixture
def blocked_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder whose `reports` cannot be a folder, and a state folder of the test's own."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "reports").write_text("not a folder\n")
    monkeypatch.chdir(work)
    monkeypatch.delenv("RESCUE_REPORTS", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return work


def test_a_blocked_default_sends_reports_to_the_state_folder_with_a_note(
    blocked_cwd: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(SCAN)
    out, err = capsys.readouterr()
    assert code == 0
    report = Path(json.loads(out)["report"])
    assert report.parent == tmp_path / "state" / "rescue" / "reports" and report.is_file()
    assert report.with_suffix(".html").is_file()
    assert err.count("note: reports folder reports: is a file, not a folder") == 1
    assert str(report.parent) in err and "--reports DIR" in err
    assert (blocked_cwd / "reports").read_text() == "not a folder\n"  # left as it was


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_named_folder_is_refused_never_replaced(
    blocked_cwd: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, how: str,
) -> None:
    named = blocked_cwd / "reports"
    argv = [*SCAN, "--reports", str(named)] if how == "option" else SCAN
    if how == "environment":
        monkeypatch.setenv("RESCUE_REPORTS", str(named))
    code = main(argv)
    assert code == ExitCode.BAD_INPUT
    assert "is a file, not a folder" in json.loads(capsys.readouterr().out)["message"]
    assert not (tmp_path / "state").exists()


def test_when_the_state_folder_fails_too_the_first_refusal_is_told(
    blocked_cwd: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "state").write_text("a file where the state folder would go\n")
    code = main(SCAN)
    assert code == ExitCode.BAD_INPUT
    message = json.loads(capsys.readouterr().out)["message"]
    assert message == "reports folder reports: is a file, not a folder"


@pytest.mark.parametrize(
    "xdg, expected",
    [("/srv/state", "/srv/state/rescue/reports"), ("relative/state", None), ("", None)],
)
def test_the_state_folder_follows_xdg_and_ignores_a_relative_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, xdg: str, expected: str | None
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", xdg)
    monkeypatch.setenv("HOME", str(tmp_path))
    default = str(tmp_path / ".local" / "state" / "rescue" / "reports")
    assert str(fallback_reports_dir()) == (expected or default)
