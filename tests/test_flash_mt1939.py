"""Backing up and flashing the emulated TSST SE-506CB (MT1939) with the project's host side.

The model and the host family (``rescue.families.mt1939``) were written apart
from the same public facts; these tests make them meet. The CLI runs also
pin that backup and flash consume the drive's pending power-on unit attention
before their first READ BUFFER.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.devices import open_device
from rescue.drive import Drive
from rescue.emulator.images import make_mt1939_image
from rescue.families import drive_family
from rescue.families.base import run_steps, wait_until_back


def spec(tmp: Path) -> str:
    return f"emu:tsst-se506cb,disc=none,state={tmp / 'se506cb.state'}"


def test_host_family_backs_up_flashes_and_reads_back(bench: Path) -> None:
    image = make_mt1939_image("TS02")
    with open_device(spec(bench)) as transport:
        drive = Drive(transport)
        drive.settle()
        family = drive_family(drive)
        assert family.name == "mt1939"
        original = family.backup(drive, lambda done, total: None)
        assert original == (bench / "se506cb.state").read_bytes()
        run_steps(drive, family.flash_steps(image, drive.identity))
        events = wait_until_back(drive, family)
        assert events[:2] == ["6/29/00", "6/3F/01"]
        assert drive.inquiry().revision.strip() == "TS02"
        assert family.read_back(drive, image) is True
    assert (bench / "se506cb.state").read_bytes() == image


def test_host_family_refuses_nothing_partial(bench: Path) -> None:
    """A download cut short leaves TS01 running: the model never burns an incomplete image."""
    image = make_mt1939_image("TS02")
    with open_device(spec(bench)) as transport:
        drive = Drive(transport)
        drive.settle()
        family = drive_family(drive)
        steps = family.flash_steps(image, drive.identity)
        run_steps(drive, steps[:-1])
        assert drive.test_unit_ready() is not None  # not ready: no disc, but not burning
        assert drive.test_unit_ready().asc == 0x3A
        assert drive.inquiry().revision.strip() == "TS01"


def test_cli_backup_matches_the_flash(bench: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = bench / "backup.bin"
    assert main(["backup", spec(bench), "-o", str(out)]) == 0, capsys.readouterr()
    assert out.read_bytes() == (bench / "se506cb.state").read_bytes()


def test_cli_flash_end_to_end(bench: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = bench / "TS02.bin"
    image.write_bytes(make_mt1939_image("TS02"))
    argv = ["flash", spec(bench), str(image), "--yes", "--reports", str(bench / "reports")]
    assert main(argv) == 0, capsys.readouterr()
    assert (bench / "se506cb.state").read_bytes() == image.read_bytes()
    capsys.readouterr()
    assert main(["info", spec(bench), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["inquiry"]["revision"].strip() == "TS02"
