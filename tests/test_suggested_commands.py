"""Every next step rescue prints is a command that works when pasted into a shell.

The suggestions are taken from the output (the text between backticks that
starts with `rescue `), split as a shell would split them, and run.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.emulator.images import make_btc_image


def suggestions(text: str) -> list[list[str]]:
    return [shlex.split(c) for c in re.findall(r"`(rescue [^`]+)`", text)]


def test_the_plan_suggested_after_an_unsafe_jump_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "my drives"  # a space, as a user's folder may have
    folder.mkdir()
    image = folder / "V0151.bin"
    image.write_bytes(make_btc_image("0151"))
    spec = f"emu:btc-drw1004im,rev=0043,disc=none,state={folder / 'd.state'}"
    code = main(["flash", spec, str(image), "--yes", "--no-backup",
                 "--reports", str(tmp_path / "r")])  # fmt: skip
    assert code == 6
    commands = suggestions(capsys.readouterr().err)
    assert commands, "no command suggested"
    for argv in commands:
        assert argv[0] == "rescue"
        assert main(argv[1:]) == 0, argv
        assert "1. flash 0050" in capsys.readouterr().out


def test_doctor_suggestions_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["doctor", "emu:generic-dvd,bad=100-110;2040-2060,sectors=4096", "--reports",
          str(tmp_path / "r")])  # fmt: skip
    commands = suggestions(capsys.readouterr().out)
    assert commands
    for argv in commands:
        argv += ["--reports", str(tmp_path / "r2")] if argv[1] in ("scan", "doctor") else []
        assert main(argv[1:]) in (0, 1, 8), argv
        assert "Traceback" not in capsys.readouterr().err
