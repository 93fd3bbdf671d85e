"""An emulated drive served over a real USB stack: FunctionFS bulk-only gadget on dummy_hcd.

``python -m rescue.emulator.usb_bot`` serves the BOT protocol for one of the
project's emulated drives; usb-storage binds to it, so `rescue` meets it as a
USB CD-ROM with sr and sg nodes. The tests flash the emulated SPC drive
through it (64 chunks and a 10 s activation: the cheapest flash under TCG)
with a 64 KiB transfer cap (every command stays under it), and let the gadget
re-enumerate after the commit, as a drive behind USB does, to find the drive
again by its bridge's serial on its new SCSI host, running the new revision.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from guestlib import make_image, rescue, run_cli

BOT = [sys.executable, "-m", "rescue.emulator.usb_bot"]
CAP = 64 * 1024
SPC = "generic-spc,disc=none"
# the demo SPC image names no drive: its identity check needs --force identity
FLASH = ("--yes", "--no-backup", "--force", "identity")
START_TIMEOUT = 120.0


class Bot:
    def __init__(self, process: subprocess.Popen[str], hctl: str, sg: str, sr: str) -> None:
        self.process, self.hctl, self.sg, self.sr = process, hctl, sg, sr
        self.stats: dict | None = None

    def next_line(self, prefix: str, timeout: float = START_TIMEOUT) -> list[str]:
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            if line.startswith(prefix):
                return line.split()[1:]
        raise AssertionError(f"no {prefix} line from the gadget")


@contextmanager
def bot(*args: str) -> Iterator[Bot]:
    process = subprocess.Popen(
        [*BOT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    started = Bot(process, "", "", "")
    try:
        started.hctl, sg, sr = started.next_line("READY")
        started.sg, started.sr = f"/dev/{sg}", f"/dev/{sr}"
        yield started
    finally:
        process.terminate()
        try:
            out, err = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        for line in out.splitlines():
            if line.startswith("STATS "):
                started.stats = json.loads(line[6:])
        if started.stats is None:
            print(err[-3000:])


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
