"""The live `rescue bench` screen through a pseudo-terminal: scripted keys, captured frames.

The screen runs as a user starts it (its own process, its terminal a pty);
the test types command lines, waits for what the screen shows, and checks
every frame fits the 80x25 console.
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest
from ptyterm import Pty, assert_frames_fit, row

from rescue.bench.screen import Screen
from rescue.cli import main
from rescue.discovery import DriveNode
from rescue.emulator.images import make_btc_image
from rescue.errors import ExitCode


def test_the_screen_runs_jobs_on_a_selection_and_fits_80x25(tmp_path: Path) -> None:
    firmware = tmp_path / "firmware"
    firmware.mkdir()
    (firmware / "V0050.bin").write_bytes(make_btc_image("0050"))
    state = tmp_path / "btc.state"
    btc = f"emu:btc-drw1004im,rev=0043,disc=none,state={state}"
    dvd = "emu:generic-dvd,sectors=1024"
    env = os.environ | {"RESCUE_LOCK_DIR": str(tmp_path / "locks"), "TERM": "linux"}
    argv = [sys.executable, "-m", "rescue.cli", "bench", "--reports", str(tmp_path / "r"),
            "--firmware", str(firmware), btc, dvd]  # fmt: skip
    term = Pty(argv, env)
    try:
        first = term.wait_for("rescue bench: 2 drives")
        assert "DVDRW IDE1004" in first and "0043" in first and "known" in first
        # the disc column, asked of each idle drive: the BTC is empty, the DVD holds a disc
        term.wait_for(lambda screen: " empty " in row(screen, 1) and " disc " in row(screen, 2))
        term.type("d 2")
        term.wait_for("doctor ok")
        term.type("f 1")
        term.wait_for("image? 1) V0050.bin")
        term.type("1")
        asked = term.wait_for("backup? y/n")  # a BTC drive has no command to read its flash
        assert "1 of these drives cannot be backed up" in asked and "btcflash" in asked
        term.type("y")
        asked = term.wait_for("Type YES")  # one confirmation: the image and every drive
        assert "Flash V0050.bin (1048576 bytes) onto 1 drive(s)" in asked
        (listed,) = [line for line in asked.splitlines() if line.startswith("  emu:btc")]
        assert "DVDRW IDE1004" in listed and "0043" in listed and listed.endswith("no backup")
        term.type("YES")
        shown = term.wait_for("flash success")
        assert " 0050 " in row(shown, 1)  # drive 1's row shows its new firmware
        term.type("q")
        assert term.process.wait(30) == 0
        term.read(0.5)
    finally:
        if term.process.poll() is None:
            term.process.kill()
    assert state.read_bytes() == make_btc_image("0050")
    assert_frames_fit(term.text)
    (summary,) = (tmp_path / "r").glob("bench-*.json")
    jobs = {d["job"]: d for d in json.loads(summary.read_text())["drives"]}
    assert jobs["doctor"]["exit_code"] == 0 and jobs["flash"]["result"] == "success"


def test_no_to_the_backup_question_leaves_that_drive_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESCUE_LOCK_DIR", str(tmp_path / "locks"))
    firmware = tmp_path / "firmware"
    firmware.mkdir()
    (firmware / "V0050.bin").write_bytes(make_btc_image("0050"))
    state = tmp_path / "btc.state"
    btc = f"emu:btc-drw1004im,rev=0043,disc=none,state={state}"
    session = tmp_path / "session"
    session.mkdir()
    screen = Screen([btc], firmware, session, out=io.StringIO())
    before = state.read_bytes()  # the row's identity read made the drive's flash
    for line in ("f 1", "1", "n"):
        screen.command(line)
    assert any(line.endswith("skipped: no backup") for line in screen.frame())
    screen.command("YES")
    while screen.batch.running:
        screen.batch.pump(0.2)
    (result,) = screen.results
    assert result.exit_code == ExitCode.REFUSED and "cannot be backed up" in result.message
    assert state.read_bytes() == before


def _node(tmp: Path, sg: str, hctl: str, serial: str, revision: str = "0043") -> DriveNode:
    sysfs = tmp / hctl
    sysfs.mkdir(exist_ok=True)
    (sysfs / "vpd_pg80").write_bytes(bytes([5, 0x80, 0, len(serial)]) + serial.encode())
    return DriveNode(
        index=0, hctl=hctl, sr=None, sg=sg, vendor="BTC", model="DVDRW IDE1004",
        revision=revision, transport="scsi", driver="sr", sysfs_path=str(sysfs),
    )  # fmt: skip


def test_a_drive_that_re_enumerates_keeps_its_row_and_a_twin_gets_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rescue.discovery as discovery

    passes = [
        [_node(tmp_path, "/dev/sg3", "2:0:0:0", "S-ONE")],
        [_node(tmp_path, "/dev/sg5", "3:0:0:0", "S-ONE", "0050")],  # the flashed drive, moved
        [_node(tmp_path, "/dev/sg5", "3:0:0:0", "S-ONE", "0050"),
         _node(tmp_path, "/dev/sg6", "4:0:0:0", "S-TWO")],  # its twin, another serial
    ]  # fmt: skip
    monkeypatch.setattr(discovery, "discover", lambda: discovery.Inventory("sysfs", passes.pop(0)))
    monkeypatch.setattr("rescue.bench.screen._udev_monitor", lambda: None)
    screen = Screen([], None, tmp_path, out=io.StringIO())
    (row,) = screen.rows
    assert (row.device, row.firmware) == ("/dev/sg3", "0043")
    screen._refresh()
    assert screen.rows == [row] and (row.device, row.firmware, row.gone) == (
        "/dev/sg5",
        "0050",
        False,
    )
    assert any("came back as /dev/sg5 (by unit serial number)" in m for m in screen.messages)
    screen._refresh()
    assert [r.device for r in screen.rows] == ["/dev/sg5", "/dev/sg6"]


def test_b_backs_the_selected_drive_up_into_the_session_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESCUE_LOCK_DIR", str(tmp_path / "locks"))
    screen = Screen(["emu:generic-dvd", "emu:tsst-se506cb,disc=none"], None, tmp_path)
    screen.out = io.StringIO()
    screen.command("b 2")
    while screen.batch.running:
        screen.batch.pump(0.2)
    (result,) = screen.results
    assert (result.job, result.result) == ("backup", "saved")
    assert Path(result.report).parent == tmp_path and screen.rows[1].last == "saved"


def test_a_flashed_drive_shows_its_new_firmware_not_the_kernels_old_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rescue.discovery as discovery
    from rescue.bench.runner import DriveResult

    node = _node(tmp_path, "/dev/sg3", "2:0:0:0", "S-ONE")  # sysfs keeps 0043 until a rescan
    monkeypatch.setattr(discovery, "discover", lambda: discovery.Inventory("sysfs", [node]))
    monkeypatch.setattr("rescue.bench.screen._udev_monitor", lambda: None)
    screen = Screen([], None, tmp_path, out=io.StringIO())
    (row,) = screen.rows
    screen.jobs[0] = row
    screen._result(
        DriveResult(0, "/dev/sg3", "flash", 0, "success", drive_after={"revision": "0050"})
    )
    screen._refresh()
    assert row.firmware == "0050"


@pytest.mark.parametrize(
    ("folder", "said"),
    [
        ("/proc", "is a kernel pseudo folder (/proc, /sys, /dev)"),
        ("/sys/kernel", "is a kernel pseudo folder (/proc, /sys, /dev)"),
        ("{tmp}/fifo", "is a FIFO (named pipe), not a folder"),
        ("{tmp}/V0050.bin", "is a file, not a folder"),
        ("{tmp}/missing", "no such folder"),
    ],
)
def test_an_unusable_firmware_folder_is_one_line_before_the_screen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], folder: str, said: str
) -> None:
    """`--firmware /proc` would list dozens of pseudo files in the flash question."""
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "V0050.bin").write_bytes(make_btc_image("0050"))
    path = folder.replace("{tmp}", str(tmp_path))
    reports = tmp_path / "r"
    argv = ["bench", "--reports", str(reports), "--firmware", path, "emu:generic-dvd"]
    assert main(argv) == ExitCode.BAD_INPUT == 5
    out = capsys.readouterr()
    assert out.out == ""  # no screen drawn
    assert out.err.strip().splitlines() == [f"error: --firmware {path}: {said}"]
    assert not reports.exists() or not any(reports.iterdir())  # no session folder left behind
