"""The commands `rescue probe` suggests run when pasted, once FILE and REV are filled in.

The drive's name is shell-quoted (a spec with a space stays one word) and the
plan it suggests has the --to that plan requires.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.emulator.images import make_btc_image


def test_probe_suggests_a_plan_and_a_flash_that_run(
    bench: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = bench / "V0050.bin"
    image.write_bytes(make_btc_image("0050"))
    spec = "emu:btc-drw1004im,disc=none,serial=EMU 42"  # a space: quoted, or two words
    assert main(["probe", spec]) == 9  # 5/24/00: the drive's own vendor modes
    found = re.findall(r"`(rescue [^`]+)`", capsys.readouterr().out)
    commands = [shlex.split(c.replace("FILE", str(image)).replace("REV", "0050")) for c in found]
    assert sorted(argv[1] for argv in commands) == ["flash", "plan"]
    for argv in commands:
        assert argv[2] == spec
        extra = ["--dry-run"] if argv[1] == "flash" else []
        assert main([*argv[1:], *extra]) == 0, argv
    assert "1. flash 0050" in capsys.readouterr().out
