"""Every family's model as a kernel drive: list, info, backup, flash, back with the new
revision, verify, all through /dev/sgN and the real SG_IO (scenarios in kernelbed.py).

Finding: the kernel sizes group-6/7 CDBs (opcodes C0h-FFh) at 10 bytes
(COMMAND_SIZE), so the 12-byte vendor 0xFF download of the TSST and MT1939
families reaches the TCMU ring cut to 10 (test_tcmu.py pins the cut). The
bridge restores the two zero bytes those models declare
(rescue.emulator.tcmu.full_cdb), so all seven families flash end to end
here; the journal shows the restored 12-byte CDBs.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from guestlib import journal_entries, make_image, run_cli
from kernelbed import BTC_START, FAMILIES, FamilyCase, KernelBed, Scenario

from rescue.emulator.registry import MODELS

pytestmark = pytest.mark.after_flashes

RESTORED = {"tsst", "mt1939"}  # families whose 12-byte vendor CDBs the bridge restores


def _out(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"


def _revision(ran: tuple[int, str, str]) -> str:
    code, out, err = ran
    assert code == 0, out + err
    return json.loads(out)["inquiry"]["revision"]


def test_rescue_list_sees_every_family_drive(bed: KernelBed) -> None:
    code, out, err = run_cli("list", "--json")
    assert code == 0, err
    drives = {d["sg"]: d for d in json.loads(out)["drives"]}
    for case in FAMILIES:
        info = MODELS[case.model]
        row = drives.get(bed.drive(case.role)["sg"])
        assert row is not None, (case.family, sorted(drives))
        assert (row["vendor"], row["model"]) == (info.vendor, info.product)
        assert row["transport"] == "tcm_loop"


def _check_backup(case: FamilyCase, run: Scenario, start: str) -> None:
    code, out, err = run.before["backup"]
    assert code == 0, out + err
    expected = make_image(case.family, start, run.files["backup"].with_suffix(".made"))
    assert run.files["backup"].read_bytes() == expected.read_bytes()


def _report(run: Scenario) -> dict[str, object]:
    (path,) = (
        p for p in Path(run.files["reports"]).glob("flash-*.json") if ".backup" not in p.name
    )
    return json.loads(path.read_text())


@pytest.mark.parametrize("case", FAMILIES, ids=lambda c: c.family)
def test_family_flashes_through_the_kernel_and_comes_back_new(
    bed: KernelBed, case: FamilyCase
) -> None:
    run = bed.outcome(case.role)
    start = MODELS[case.model].default_revision
    assert _revision(run.before["info"]) == start
    if case.can_backup:
        _check_backup(case, run, start)
    flash = run.steps["flash"]
    sg = bed.drive(case.role)["sg"]
    if case.family in RESTORED:
        vendor = [
            e for e in journal_entries(bed.journal, bed.label(case.role)) if e["cdb"][:2] == "ff"
        ]
        assert vendor and all(len(e["cdb"]) == 24 for e in vendor), vendor
        assert all(e["cdb"].endswith("0000") for e in vendor), vendor
    assert flash.returncode == 0 and "success" in flash.stdout, _out(flash)
    report = _report(run)
    assert report["result"] == "success" and report["family"] == case.family
    assert report["drive_after"]["revision"] == case.target
    verify = next(c for c in report["preflight"] if c["name"] == "verify")
    assert verify["outcome"] == "ok", verify
    if case.can_backup:
        assert "read-back identical" in verify["detail"], verify
    assert _revision(run_cli("info", sg, "--json")) == case.target


def test_btc_seed_scenario_0043_to_0151_through_0050(bed: KernelBed) -> None:
    run = bed.outcome("seed")
    jump = run.steps["jump"]
    assert jump.returncode == 6 and "rescue plan" in jump.stdout + jump.stderr, _out(jump)
    assert "success" not in jump.stdout
    writes = [e for e in journal_entries(bed.journal, bed.label("seed")) if e["cdb"][:2] == "3b"]
    assert len(writes) == 2 * 258  # the refused jump sent none
    for step, before, after in (("first", BTC_START, "0050"), ("second", "0050", "0151")):
        done = run.steps[step]
        assert done.returncode == 0 and "success" in done.stdout, _out(done)
        (path,) = run.files[step].glob("flash-*.json")
        report = json.loads(path.read_text())
        assert report["drive_before"]["revision"] == before
        assert report["drive_after"]["revision"] == after
    assert _revision(run_cli("info", bed.drive("seed")["sg"], "--json")) == "0151"
