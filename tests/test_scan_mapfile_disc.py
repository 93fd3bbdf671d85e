"""A mapfile knows which disc it maps; an interrupted scan says how far it got.

The ``# rescue-disc sectors=N sha256=HEX`` comment (ddrescue skips it) names
the disc; a resume on another disc (other size, or same size but other first
sectors) is refused with one line, and the mapfile stays byte for byte as it
was. Ctrl-C during a scan ends with the LBA and the percent reached, exit 130,
a consistent mapfile, and never "every sector read".
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.diagnostics import mapfile as mf
from rescue.drive import Drive
from rescue.errors import ExitCode

INTERRUPTED = 130


def _scan(tmp_path: Path, device: str, mapfile: Path, *extra: str) -> int:
    argv = ["scan", device, "--mapfile", str(mapfile), *extra]
    return main([*argv, "--reports", str(tmp_path / "reports")])


def _image(tmp_path: Path, name: str, sectors: int) -> Path:
    path = tmp_path / name
    path.write_bytes(os.urandom(sectors * 2048))
    return path


def test_the_mapfile_names_its_disc(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    mapfile = tmp_path / "disc.map"
    assert _scan(tmp_path, "emu:generic-dvd,sectors=300", mapfile) == 0
    disc = mf.read_disc_comment(mapfile.read_text())
    assert disc is not None and disc.sectors == 300 and disc.sha256 and len(disc.sha256) == 64
    capsys.readouterr()


def test_another_size_of_disc_is_refused_and_the_map_left_alone(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    mapfile = tmp_path / "disc.map"
    assert _scan(tmp_path, "emu:generic-dvd,sectors=1024,bad=10", mapfile) == 8
    before = mapfile.read_bytes()
    capsys.readouterr()
    assert _scan(tmp_path, "emu:generic-dvd,sectors=512", mapfile) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert "maps another disc" in err and "1024 sectors" in err and "Traceback" not in err
    assert mapfile.read_bytes() == before


def test_same_size_other_content_is_refused_and_the_map_left_alone(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    first, second = _image(tmp_path, "a.iso", 256), _image(tmp_path, "b.iso", 256)
    mapfile = tmp_path / "disc.map"
    assert _scan(tmp_path, f"emu:generic-dvd,disc={first},bad=100-109", mapfile) == 8
    before = mapfile.read_bytes()
    capsys.readouterr()
    code = _scan(tmp_path, f"emu:generic-dvd,disc={second},bad=100-109", mapfile, "--json")
    out, err = capsys.readouterr()
    assert code == ExitCode.BAD_INPUT and "first sectors hold other data" in out + err
    assert mapfile.read_bytes() == before
    # the right disc again: resumed, nothing re-read but the bad sectors' retries
    assert _scan(tmp_path, f"emu:generic-dvd,disc={first},bad=100-109", mapfile) == 8


def test_a_ddrescue_mapfile_larger_than_the_disc_is_refused_not_truncated(
    tmp_path: Path,
    capsys,  # noqa: ANN001
) -> None:
    mapfile = tmp_path / "theirs.map"
    big = mf.Mapfile(0, "+", 1, (mf.Block(0, 4096 * 2048, "+"),))  # no rescue-disc line
    mapfile.write_text(mf.write_mapfile(big))
    before = mapfile.read_bytes()
    assert _scan(tmp_path, "emu:generic-dvd,sectors=1024", mapfile) == ExitCode.BAD_INPUT
    assert "maps 4096 sectors, this disc has 1024" in capsys.readouterr().err
    assert mapfile.read_bytes() == before


def test_a_disc_whose_start_does_not_read_still_resumes(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    mapfile = tmp_path / "disc.map"
    device = "emu:generic-dvd,sectors=256,bad=0-3"
    assert _scan(tmp_path, device, mapfile, "--end", "128") == 8
    assert "sha256=unreadable" in mapfile.read_text()
    assert _scan(tmp_path, device, mapfile) == 8
    blocks = mf.parse_mapfile(mapfile.read_text()).blocks
    assert [(b.pos // 2048, b.status) for b in blocks] == [(0, "-"), (4, "+")]
    capsys.readouterr()


def _CtrlCAt(at: int):  # noqa: ANN202, N802
    """A stand-in for Drive.read10: Ctrl-C when the scan reaches LBA ``at``."""
    real = Drive.read10

    def read10(drive: Drive, lba: int, blocks: int, timeout: float = 30.0) -> bytes:
        if lba >= at:
            raise KeyboardInterrupt
        return real(drive, lba, blocks, timeout)

    return read10


def test_ctrl_c_says_how_far_the_scan_got(
    tmp_path: Path,
    capsys,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    monkeypatch.setattr(Drive, "read10", _CtrlCAt(256))
    mapfile = tmp_path / "disc.map"
    assert _scan(tmp_path, "emu:generic-dvd,sectors=1024", mapfile) == INTERRUPTED
    out = capsys.readouterr().out.replace("\n", " ")
    assert "every sector read" not in out
    assert "stopped at LBA 256" in out and "25.0%" in out
    assert "interrupted (Ctrl-C)" in out
    parsed = mf.parse_mapfile(mapfile.read_text())
    assert [(b.pos // 2048, b.size // 2048, b.status) for b in parsed.blocks] == [
        (0, 256, "+"),
        (256, 768, "?"),
    ]
    assert parsed.current_pos == 256 * 2048
    monkeypatch.undo()
    assert _scan(tmp_path, "emu:generic-dvd,sectors=1024", mapfile, "--json") == 0
    body = json.loads(capsys.readouterr().out)
    assert body["sectors_read_now"] == 768 and body["percent"] == 100.0


def test_ctrl_c_with_json_gives_the_same_facts(
    tmp_path: Path,
    capsys,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    monkeypatch.setattr(Drive, "read10", _CtrlCAt(96))
    mapfile = tmp_path / "disc.map"
    code = _scan(tmp_path, "emu:generic-dvd,sectors=384,bad=10", mapfile, "--json")
    body = json.loads(capsys.readouterr().out)
    assert code == INTERRUPTED
    assert body["complete"] is False and body["stopped_at"] == 96 and body["percent"] == 25.0
    assert body["stopped_by"] == "interrupted (Ctrl-C)"


def test_a_clean_scan_interrupted_before_the_end_never_says_every_sector_read(
    tmp_path: Path,
    capsys,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    monkeypatch.setattr(Drive, "read10", _CtrlCAt(0))
    assert main(["scan", "emu:generic-dvd,sectors=64", "--reports", str(tmp_path)]) == 130
    out = capsys.readouterr().out.replace("\n", " ")
    assert "every sector read" not in out and "stopped at LBA 0" in out and "0.0%" in out
