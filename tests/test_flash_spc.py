"""Flashing the emulator's SPC microcode drive with the generic family (feature 0x0104).

The CLI run also pins that ``Drive.features`` consumes the pending power-on
unit attention before GET CONFIGURATION, so ``drive_family`` sees 0104h.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rescue.cli import main
from rescue.devices import open_device
from rescue.drive import Drive
from rescue.emulator.images import make_spc_image
from rescue.families import drive_family
from rescue.families.base import run_steps, wait_until_back


def spec(tmp: Path) -> str:
    return f"emu:generic-spc,disc=none,state={tmp / 'spc.state'}"


def test_generic_family_is_chosen_by_feature_and_flashes(bench: Path) -> None:
    image = make_spc_image("1.01")
    with open_device(spec(bench)) as transport:
        drive = Drive(transport)
        drive.settle()
        family = drive_family(drive)
        assert family.name == "spc"
        steps = family.flash_steps(image, drive.identity)
        assert [s.cdb[1] for s in steps] == [0x0E] * 64 + [0x0F]
        run_steps(drive, steps)
        assert wait_until_back(drive, family)[-3:] == ["6/29/00", "6/3F/01", "2/3A/01"]
        assert drive.inquiry().revision.strip() == "1.01"
    assert (bench / "spc.state").read_bytes() == image


def test_cli_flash_end_to_end(bench: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = bench / "fw.bin"
    path.write_bytes(make_spc_image("1.01"))
    argv = ["flash", spec(bench), str(path), "--yes", "--no-backup", "--force", "identity"]
    assert main([*argv, "--reports", str(bench / "reports")]) == 0, capsys.readouterr()
    assert (bench / "spc.state").read_bytes() == path.read_bytes()


@pytest.mark.parametrize("force", [(), ("--force", "identity")])
def test_another_familys_image_is_refused_before_any_write(
    bench: Path, force: tuple[str, ...]
) -> None:
    """A BTC image is not SPC microcode: refused with or without --force identity, and no
    WRITE BUFFER goes out (the drive would otherwise take part of it before refusing)."""
    from flash_cli import flash_and_journal

    from rescue.emulator.images import make_btc_image

    code, sent = flash_and_journal(spec(bench), bench, make_btc_image("0050"), *force)
    assert code == 5
    assert not any(cdb[0] == 0x3B for cdb in sent)
