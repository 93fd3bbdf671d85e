"""`rescue doctor` on emulated drives: the BTC 0043 DVD-read story, empty drive, healthy drive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.diagnostics import doctor
from rescue.emulator.registry import create
from rescue.errors import ExitCode

BTC_0043 = "emu:btc-drw1004im,rev=0043,quirk=dvdread"


def _doctor(capsys: pytest.CaptureFixture[str], tmp_path: Path, dev: str) -> tuple[int, dict]:
    code = main(["doctor", dev, "--json", "--reports", str(tmp_path)])
    return code, json.loads(capsys.readouterr().out)


def test_btc_0043_dvd_read_failure_is_named_with_the_plan(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    code, body = _doctor(capsys, tmp_path, BTC_0043)
    assert code == ExitCode.FAILURE and body["status"] == "problem"
    assert body["verdict"] == (  # the middle of the 8192-sector disc
        "DVD reads fail at LBA 4096 (8 MiB into the disc) with 3/11/00 UNRECOVERED READ ERROR"
    )
    assert body["newest_revision"] == "0151" and body["catalog_id"] == "btc-drw1004im"
    assert any(f"rescue plan {BTC_0043} --to 0151" in s for s in body["next_steps"])
    assert [p["failed_at"] is None for p in body["probes"]] == [True, False, False]
    assert body["unit_attentions"] and body["unit_attentions"][0].startswith("6/29/00 POWER ON")


def test_after_the_upgrade_the_same_disc_reads_fine(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    code, body = _doctor(capsys, tmp_path, "emu:btc-drw1004im,rev=0151,quirk=dvdread")
    assert code == 0 and body["status"] == "ok"
    assert body["verdict"].startswith("reads this DVD fine")
    assert body["newest_revision"] is None and body["next_steps"] == []


def test_cd_on_the_0043_drive_reads_fine_but_suggests_the_upgrade(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    code, body = _doctor(capsys, tmp_path, BTC_0043 + ",media=cd")
    assert code == 0 and body["verdict"].startswith("reads this CD fine")
    assert body["next_steps"] and "not urgent" in body["next_steps"][0]


def test_empty_drive_says_there_is_no_disc(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    code = main(["doctor", "emu:generic-dvd,disc=none", "--reports", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "no disc in the drive (2/3A/01" in out
    assert "insert a data CD or DVD" in out


def test_open_tray_is_named_too(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    _, body = _doctor(capsys, tmp_path, "emu:generic-dvd,tray=open")
    assert body["status"] == "no-disc" and "TRAY OPEN" in body["verdict"]
    assert body["probes"] == []


def test_report_file_is_written_to_the_env_folder(capsys, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("RESCUE_REPORTS", str(tmp_path / "env"))
    assert main(["doctor", BTC_0043, "--json"]) == ExitCode.FAILURE
    body = json.loads(capsys.readouterr().out)
    report = Path(body["report"])
    assert report.parent == tmp_path / "env"
    saved = json.loads(report.read_text())
    assert saved["kind"] == "doctor" and saved["device"] == BTC_0043
    assert saved["doctor"]["verdict"] == body["verdict"]


def test_unwritable_report_folder_is_bad_input(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["doctor", BTC_0043, "--reports", str(blocker)]) == ExitCode.BAD_INPUT
    assert "not a folder" in capsys.readouterr().err


def test_weak_spots_on_a_cd_are_named_from_the_c2_pointers(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    spec = "generic-cd,c2=0-3;4090"
    disc = create(spec).disc  # type: ignore[attr-defined]
    code, body = _doctor(capsys, tmp_path, f"emu:{spec}")
    assert code == 0 and body["status"] == "ok"  # it reads: a warning, not a failure
    flagged = [p["c2_bytes"] for p in body["probes"]]
    starts = [p["lba"] for p in body["probes"]]
    assert flagged == [sum(disc.c2_errors(n) for n in range(s, s + 16)) for s in starts]
    assert flagged[0] and flagged[1] and not flagged[2]
    assert f"flagged {sum(flagged)} bytes" in body["verdict"] and "copy it soon" in body["verdict"]
    assert any("rescue scan" in s and "weak" in s for s in body["next_steps"])


def test_no_c2_pass_on_a_dvd(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    journal = tmp_path / "dvd.jsonl"
    argv = ["doctor", "emu:generic-dvd", "--journal", str(journal), "--reports", str(tmp_path)]
    assert main(argv) == 0
    opcodes = {json.loads(line)["cdb"][:2] for line in journal.read_text().splitlines()}
    assert "28" in opcodes and "be" not in opcodes  # READ(10), never READ CD


def test_no_c2_pass_where_read_cd_ignores_the_error_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(doctor, "layout_holds", lambda *args: False)  # QEMU's ATAPI CD does this
    code, body = _doctor(capsys, tmp_path, "emu:generic-cd,c2=0-3")
    assert code == 0 and [p["c2_bytes"] for p in body["probes"]] == [0, 0, 0]
    assert body["verdict"].startswith("reads this CD fine")
