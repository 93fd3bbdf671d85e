"""Flashing the emulated ASUS BW-16D1HT (MT1959) with the project's host side.

The CLI run also pins that ``rescue flash`` consumes the drive's pending
power-on unit attention before reading its configuration block.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rescue.cli import main
from rescue.devices import open_device
from rescue.drive import Drive
from rescue.emulator.images import MT1959_BOOT_AREA, make_mt1959_image
from rescue.families import drive_family
from rescue.families.base import run_steps, wait_until_back


def spec(tmp: Path) -> str:
    return f"emu:asus-bw16d1ht,disc=none,state={tmp / 'bw16d1ht.state'}"


def test_host_family_prepares_and_flashes(bench: Path) -> None:
    image = make_mt1959_image("3.10")
    with open_device(spec(bench)) as transport:
        drive = Drive(transport)
        drive.settle()
        boot = (bench / "bw16d1ht.state").read_bytes()[:MT1959_BOOT_AREA]
        family = drive_family(drive)
        assert family.name == "mt1959"
        data = family.prepare(drive, image)
        run_steps(drive, family.flash_steps(data, drive.identity))
        assert wait_until_back(drive, family)[-3:] == ["6/29/00", "6/3F/01", "2/3A/01"]
        assert drive.inquiry().revision.strip() == "3.10"
    assert (bench / "bw16d1ht.state").read_bytes() == boot + image[MT1959_BOOT_AREA:]


def test_cli_flash_end_to_end(bench: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bench / "fw.bin"
    path.write_bytes(make_mt1959_image("3.10"))
    argv = ["flash", spec(bench), str(path), "--yes", "--no-backup", "--force", "identity"]
    assert main([*argv, "--reports", str(bench / "reports")]) == 0, capsys.readouterr()
    state = (bench / "bw16d1ht.state").read_bytes()
    assert state[MT1959_BOOT_AREA:] == path.read_bytes()[MT1959_BOOT_AREA:]
