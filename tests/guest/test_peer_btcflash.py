"""Debian's btcflash and `rescue flash` take the same emulated BTC drive through the kernel.

The strongest check that the BTC protocol is the one real tools speak: an
independent public flasher (dvd+rw-tools' btcflash, unchanged) sends its
WRITE BUFFER sequence through sr and the TCMU bridge, waits its 50 s and must
find the new revision; at the same time `rescue flash` takes a second drive
of the same model, with the same image, through sg. The bridge's journal
then holds both write phases, and they must be the same bytes, command by
command (docs/families/btc.md, docs/peers.md). Both drives answer INQUIRY
with the strings a real DRW-1004IM reports ("BTC" / "DVDRW IDE1004").
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from guestlib import emulate_command, rescue
from peer_streams import first_difference, journal_commands, write_phase

PEER_SPEC = "btc-drw1004im,rev=0043,disc=none"
RESCUE_SPEC = "btc-drw1004im,rev=0043,disc=none,serial=EMU0000002"
TARGET_REV = "0050"


def device_commands(journal: Path, spec: str, tmp: Path) -> list:
    """One drive's part of the bridge's journal, as comparable commands."""
    lines = [line for line in journal.read_text().splitlines() if f'"tcmu:{spec}"' in line]
    part = tmp / f"{abs(hash(spec))}.jsonl"
    part.write_text("\n".join(lines) + "\n")
    return write_phase(journal_commands(part))


@pytest.mark.peer
def test_btcflash_and_rescue_send_the_same_bytes_through_the_kernel(tmp_path: Path) -> None:
    image = tmp_path / f"V{TARGET_REV}.bin"
    subprocess.run(
        [sys.executable, "-m", "rescue.emulator.images", "btc", TARGET_REV, "-o", str(image)],
        check=True,
        capture_output=True,
    )
    journal = tmp_path / "served.jsonl"
    with emulate_command([PEER_SPEC, RESCUE_SPEC], journal) as process:
        by_spec = {d["spec"]: d for d in process.drives}
        peer_sr, ours_sg = by_spec[PEER_SPEC]["sr"], by_spec[RESCUE_SPEC]["sg"]
        outcome: dict[str, subprocess.CompletedProcess[str]] = {}
        ours = threading.Thread(
            target=lambda: outcome.__setitem__(
                "rescue",
                rescue("flash", ours_sg, str(image), "--yes", "--no-backup",
                       "--reports", str(tmp_path / "reports")),
            )
        )  # fmt: skip
        ours.start()
        done = subprocess.run(
            ["btcflash", peer_sr, str(image)], input="YES\n", capture_output=True, text=True,
            timeout=240,
        )  # fmt: skip
        ours.join(300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"Drive is now:           [BTC     ][DVDRW IDE1004   ][{TARGET_REV}]" in done.stdout
        flashed = outcome["rescue"]
        assert flashed.returncode == 0, flashed.stdout + flashed.stderr
        for node in (peer_sr, by_spec[RESCUE_SPEC]["sr"]):
            inq = subprocess.run(["sg_inq", node], capture_output=True, text=True, check=True)
            assert f"Product revision level: {TARGET_REV}" in inq.stdout
    peer = device_commands(journal, PEER_SPEC, tmp_path)
    mine = device_commands(journal, RESCUE_SPEC, tmp_path)
    assert len(peer) == 258  # 256 chunks, the checksum header, the commit
    assert first_difference(peer, mine) is None, first_difference(peer, mine)
