"""The CLI's own ways out: a closed pipe, Ctrl-C at start-up, --version without loading commands."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rescue import cli
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


def test_ctrl_c_while_the_parser_is_built_is_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*_command: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["list"]) == ExitCode.INTERRUPTED == 130
    assert "interrupted" in capsys.readouterr().err


def test_version_loads_no_command_module() -> None:
    code = "import sys; from rescue.cli import main; main(['--version']); " + (
        "print(sorted(m for m in sys.modules if m.startswith(('rescue.ops', 'rich'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    version, loaded = done.stdout.splitlines()
    assert version.startswith("rescue ")
    assert loaded == "[]"
