"""The engine's library API: typed options, one RunContext, events; no argparse anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rescue.emulator.images import make_btc_image
from rescue.engine import (
    STAGES,
    BackupOptions,
    DoctorOptions,
    Event,
    FlashJob,
    FlashOptions,
    RunContext,
    ScanOptions,
    backup,
    doctor,
    flash,
    scan,
)
from rescue.engine.flash import PROGRESS_STEPS
from rescue.errors import ExitCode, Refused


def _btc(bench: Path, revision: str = "0043") -> str:
    return f"emu:btc-drw1004im,rev={revision},disc=none,state={bench / 'btc.state'}"


def _image(bench: Path, revision: str, product: str = "DVDRW IDE1004") -> str:
    path = bench / f"V{revision}-{product.replace(' ', '_')}.bin"
    path.write_bytes(make_btc_image(revision, product=product))
    return str(path)


def test_flash_through_the_api_reports_its_stages_and_progress(bench: Path) -> None:
    events: list[Event] = []
    options = FlashOptions(_btc(bench), _image(bench, "0050"), no_backup=True)
    report = flash(options, RunContext(assume_yes=True, quiet=True, listener=events.append))
    assert report.result == "success"
    assert report.drive_after and report.drive_after["revision"] == "0050"
    stages = [e.text for e in events if e.kind == "stage"]
    assert stages == [s for s in STAGES if s != "backup"]  # BTC cannot back up
    writes = [e for e in events if e.kind == "progress" and e.text == "write"]
    assert writes[-1].done == writes[-1].total >= 1 << 20  # the image and its header
    # 258 chunks, yet the progress moves by whole percents only, never backwards
    done = [e.done for e in writes]
    assert report.steps_sent > 200 and 50 <= len(done) <= PROGRESS_STEPS + 1
    gaps = [b - a for a, b in zip(done, done[1:], strict=False)]
    assert min(gaps[:-1]) >= done[-1] // PROGRESS_STEPS and gaps[-1] > 0
    assert all(e.device == options.device for e in events)


def test_a_refused_flash_raises_and_keeps_its_saved_report(bench: Path) -> None:
    job = FlashJob(
        FlashOptions(_btc(bench), _image(bench, "0050", "OTHER DRIVE"), no_backup=True),
        RunContext(assume_yes=True, quiet=True),
    )
    with pytest.raises(Refused):
        job.run()
    saved = json.loads(job.report_path.read_text())
    assert saved["result"] == "failed" and saved["error"]["exit_code"] == ExitCode.REFUSED
    assert job.report.steps_sent == 0


def test_options_are_typed_and_checked() -> None:
    with pytest.raises(ValueError, match="unknown force"):
        FlashOptions("emu:x", "f.bin", force=frozenset({"everything"}))
    assert FlashOptions("emu:x", "f.bin", force={"plan"}).force == frozenset({"plan"})


def test_backup_through_the_api(bench: Path) -> None:
    out = bench / "b.bin"
    events: list[Event] = []
    sidecar = backup(
        BackupOptions("emu:tsst-se506cb,disc=none", str(out)),
        RunContext(quiet=True, listener=events.append),
    )
    assert out.stat().st_size == sidecar["size"]
    assert any(e.kind == "progress" and e.text == "backup" for e in events)


def test_doctor_and_scan_through_the_api(bench: Path) -> None:
    ctx = RunContext(reports=str(bench / "reports"))
    found = doctor(DoctorOptions("emu:generic-dvd,sectors=1024"), ctx)
    assert found.exit_code == 0 and found.report and Path(found.report).exists()
    scanned = scan(ScanOptions("emu:generic-dvd,sectors=1024,bad=100-101"), ctx)
    assert scanned.exit_code == ExitCode.MEDIUM_ERROR
    assert scanned.body["bad"][0]["first"] == 100
    missing = doctor(DoctorOptions("emu:no-such-model"), ctx)
    assert missing.exit_code == ExitCode.USAGE and missing.error
