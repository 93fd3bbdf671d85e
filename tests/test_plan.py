"""`rescue plan DEV --to REV` on emulated drives, through the CLI."""

from __future__ import annotations

import json

import pytest

from rescue.cli import main
from rescue.ops.plan import plan_text, upgrade_plan


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


BTC = "emu:btc-drw1004im,disc=none"


def test_plan_for_0043_to_0151_goes_through_0050(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "plan", BTC + ",rev=0043", "--to", "0151")
    assert code == 0
    lines = [line.strip() for line in out.splitlines()]
    assert lines[0] == "BTC DVDRW IDE1004 (BTC DRW-1004IM) on 0043 -> 0151:"
    assert lines[1].startswith("1. flash 0050") and "5/20/0" in lines[1]
    assert lines[2].startswith("2. flash 0151")


def test_plan_json_and_a_direct_jump(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "plan", BTC + ",rev=0050", "--to", "0151", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["catalog_id"] == "btc-drw1004im"
    assert [(s["from"], s["to"]) for s in doc["steps"]] == [("0050", "0151")]


def test_unknown_target_is_a_usage_error_and_an_unknown_drive_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(capsys, "plan", BTC + ",rev=0043", "--to", "9999")
    assert code == 2 and "9999" in out and "not in the catalog" in out  # the user's typo
    code, out = run(capsys, "plan", BTC + ",rev=0041", "--to", "0151")
    assert code == 6 and "current revision '0041'" in out  # the drive's, not the user's
    code, out = run(capsys, "plan", "emu:generic-dvd", "--to", "1.01")
    assert code == 6 and "not in the catalog" in out


def test_recovery_mode_drive_is_told_to_flash_the_target(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(capsys, "plan", BTC + ",mode=recovery", "--to", "0151", "--json")
    doc = json.loads(out)
    assert code == 0 and doc["drive"]["revision"] == "BOOT"
    assert [s["to"] for s in doc["steps"]] == ["0151"]


def test_upgrade_plan_helpers_say_why_no_plan_applies() -> None:
    from rescue.firmware.catalog import load_catalog

    entry = load_catalog().find_drive("BTC", "DVDRW IDE1004")
    plan, why = upgrade_plan(entry, "0043", "0151")
    assert plan is not None and why == "" and plan_text(plan) == "0043 -> 0050 -> 0151"
    assert "not in the catalog" in upgrade_plan(None, "0043", "0151")[1]
    assert "revision" in upgrade_plan(entry, "0043", "")[1]
    plan, why = upgrade_plan(entry, "0043", "7777")
    assert plan is None and "7777" in why
