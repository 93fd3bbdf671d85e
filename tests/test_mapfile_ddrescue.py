"""GNU ddrescue accepts the mapfile `rescue scan` leaves and copies only what it did not finish.

The image file stands in for the disc on both sides: the emulated drive reads
it as its disc, and ddrescue reads it as its input, so the copied bytes can
be compared. Needs ``ddrescue`` (package gddrescue, in build/apt-packages.txt).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from rescue.cli import main
from rescue.diagnostics import mapfile as mf
from rescue.errors import ExitCode

SECTORS = 256


def test_ddrescue_resumes_from_an_interrupted_scan(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    image = tmp_path / "disc.iso"
    image.write_bytes(os.urandom(SECTORS * 2048))
    mapfile, copy = tmp_path / "disc.map", tmp_path / "copy.img"
    device = f"emu:generic-dvd,disc={image},bad=50-59,fault=gone@28.6"  # READ 1: fingerprint
    argv = ["scan", device, "--mapfile", str(mapfile), "--reports", str(tmp_path)]
    assert main(argv) == ExitCode.NO_DEVICE
    capsys.readouterr()
    ours = mf.parse_mapfile(mapfile.read_text())
    finished = sum(b.size for b in ours.blocks if b.status == "+")
    assert finished == 34 * 2048  # block 0..31, then sectors 32 and 33 of the trim
    subprocess.run(
        ["ddrescue", "-n", str(image), str(copy), str(mapfile)],
        check=True,
        capture_output=True,
    )
    data, copied = image.read_bytes(), copy.read_bytes()
    assert copied[:finished] == bytes(finished)  # finished by us: ddrescue left it alone
    assert copied[finished:] == data[finished:]  # the rest: copied, and correctly
    theirs = mf.parse_mapfile(mapfile.read_text())  # ddrescue's own rewrite parses too
    assert theirs.blocks == (mf.Block(0, SECTORS * 2048, "+"),)


def test_ddrescue_reads_a_mapfile_carrying_weak_sector_comments(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    mapfile = tmp_path / "cd.map"
    device = "emu:generic-cd,sectors=256,c2=10-11,bad=50-59"
    argv = ["scan", device, "--mapfile", str(mapfile), "--reports", str(tmp_path)]
    assert main(argv) == ExitCode.MEDIUM_ERROR
    capsys.readouterr()
    assert "# rescue-c2 10:" in mapfile.read_text()
    listed = subprocess.run(
        ["ddrescuelog", "-l-", "-b2048", str(mapfile)], check=True, capture_output=True, text=True
    )
    assert [int(n) for n in listed.stdout.split()] == list(range(50, 60))
