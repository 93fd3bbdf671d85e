"""Debian's btcflash (dvd+rw-tools) flashes the emulated BTC drive through the kernel.

The strongest check that the BTC model speaks the protocol real tools speak:
an independent, public flasher, unchanged, sends its WRITE BUFFER sequence
through sr and the TCMU bridge, waits its 50 s, and must find the new
revision. The journal of `rescue emulate` then shows the exact trace
(PROTOCOLS.md: 4 KiB chunks with mode 6, a header, then mode 7 to commit).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from guestlib import emulate_command

SPEC = "btc-drw1004im,rev=0043"
TARGET_REV = "0050"
FLASH_SIZE = 1 << 20
CHUNK = 4096


@pytest.mark.peer
def test_btcflash_takes_the_emulated_drive_from_0043_to_0050(tmp_path: Path) -> None:
    image = tmp_path / f"V{TARGET_REV}.bin"
    subprocess.run(
        [sys.executable, "-m", "rescue.emulator.images", "btc", TARGET_REV, "-o", str(image)],
        check=True,
        capture_output=True,
    )
    journal = tmp_path / "served.jsonl"
    with emulate_command([SPEC], journal) as process:
        sr = process.drives[0]["sr"]
        done = subprocess.run(
            ["btcflash", sr, str(image)], input="YES\n", capture_output=True, text=True,
            timeout=240,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"Drive is now:           [BTC     ][DVDRW IDE1004   ][{TARGET_REV}]" in done.stdout
        inq = subprocess.run(["sg_inq", sr], capture_output=True, text=True, check=True).stdout
        assert f"Product revision level: {TARGET_REV}" in inq
    writes = [
        bytes.fromhex(e["cdb"])
        for e in map(json.loads, journal.read_text().splitlines())
        if e["cdb"].startswith("3b")
    ]
    modes = [cdb[1] & 0x1F for cdb in writes]
    assert modes.count(6) == FLASH_SIZE // CHUNK + 1  # every chunk, then the header
    assert modes[-1] == 7
