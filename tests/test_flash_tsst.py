"""`rescue flash` end to end on the emulated TSST SH-D163C, through the CLI.

TSST images name no drive in a public place, so the host refuses them unless
the identity check is deliberately overridden; the model then takes them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flash_cli import flash_and_journal

from rescue.cli import main
from rescue.emulator.images import make_tsst_image


def spec(tmp: Path) -> str:
    return f"emu:tsst-shd163c,disc=none,state={tmp / 'shd163c.state'}"


def flash(tmp: Path, image: bytes, *extra: str) -> tuple[int, list[bytes]]:
    return flash_and_journal(spec(tmp), tmp, image, *extra)


def test_flash_sb02_end_to_end(bench: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = make_tsst_image("SB02")
    code, sent = flash(bench, image, "--force", "identity")
    assert code == 0, capsys.readouterr()
    assert [cdb[5] for cdb in sent if cdb[0] == 0xFF] == [0x00, 0xFF, 0xFF, 0xFF, 0x04]
    assert (bench / "shd163c.state").read_bytes() == image
    capsys.readouterr()
    assert main(["info", spec(bench), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["inquiry"]["revision"].strip() == "SB02"


def test_without_force_nothing_is_sent(bench: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, sent = flash(bench, make_tsst_image("SB02"))
    out = capsys.readouterr()
    assert code != 0 and "identity check failed" in out.out + out.err
    assert not any(cdb[0] == 0xFF for cdb in sent)
    assert (bench / "shd163c.state").read_bytes() == make_tsst_image("SB01")
