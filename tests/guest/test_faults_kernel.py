"""The BTC fault matrix through the real kernel (scenarios in kernelbed.py).

In process, a fault is the model's word; here it has to cross sr/sg: a hung
WRITE BUFFER must fire the kernel's own command timer (the SG_IO timeout,
shortened to seconds for the test) and be aborted through tcm_loop; a power-on
reset's 6/29/00 must reach rescue through SG_IO rather than being eaten by the
mid-layer; a burn cut off by power loss must leave a drive the same command
flashes. Each first attempt ends non-zero without "success"; the second
succeeds and the drive reports the new revision.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from guestlib import journal_entries, run_cli, sense_triple
from kernelbed import (
    BTC_TARGET,
    FAULTS,
    SHORT_CHUNK_TIMEOUT,
    FaultCase,
    KernelBed,
    fails_then_flashes,
)

pytestmark = pytest.mark.after_flashes


def _rescue_journal(folder: Path) -> list[dict[str, object]]:
    (journal,) = folder.glob("*.journal.jsonl")
    return journal_entries(journal)


@pytest.mark.parametrize("case", FAULTS, ids=lambda c: c.name)
def test_fault_fails_clearly_and_the_same_command_then_flashes(
    bed: KernelBed, case: FaultCase
) -> None:
    run = bed.outcome(case.role)
    fails_then_flashes(case, run.steps["first"], run.steps["second"])
    code, out, err = run_cli("info", bed.drive(case.role)["sg"], "--json")
    assert code == 0 and json.loads(out)["inquiry"]["revision"] == BTC_TARGET, err


def test_a_hung_chunk_fires_the_kernels_timer_and_is_aborted(bed: KernelBed) -> None:
    run = bed.outcome("fault-timeout")
    timed_out = [e for e in _rescue_journal(run.files["first"]) if e.get("error")]
    assert [e["error"] for e in timed_out] == ["CommandTimeout"], timed_out
    assert str(timed_out[0]["cdb"]).startswith("3b06")
    assert SHORT_CHUNK_TIMEOUT <= float(timed_out[0]["duration"]) < SHORT_CHUNK_TIMEOUT + 30
    spec = bed.label("fault-timeout").removeprefix("tcmu:")
    assert bed.bridge.wait_for_line(f"{spec}: kernel abort task"), bed.bridge.output()


def test_a_reset_unit_attention_reaches_rescue_through_sg_io(bed: KernelBed) -> None:
    run = bed.outcome("fault-reset")
    refused = [e for e in _rescue_journal(run.files["first"]) if e.get("sense")]
    writes = [e for e in refused if str(e["cdb"]).startswith("3b")]
    assert writes, refused
    assert sense_triple(bytes.fromhex(str(writes[0]["sense"]))) == (6, 0x29, 0)


def test_power_loss_happens_after_the_commit_reached_the_drive(bed: KernelBed) -> None:
    served = journal_entries(bed.journal, bed.label("fault-powerloss"))
    commits = [e for e in served if str(e["cdb"]).startswith("3b07") and e["status"] == 0]
    assert len(commits) == 2, [e["cdb"] for e in served if str(e["cdb"]).startswith("3b07")]
