"""Flashing the emulated Pioneer DVR-108 with the project's host side (DVRFlash's order).

The CLI run also pins that ``rescue flash`` consumes the pending power-on unit
attention before reading the drive information (READ BUFFER 0xF1).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rescue.cli import main
from rescue.devices import open_device
from rescue.drive import Drive
from rescue.emulator.images import make_pioneer_image
from rescue.families import drive_family
from rescue.families.base import run_steps, wait_until_back


def spec(tmp: Path) -> str:
    return f"emu:pioneer-dvr108,disc=none,state={tmp / 'dvr108.state'}"


def test_host_family_enters_kernel_sends_normal_and_saves(bench: Path) -> None:
    image = make_pioneer_image("1.17")
    with open_device(spec(bench)) as transport:
        drive = Drive(transport)
        drive.settle()
        family = drive_family(drive)
        assert family.name == "pioneer"
        steps = family.flash_steps(family.prepare(drive, image), drive.identity)
        assert [(s.cdb[1], s.cdb[2]) for s in steps] == [(4, 0xFF)] + [(7, 0xF0)] * 32 + [(5, 0xFF)]
        run_steps(drive, steps)
        assert wait_until_back(drive, family)[-3:] == ["6/29/00", "6/3F/01", "2/3A/01"]
        assert drive.inquiry().revision.strip() == "1.17"
    assert (bench / "dvr108.state").read_bytes() == image


def test_host_family_refuses_another_generations_part(bench: Path) -> None:
    from rescue.errors import Refused

    image = make_pioneer_image("1.17", generation="0009")
    with open_device(spec(bench)) as transport:
        drive = Drive(transport)
        drive.settle()
        with pytest.raises(Refused, match="generation 9"):
            drive_family(drive).prepare(drive, image)


def test_cli_flash_end_to_end(bench: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bench / "fw.bin"
    path.write_bytes(make_pioneer_image("1.17"))
    argv = ["flash", spec(bench), str(path), "--yes", "--no-backup"]
    assert main([*argv, "--reports", str(bench / "reports")]) == 0, capsys.readouterr()
    assert (bench / "dvr108.state").read_bytes() == path.read_bytes()
