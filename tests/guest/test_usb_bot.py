"""An emulated drive served over a real USB stack: FunctionFS bulk-only gadget on dummy_hcd.

``python -m rescue.emulator.usb_bot`` serves the BOT protocol for one of the
project's emulated drives; usb-storage binds to it, so `rescue` meets it as a
USB CD-ROM with sr and sg nodes. The tests flash the emulated SPC drive
through it (64 chunks and a 10 s activation: the cheapest flash under TCG)
with a 64 KiB transfer cap (every command stays under it), and let the gadget
re-enumerate after the commit, as a drive behind USB does, to find the drive
again by its bridge's serial on its new SCSI host, running the new revision.
Under a 16 KiB cap, info, doctor and an MT1939 backup size every command to
it and the MT1939 flash (62 KiB chunks) is refused with nothing sent, as the
gadget's own log of transfer lengths shows.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from guestlib import make_image, rescue, run_cli
from usbbed import bot

CAP = 64 * 1024
SPC = "generic-spc,disc=none"
# the demo SPC image names no drive: its identity check needs --force identity
FLASH = ("--yes", "--no-backup", "--force", "identity")


def test_a_flash_through_usb_stays_under_the_cap(tmp_path: Path) -> None:
    image = make_image("spc", "1.01", tmp_path / "spc-1.01.bin")
    with bot(SPC, "--max-transfer", str(CAP), "--name", "rescue_bot1") as served:
        code, out, err = run_cli("list", "--json")
        drive = next(d for d in json.loads(out)["drives"] if d["sg"] == served.sg)
        assert drive["path"]["attachment"] == "usb-bot"
        assert drive["path"]["bridge"]["usb_id"] == "1209:0002"
        assert drive["path"]["limits"]["largest_transfer"] == CAP
        flash = rescue("flash", served.sg, str(image), *FLASH, "--reports", str(tmp_path))
        assert flash.returncode == 0, flash.stdout + flash.stderr
        assert "success" in flash.stdout
    stats = served.stats
    assert stats is not None and stats["commands"] > 64
    assert 0 < stats["largest"] <= CAP and stats["over_cap"] == 0


def test_a_drive_that_re_enumerates_after_its_commit_is_found_again(tmp_path: Path) -> None:
    from rescue.discovery import discover
    from rescue.discovery.refind import find_again, remember

    image = make_image("spc", "1.01", tmp_path / "spc-1.01.bin")
    with bot(SPC, "--reset-after", "3b:0f", "--name", "rescue_bot2",
             "--serial", "RESCUEBOT0002") as served:  # fmt: skip
        key = remember(next(d for d in discover().drives if d.sg == served.sg))
        flash = rescue("flash", served.sg, str(image), *FLASH, "--reports", str(tmp_path))
        hctl, _, _ = served.next_line("RESET", timeout=60)
        found = find_again(key, timeout=60, poll=0.5)
        # rescue held the old sg node open while the drive went: the kernel could not reuse
        # its host or sg number, so the drive is back on new ones
        assert found.drive.hctl == hctl != key.hctl and found.moved, flash.stdout
        # the kernel keeps VPD page 80h when the drive has one: then the unit serial decides
        assert found.matched_by in ("unit serial number", "USB bridge serial number")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the model activates before it says 1.01
            code, out, _ = run_cli("info", "--json", found.node)
            if code == 0 and json.loads(out)["inquiry"]["revision"] == "1.01":
                break
            time.sleep(2)
        else:
            pytest.fail(f"the drive never reported 1.01 after the reset: {flash.stdout}")
    assert served.stats is not None and served.stats["resets"] == 1


def test_info_doctor_backup_and_flash_stay_under_a_small_cap(tmp_path: Path) -> None:
    """16 KiB: under the 32 KiB doctor reads, the 64 KiB MT1939 backup reads and its 62 KiB
    download chunk. The gadget logs every transfer length it was asked for."""
    cap = 16 * 1024
    image = make_image("mt1939", "TS02", tmp_path / "ts02.bin")
    with bot("tsst-se506cb", "--max-transfer", str(cap), "--name", "rescue_bot3") as served:
        code, out, err = run_cli("info", "--json", served.sg)
        assert code == 0 and json.loads(out)["path"]["limits"]["largest_transfer"] == cap, err
        code, out, err = run_cli("doctor", served.sg, "--reports", str(tmp_path))
        assert code == 0 and "fine" in out, out + err
        backup = tmp_path / "flash.bin"
        code, out, err = run_cli("backup", served.sg, "-o", str(backup))
        assert code == 0 and backup.stat().st_size == 0x200000, err
        code, out, err = run_cli("flash", served.sg, str(image), "--yes", "--reports",
                                 str(tmp_path))  # fmt: skip
        text = " ".join((out + err).split())
        assert code == 6 and "carries at most 16 KiB" in text and "nothing was sent" in text
    stats = served.stats
    assert stats is not None and stats["over_cap"] == 0 and stats["largest"] <= cap, stats
    by_opcode = stats["largest_by_opcode"]
    assert by_opcode["28"] == cap  # doctor's READ(10)s, cut from 32 KiB to the cap
    assert by_opcode["3c"] == cap  # the backup's READ BUFFERs, cut from 64 KiB
    assert "ff" not in by_opcode  # the refused flash sent no download command
