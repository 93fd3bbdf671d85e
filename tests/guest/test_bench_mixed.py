"""The bench screen on a real kernel: eight TCMU drives of four families, mixed jobs at once.

Eight drive models (BTC DRW-1004IM twice, generic DVD three times, generic
CD, Plextor PX-716A, TSST SE-506CB with its MT1939 chip) are served by four
`rescue emulate` processes and driven through their /dev/sgN by `rescue
bench` on a pseudo-terminal, as a person at the console would: a flash of
both BTCs (one with a failing chunk, so it must stay on its old firmware),
a scan of three DVDs (one with ten unreadable sectors, one slow that is
REMOVED mid-scan by stopping its bridge, which deletes its TCMU device and
its nodes), and doctor on the other three. Every result in the session
summary is checked against the drive's own state read afterwards (INQUIRY
through the kernel, the scan's bad ranges against the model's), and every
frame must fit the 80x25 console.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from guestlib import RESCUE, BridgeProcess, emulate_command, make_image, run_cli
from ptyterm import Pty, assert_frames_fit, row

BTC = "btc-drw1004im,rev=0043,disc=none"
SPECS = [
    f"{BTC},serial=MIX-1",
    f"{BTC},serial=MIX-2,fault=sense:4/44/00@3b.7",  # the 7th chunk fails inside the drive
    "generic-dvd,sectors=2048,bad=100-109,serial=MIX-3",
    "generic-dvd,sectors=2048,serial=MIX-4",
    "generic-dvd,sectors=65536,speed=1,serial=MIX-5",  # 1x DVD: ~100 s to scan; removed first
    "generic-cd,disc=none,serial=MIX-6",
    "plextor-px716a,disc=none,serial=MIX-7",
    "tsst-se506cb,disc=none,serial=MIX-8",
]
BRIDGES = [[0, 1], [2, 3], [4], [5, 6, 7]]  # the removed drive alone in its bridge
REMOVED = 4
JOBS_TIMEOUT = 900.0  # a BTC flash waits 50 s for its burn; TCG and a loaded host stretch it


@pytest.fixture(scope="module")
def terminals() -> None:
    """Pseudo-terminals: the guest's init mounts devtmpfs but no devpts (the kernel's ptmx
    looks for its devpts in /dev/pts beside it), so a screen test mounts one itself."""
    pts = Path("/dev/pts")
    if not os.path.ismount(pts):
        pts.mkdir(exist_ok=True)
        subprocess.run(["mount", "-t", "devpts", "devpts", str(pts)], check=True)


@pytest.fixture(scope="module")
def drives() -> Iterator[tuple[list[str], list[BridgeProcess]]]:
    bridges = [emulate_command([SPECS[i] for i in group], None) for group in BRIDGES]
    for bridge in bridges:
        bridge.timeout = 600.0
    with contextlib.ExitStack() as stack, ThreadPoolExecutor(len(bridges)) as pool:
        list(pool.map(stack.enter_context, bridges))  # the Python starts overlap
        nodes: dict[int, str] = {}
        for group, bridge in zip(BRIDGES, bridges, strict=True):
            for i, drive in zip(group, bridge.drives, strict=True):
                nodes[i] = drive["sg"]
        yield [nodes[i] for i in range(len(SPECS))], bridges


def _remove(bridge: BridgeProcess) -> None:
    """Unplug: the bridge deletes its TCMU device and LUN, the kernel its sr and sg nodes."""
    assert bridge.process is not None
    bridge.process.send_signal(signal.SIGTERM)
    try:
        bridge.process.wait(120)
    except subprocess.TimeoutExpired:
        bridge.process.kill()


def _inquiry(sg: str) -> dict[str, str]:
    code, out, err = run_cli("info", sg, "--json")
    assert code == 0, out + err
    return json.loads(out)["inquiry"]


def test_mixed_jobs_on_eight_drives_through_the_screen(
    terminals: None, drives: tuple[list[str], list[BridgeProcess]], tmp_path: Path
) -> None:
    nodes, bridges = drives
    firmware = tmp_path / "firmware"
    firmware.mkdir()
    make_image("btc", "0050", firmware / "V0050.bin")
    reports = tmp_path / "reports"
    reports.mkdir()
    argv = [*RESCUE, "bench", "--reports", str(reports), "--firmware", str(firmware), *nodes]
    term = Pty(argv, os.environ | {"TERM": "linux"})
    try:
        term.wait_for("rescue bench: 8 drives", timeout=300)
        term.wait_for(lambda s: "DVDRW IDE1004" in row(s, 1) and "PLEXTOR" in row(s, 7))
        for line in ("f 1 2", "1", "y"):
            term.type(line)
        asked = term.wait_for("Type YES")
        assert "Flash V0050.bin (1048576 bytes) onto 2 drive(s)" in asked
        term.type("YES")
        term.type("s 3-5")
        term.type("d 6-8")
        term.wait_for(lambda s: "scan" in row(s, REMOVED + 1), timeout=300)
        _remove(bridges[2])  # mid-scan: the 1x DVD takes far longer than the wait above
        term.wait_for(f"drive gone: {nodes[REMOVED]}", timeout=120, any_frame=True)
        term.wait_for(lambda s: "0 jobs running" in s, timeout=JOBS_TIMEOUT)
        term.type("q")
        assert term.process.wait(120) != 0  # the faulty flash, the bad disc, the removed drive
        term.read(1.0)
    finally:
        if term.process.poll() is None:
            term.process.kill()
    assert_frames_fit(term.text)

    (summary,) = reports.glob("bench-*.json")
    rows = {d["device"]: d for d in json.loads(summary.read_text())["drives"]}
    assert sorted(rows) == sorted(nodes)
    flashed, faulty, bad, clean, removed, *checked = (rows[sg] for sg in nodes)

    assert flashed["result"] == "success" and _inquiry(nodes[0])["revision"] == "0050"
    assert " 0050 " in row(term.screen(), 1)  # the last frame: its new firmware, not sysfs's
    assert faulty["exit_code"] == 8 and "4/44/00" in faulty["message"], faulty
    assert _inquiry(nodes[1])["revision"] == "0043"  # nothing was saved to its flash

    assert bad["exit_code"] == 8 and bad["message"] == "10 unreadable sectors in 1 ranges", bad
    scan = json.loads(Path(bad["report"]).read_text())["scan"]
    assert [(r["first"], r["last"]) for r in scan["bad"]] == [(100, 109)]  # the model's bad=100-109
    assert clean["exit_code"] == 0 and clean["message"] == "every sector read", clean
    assert removed["exit_code"] != 0 and removed["result"] != "complete", removed
    assert not Path(nodes[REMOVED]).exists()

    for sg, result in zip(nodes[5:], checked, strict=True):
        assert result["job"] == "doctor" and result["exit_code"] == 0, result  # no disc: fine
        assert result["drive_before"]["product"] == _inquiry(sg)["product"].strip(), result
