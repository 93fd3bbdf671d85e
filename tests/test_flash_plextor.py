"""`rescue flash` end to end on the emulated Plextor PX-716A, through the CLI.

Each command builds a fresh model from ``state=FILE`` (one drive across runs);
the state file proves what the flash holds, the journal what was sent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flash_cli import flash_and_journal

from rescue.cli import main
from rescue.emulator.images import make_plextor_image

TEST_UNIT_READY, WRITE_BUFFER = 0x00, 0x3B


def spec(tmp: Path) -> str:
    return f"emu:plextor-px716a,disc=none,state={tmp / 'px716a.state'}"


def flash(tmp: Path, image: bytes, *extra: str) -> tuple[int, list[bytes]]:
    return flash_and_journal(spec(tmp), tmp, image, *extra)


def revision(tmp: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["info", spec(tmp), "--json"]) == 0
    return str(json.loads(capsys.readouterr().out)["inquiry"]["revision"]).strip()


def test_flash_1_11_end_to_end(bench: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = make_plextor_image("1.11")
    code, sent = flash(bench, image)
    assert code == 0, capsys.readouterr()
    writes = [cdb for cdb in sent if cdb[0] == WRITE_BUFFER]
    assert [cdb[1] for cdb in writes] == [4] * 59 + [5]
    first_write = sent.index(writes[0])
    assert sent[first_write - 1][0] == TEST_UNIT_READY
    assert (bench / "px716a.state").read_bytes() == image
    assert revision(bench, capsys) == "1.11"


def test_other_models_image_is_refused_before_sending(
    bench: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info", spec(bench)]) == 0  # creates the drive and its state file
    original = (bench / "px716a.state").read_bytes()
    code, sent = flash(bench, make_plextor_image("1.11", product="DVDR   PX-760A"))
    assert code != 0
    assert not any(cdb[0] == WRITE_BUFFER for cdb in sent)
    assert (bench / "px716a.state").read_bytes() == original


def test_cross_flash_forced_is_refused_by_the_drive(
    bench: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info", spec(bench)]) == 0
    original = (bench / "px716a.state").read_bytes()
    other = make_plextor_image("1.11", product="DVDR   PX-716AL")  # same layout, other drive
    code, sent = flash(bench, other, "--force", "identity")
    out = capsys.readouterr()
    assert code != 0 and "success" not in out.out and "5/26/00" in out.out + out.err
    assert [cdb[1] for cdb in sent if cdb[0] == WRITE_BUFFER] == [4] * 59 + [5]
    assert (bench / "px716a.state").read_bytes() == original
    assert revision(bench, capsys) == "1.10"
