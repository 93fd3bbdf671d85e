"""The BTC fault matrix over USB: the kernel fault cases, behind a FunctionFS BOT bridge.

The same faults as tests/guest/test_faults_kernel.py (kernelbed.FAULTS), but
the drive sits behind usb-storage on dummy_hcd (``rescue.emulator.usb_bot``)
with a 16 KiB transfer cap: a hung WRITE BUFFER must fire the SG_IO timer
and end in usb-storage's abort and reset (the gadget drops the command and
serves the next); a power-on reset's 6/29/00 must come back
through BOT's REQUEST SENSE; a burn cut off by power loss must leave a drive
in recovery mode that the same command flashes. Each first attempt ends
non-zero without "success", the second succeeds and the drive reports the
new revision. Two more scenarios are USB's own: the bridge re-enumerates
after the commit (a new SCSI host and nodes) and the flash follows the drive
there by identity and serial; and the same after a power loss, where the
drive is followed to its new node and reported back in recovery mode (its
boot loader), then flashed there.

Every scenario starts at once in a thread (a BTC flash mostly waits:
btcflash's 50 s settle), each on a dummy_hcd controller of its own; the
tests judge the outcomes. No command of any scenario may exceed the cap
(the gadget's own log of transfer lengths).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from guestlib import RESCUE, journal_entries, make_image, rescue, sense_triple
from kernelbed import (
    BTC_START,
    BTC_TARGET,
    FAULTS,
    SCENARIO_TIMEOUT,
    FaultCase,
    fails_then_flashes,
)
from usbbed import Bot

CAP = 16 * 1024  # below usb-storage's 120 KiB, above BTC's 4 KiB chunk
COMMIT = "3b:07"  # BTC's save: WRITE BUFFER mode 7 (rescue/families/btc.py)


@dataclass
class UsbRun:
    """One scenario: each rescue run in order, the gadget's lines and stats."""

    bot: Bot | None = None
    steps: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    nodes: dict[str, str] = field(default_factory=dict)  # which sg each step ran on

    def flash(self, step: str, sg: str, image: Path, command: tuple[str, ...]) -> None:
        reports = self.files["folder"] / step
        self.files[step], self.nodes[step] = reports, sg
        self.steps[step] = rescue(
            "flash", sg, str(image), "--yes", "--no-backup", "--reports", str(reports),
            command=command, timeout=SCENARIO_TIMEOUT,
        )  # fmt: skip

    def info(self, step: str, sg: str) -> None:
        self.nodes[step] = sg
        self.steps[step] = rescue("info", "--json", sg, timeout=SCENARIO_TIMEOUT)


def _gadget(name: str, keys: str, *extra: str) -> Bot:
    spec = f"btc-drw1004im,rev={BTC_START},disc=none,serial=UB-{name}"
    spec += f",{keys}" if keys else ""
    return Bot(spec, "--max-transfer", str(CAP), "--name", f"rescue_uf_{name}",
               "--serial", f"RESCUEUF{name.upper()}", *extra)  # fmt: skip


def _fault(case: FaultCase, folder: Path) -> UsbRun:
    """The kernel matrix's case: a first flash that fails, the same command again."""
    run = UsbRun(files={"folder": folder})
    run.bot = _gadget(case.name, case.keys)
    try:
        image = make_image("btc", BTC_TARGET, folder / "new.bin")
        for attempt in ("first", "second"):
            run.flash(attempt, run.bot.sg, image, case.command)
        run.info("info", run.bot.sg)
    finally:
        run.bot.stop()
    return run


def _moved(name: str, keys: str, folder: Path) -> UsbRun:
    """The bridge re-enumerates after the commit; flash once more on the new node if the
    drive came back in its boot loader."""
    run = UsbRun(files={"folder": folder})
    run.bot = _gadget(name, keys, "--reset-after", COMMIT)
    try:
        image = make_image("btc", BTC_TARGET, folder / "new.bin")
        run.flash("first", run.bot.sg, image, tuple(RESCUE))
        node = _new_node(run.bot)
        if run.steps["first"].returncode != 0:
            run.flash("second", node, image, tuple(RESCUE))
            node = _new_node(run.bot)  # its commit resets the bridge too
        run.info("info", node)
    finally:
        run.bot.stop()
    return run


def _new_node(bot: Bot) -> str:
    """The sg node the gadget's next re-enumeration gave the drive."""
    _, sg, _ = bot.next_line("RESET", timeout=SCENARIO_TIMEOUT)
    return f"/dev/{sg}"


SCENARIOS = [case.name for case in FAULTS] + ["moved", "moved-boot"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[UsbRun]]]:
    work = tmp_path_factory.mktemp("usb-faults")
    with ThreadPoolExecutor(max_workers=len(SCENARIOS)) as pool:
        futures = {
            case.name: pool.submit(_fault, case, _mkdir(work / case.name)) for case in FAULTS
        }
        futures["moved"] = pool.submit(_moved, "moved", "", _mkdir(work / "moved"))
        futures["moved-boot"] = pool.submit(
            _moved, "movedboot", "commit=powerloss", _mkdir(work / "moved-boot")
        )
        yield futures


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _outcome(runs: dict[str, Future[UsbRun]], name: str) -> UsbRun:
    return runs[name].result(timeout=3 * SCENARIO_TIMEOUT)


