"""`rescue flash` through the real kernel: sg node, SG_IO, TCMU, the BTC model.

The in-process tests prove the engine; this proves the product path a user
meets: an exclusive read-write open of /dev/sgN, the real ioctl carrying 258
WRITE BUFFERs, the kernel's media polling turned off and back on, the drive
going away for its burn and coming back with unit attentions through sr/sg.
The journal rescue writes of that session then replays through the replay
transport command for command.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from guestlib import emulate_command

RESCUE = [sys.executable, "-m", "rescue.cli"]


def _rescue(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RESCUE, *args], capture_output=True, text=True, timeout=timeout)


def test_rescue_flashes_the_tcmu_btc_drive_and_the_journal_replays(tmp_path: Path) -> None:
    image = tmp_path / "V0050.bin"
    subprocess.run(
        [sys.executable, "-m", "rescue.emulator.images", "btc", "0050", "-o", str(image)],
        check=True,
        capture_output=True,
    )
    reports = tmp_path / "reports"
    with emulate_command(["btc-drw1004im,rev=0043,disc=none"], tmp_path / "served.jsonl") as bridge:
        sg = bridge.drives[0]["sg"]
        info = _rescue("info", sg, "--json")
        assert info.returncode == 0, info.stderr
        assert json.loads(info.stdout)["inquiry"]["revision"] == "0043"
        done = _rescue("flash", sg, str(image), "--yes", "--no-backup", "--reports", str(reports))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "success" in done.stdout
        after = _rescue("info", sg, "--json")
        assert json.loads(after.stdout)["inquiry"]["revision"] == "0050"
    (journal,) = reports.glob("*.journal.jsonl")
    writes = [e for e in map(json.loads, journal.read_text().splitlines()) if e["cdb"][:2] == "3b"]
    assert len(writes) == 258  # 256 chunks, the header, the commit
    replay = _rescue(
        "flash", f"replay:{journal}", str(image), "--yes", "--no-backup",
        "--reports", str(tmp_path / "replayed"),
    )  # fmt: skip
    assert replay.returncode == 0, replay.stdout + replay.stderr
