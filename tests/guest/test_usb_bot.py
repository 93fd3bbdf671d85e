"""An emulated drive served over a real USB stack: FunctionFS bulk-only gadget on dummy_hcd.

``python -m rescue.emulator.usb_bot`` serves the BOT protocol for one of the
project's emulated drives; usb-storage binds to it, so `rescue` meets it as a
USB CD-ROM with sr and sg nodes. The tests flash a BTC drive through it with
a 64 KiB transfer cap (every command stays under it), and let the gadget
re-enumerate after the commit, as a drive behind USB does, to find the drive
again by its bridge's serial on its new SCSI host.
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
    image = make_image("btc", "0050", tmp_path / "btc-0050.bin")
    with bot("btc-drw1004im,rev=0043,disc=none", "--max-transfer", str(CAP),
             "--name", "rescue_bot1") as served:  # fmt: skip
        code, out, err = run_cli("list", "--json")
        drive = next(d for d in json.loads(out)["drives"] if d["sg"] == served.sg)
        assert drive["path"]["attachment"] == "usb-bot"
        assert drive["path"]["bridge"]["usb_id"] == "1209:0002"
        assert drive["path"]["limits"]["largest_transfer"] == CAP
        flash = rescue("flash", served.sg, str(image), "--yes", "--no-backup",
                       "--reports", str(tmp_path))  # fmt: skip
        assert flash.returncode == 0, flash.stdout + flash.stderr
        assert "success" in flash.stdout
    stats = served.stats
    assert stats is not None and stats["commands"] > 100
    assert 0 < stats["largest"] <= CAP and stats["over_cap"] == 0


def test_a_drive_that_re_enumerates_after_its_commit_is_found_again(tmp_path: Path) -> None:
    from rescue.discovery import discover
    from rescue.discovery.refind import find_again, remember

    image = make_image("btc", "0050", tmp_path / "btc-0050.bin")
    with bot("btc-drw1004im,rev=0043,disc=none", "--reset-after", "3b:07",
             "--name", "rescue_bot2", "--serial", "RESCUEBOT0002") as served:  # fmt: skip
        key = remember(next(d for d in discover().drives if d.sg == served.sg))
        flash = rescue("flash", served.sg, str(image), "--yes", "--no-backup",
                       "--reports", str(tmp_path))  # fmt: skip
        hctl, _, _ = served.next_line("RESET", timeout=60)
        found = find_again(key, timeout=60, poll=0.5)
        # rescue held the old sg node open while the drive went: the kernel could not reuse
        # its host or sg number, so the drive is back on new ones
        assert found.drive.hctl == hctl != key.hctl and found.moved, flash.stdout
        assert found.matched_by == "USB bridge serial number"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # the model burns its flash before it says 0050
            code, out, _ = run_cli("info", "--json", found.node)
            if code == 0 and json.loads(out)["inquiry"]["revision"] == "0050":
                break
            time.sleep(2)
        else:
            pytest.fail(f"the drive never reported 0050 after the reset: {flash.stdout}")
    assert served.stats is not None and served.stats["resets"] == 1
