"""The CLI's own ways out: a closed pipe, Ctrl-C at start-up, --version without loading commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rescue import cli
from rescue.emulator.images import make_btc_image
from rescue.errors import ExitCode

RESCUE = [sys.executable, "-m", "rescue.cli"]


def test_a_reader_that_closes_the_pipe_is_not_an_error() -> None:
    """`rescue list --json | head -1`: the reader has gone before rescue writes."""
    child = subprocess.Popen(
        [*RESCUE, "list", "--emulated", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    err = child.stderr.read().decode()
    assert child.wait(60) == 0
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_a_flash_whose_reader_left_goes_on_to_its_verified_end(tmp_path: Path) -> None:
    """`rescue flash ... | head -1`: the flash is not cut short by the pipe (it was: rich's
    SystemExit(1) on the first print after the commit, no verification, no report, the
    emulated drive's state unsaved); the report and the new flash are there, exit 0."""
    image = tmp_path / "V0050.bin"
    image.write_bytes(make_btc_image("0050"))
    state, reports = tmp_path / "btc.state", tmp_path / "reports"
    spec = f"emu:btc-drw1004im,rev=0043,disc=none,state={state}"
    child = subprocess.Popen(
        [*RESCUE, "flash", spec, str(image), "--yes", "--no-backup", "--reports", str(reports)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    err = child.stderr.read().decode()
    assert child.wait(120) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    (report,) = reports.glob("flash-*.json")
    assert json.loads(report.read_text())["result"] == "success"
    assert state.read_bytes() == image.read_bytes()


@pytest.mark.parametrize("command", [["menu"], ["bench"]])
def test_a_screen_whose_reader_left_ends_instead_of_waiting_for_keys(command: list[str]) -> None:
    """The menu and bench's screen do not carry on without a reader: their screens would
    go nowhere while they wait for keys on a stdin that stays open."""
    child = subprocess.Popen(
        [*RESCUE, *command, "emu:generic-dvd"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    try:
        code = child.wait(60)
    finally:
        child.kill()
    err = child.stderr.read().decode()
    assert code in (0, 1) and "Traceback" not in err, err


def test_ctrl_c_while_the_parser_is_built_is_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*_command: str, **_options: bool) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["list"]) == ExitCode.INTERRUPTED == 130
    assert "interrupted" in capsys.readouterr().err


def test_ctrl_c_under_json_is_one_json_object(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bare "interrupted" on stderr left a --json reader with an empty stdout."""

    def interrupted(*_command: str, **_options: bool) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["info", "emu:generic-dvd", "--json"]) == 130
    answer = json.loads(capsys.readouterr().out)
    assert answer["error"] == "Interrupted" and answer["exit_code"] == 130


def test_version_loads_no_command_module() -> None:
    code = "import sys; from rescue.cli import main; main(['--version']); " + (
        "print(sorted(m for m in sys.modules if m.startswith(('rescue.ops', 'rich'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    version, loaded = done.stdout.splitlines()
    assert version.startswith("rescue ")
    assert loaded == "[]"


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["plan", "emu:btc-drw1004im", "--json"], "rescue plan: the following arguments"),
        (["info", "emu:generic-dvd", "--json", "--bogus"], "unrecognized arguments: --bogus"),
        (["fw", "inspect", "", "--json"], "rescue fw inspect: argument FILE: an empty file name"),
    ],
)
def test_a_usage_error_under_json_is_one_json_object_on_stdout(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A script reading `--json` got an empty stdout and argparse's prose (rescue.usage)."""
    assert cli.main(argv) == ExitCode.USAGE
    out, err = capsys.readouterr()
    answer = json.loads(out)
    assert answer["exit_code"] == 2 and answer["error"] == "UsageError"
    assert said in answer["message"] and "usage:" in err


@pytest.mark.parametrize("argv", [["report", ""], ["fw", "inspect", ""]])
def test_an_empty_file_name_is_a_usage_error_not_the_current_folder(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Path('') is '.', so `rescue report ''` once said ".: is a directory"."""
    with pytest.raises(SystemExit) as leave:
        cli.main(argv)
    assert leave.value.code == ExitCode.USAGE
    assert "an empty file name" in capsys.readouterr().err