def _out(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"


def _revision(run: UsbRun) -> str:
    info = run.steps["info"]
    assert info.returncode == 0, _out(info)
    return json.loads(info.stdout)["inquiry"]["revision"]


def _journal(folder: Path) -> list[dict[str, object]]:
    (journal,) = folder.glob("*.journal.jsonl")
    return journal_entries(journal)


@pytest.mark.parametrize("case", FAULTS, ids=lambda c: c.name)
def test_fault_over_usb_fails_clearly_and_the_same_command_then_flashes(
    runs: dict[str, Future[UsbRun]], case: FaultCase
) -> None:
    run = _outcome(runs, case.name)
    fails_then_flashes(case, run.steps["first"], run.steps["second"])
    assert _revision(run) == BTC_TARGET


def test_a_hung_chunk_over_usb_times_out_and_the_bridge_is_reset(
    runs: dict[str, Future[UsbRun]],
) -> None:
    run = _outcome(runs, "timeout")
    timed_out = [e for e in _journal(run.files["first"]) if e.get("error")]
    assert [e["error"] for e in timed_out] == ["CommandTimeout"], timed_out
    assert str(timed_out[0]["cdb"]).startswith("3b06")
    assert run.bot is not None and run.bot.stats is not None
    # usb-storage aborted the command and reset the port, sometimes with a Bulk-Only reset
    # too (docs/testbed.md): the gadget dropped the command, once, and served on
    assert run.bot.stats["abandoned"] == 1, (run.bot.stats, run.bot.lines)
    (dropped,) = [line for line in run.bot.lines if line.startswith("ABANDONED ")]
    assert dropped.split()[1].startswith("3b06"), dropped


def test_a_reset_unit_attention_comes_back_through_bot_request_sense(
    runs: dict[str, Future[UsbRun]],
) -> None:
    run = _outcome(runs, "reset")
    refused = [e for e in _journal(run.files["first"]) if e.get("sense")]
    writes = [e for e in refused if str(e["cdb"]).startswith("3b")]
    assert writes, refused
    assert sense_triple(bytes.fromhex(str(writes[0]["sense"]))) == (6, 0x29, 0)


def test_power_loss_over_usb_leaves_a_drive_in_recovery_mode(
    runs: dict[str, Future[UsbRun]],
) -> None:
    first = _outcome(runs, "powerloss").steps["first"]
    assert "came back in recovery mode" in first.stdout + first.stderr, _out(first)


def test_a_drive_that_re_enumerates_after_its_commit_is_followed_and_verified(
    runs: dict[str, Future[UsbRun]],
) -> None:
    run = _outcome(runs, "moved")
    flash = run.steps["first"]
    assert flash.returncode == 0 and "success" in flash.stdout, _out(flash)
    # the flash held the old sg node open: the drive is back on another one
    assert run.nodes["info"] != run.nodes["first"], run.nodes
    said = " ".join(flash.stdout.split())
    assert f"the drive came back as {run.nodes['info']}, matched by" in said, said
    assert _revision(run) == BTC_TARGET


def test_a_drive_back_in_its_boot_loader_behind_usb_is_reported_so(
    runs: dict[str, Future[UsbRun]],
) -> None:
    run = _outcome(runs, "moved-boot")
    first = run.steps["first"]
    said = " ".join((first.stdout + first.stderr).split())
    assert first.returncode == 1 and "success" not in said.lower(), _out(first)
    # the bridge re-enumerated while the drive burned (its INQUIRY then still said 0043):
    # the flash followed it, and the verify found the boot loader there
    assert f"the drive came back as {run.nodes['second']}, matched by" in said, said
    # ... flagged once the drive answers there, before the verify (rescue/discovery/refind.py)
    boot = f"the drive came back in its boot loader (revision BOOT) as {run.nodes['second']}"
    assert boot in said, said
    assert "error: the drive came back in recovery mode (revision BOOT)" in said
    assert f"rescue flash {run.nodes['second']} " in said  # the advice names the new node
    second = run.steps["second"]  # on the new node, the same image
    assert second.returncode == 0 and "success" in second.stdout, _out(second)
    assert _revision(run) == BTC_TARGET


@pytest.mark.parametrize("name", SCENARIOS)
def test_no_command_over_usb_exceeds_the_cap(runs: dict[str, Future[UsbRun]], name: str) -> None:
    run = _outcome(runs, name)
    assert run.bot is not None and run.bot.stats is not None, run.bot and run.bot.stderr
    stats = run.bot.stats
    assert stats["over_cap"] == 0 and 0 < stats["largest"] <= CAP, stats
    assert stats["largest_by_opcode"]["3b"] == 0x1000, stats  # BTC's chunk went through
