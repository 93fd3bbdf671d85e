"""One `rescue emulate` process serving every drive the family, fault, sg3_utils and
permission tests use, with the long flash scenarios started together.

Why one process and why at once: a flash mostly waits for the drive to come
back (BTC: btcflash's 50 s settle), and under TCG every Python start costs
seconds. Run one after another, the sixteen flashes of
test_families_kernel.py and test_faults_kernel.py would take over a quarter
of an hour of guest time; started in threads at the beginning of the session
they overlap with each other and with the rest of the suite, and the tests
only collect and judge their outcomes. Only the flashes get a process of
their own (`rescue flash` as a user runs it); `info` and `backup` before
them run in this process (guestlib.run_cli), saving a Python start each.

Every drive's spec carries its own ``serial=`` so that the bridge's journal
(device ``tcmu:SPEC``) tells the drives apart.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from guestlib import RESCUE, BridgeProcess, emulate_command, make_image, rescue, run_cli

SCENARIO_TIMEOUT = 420.0  # one scenario, even on a loaded guest
BED_START_TIMEOUT = 240.0  # a dozen drives: configfs, the kernel's scan, Python over 9p


@dataclass(frozen=True)
class FamilyCase:
    """A family's model and the newer image it is flashed to (as in tests/test_flash_*.py)."""

    family: str
    model: str
    target: str
    flash_args: tuple[str, ...] = ("--no-backup",)
    can_backup: bool = False

    @property
    def role(self) -> str:
        return f"family-{self.family}"


# tsst, mt1959 and spc: the demo images name another product than the model's
# INQUIRY, so (as in the host tests) the flash is a deliberate cross-flash.
CROSS = ("--no-backup", "--force", "identity")
FAMILIES = (
    FamilyCase("btc", "btc-drw1004im", "0050"),
    FamilyCase("mt1939", "tsst-se506cb", "TS02", flash_args=(), can_backup=True),
    FamilyCase("plextor", "plextor-px716a", "1.11"),
    FamilyCase("tsst", "tsst-shd163c", "SB02", CROSS),
    FamilyCase("mt1959", "asus-bw16d1ht", "3.10", CROSS),
    FamilyCase("spc", "generic-spc", "1.01", CROSS),
    FamilyCase("pioneer", "pioneer-dvr108", "1.17"),
)

# The product waits 60 s for a WRITE BUFFER chunk (rescue.families.btc); a
# hung chunk is given this instead so the kernel's timer fires in seconds.
SHORT_CHUNK_TIMEOUT = 10.0
RESCUE_SHORT_CHUNKS = [
    sys.executable,
    "-c",
    "import sys, rescue.families.btc as btc; "
    f"btc.CHUNK_TIMEOUT = {SHORT_CHUNK_TIMEOUT}; "
    "from rescue.cli import main; sys.exit(main(sys.argv[1:]))",
]


@dataclass(frozen=True)
class FaultCase:
    """A BTC drive with one fault; the first flash must fail with EXIT_CODE."""

    name: str
    keys: str
    exit_code: int
    command: tuple[str, ...] = tuple(RESCUE)

    @property
    def role(self) -> str:
        return f"fault-{self.name}"


def fails_then_flashes(
    case: FaultCase,
    first: subprocess.CompletedProcess[str],
    second: subprocess.CompletedProcess[str],
) -> None:
    """The matrix's rule, on any path: the faulty attempt ends with CASE's exit code and a
    clear error (no "success", no traceback); the same command then succeeds."""
    text = first.stdout + first.stderr
    assert first.returncode == case.exit_code, f"exit {first.returncode}\n{text}"
    assert "success" not in text.lower() and "error:" in text and "Traceback" not in text
    again = second.stdout + second.stderr
    assert second.returncode == 0 and "success" in second.stdout, (
        f"exit {second.returncode}\n{again}"
    )


FAULTS = (
    FaultCase("timeout", "fault=hang@3b.5", 11, tuple(RESCUE_SHORT_CHUNKS)),
    FaultCase("reset", "fault=reset@3b.100", 10),
    FaultCase("powerloss", "commit=powerloss", 1),
)
BTC_START, BTC_TARGET = "0043", "0050"
# The seed scenario: 0151 straight from 0043 is refused by the catalog's plan
# (nothing sent), then 0043 -> 0050 -> 0151 as `rescue plan` says.
SEED_STEPS = (("jump", "0151"), ("first", BTC_TARGET), ("second", "0151"))

SPECS: dict[str, str] = {
    **{c.role: f"{c.model},disc=none,serial=KB-{c.family}" for c in FAMILIES},
    **{
        c.role: f"btc-drw1004im,rev={BTC_START},disc=none,serial=KB-{c.name},{c.keys}"
        for c in FAULTS
    },
    "seed": f"btc-drw1004im,rev={BTC_START},disc=none,serial=KB-seed",
    "sg3": f"btc-drw1004im,rev={BTC_START},disc=none,serial=KB-sg3",
    "user": f"btc-drw1004im,rev={BTC_START},disc=none,serial=KB-user",
}


@dataclass
class Scenario:
    """What one scenario ran: each step's process, in order, and the files it made."""

    steps: dict[str, subprocess.CompletedProcess[str]] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    before: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # in-process CLI runs

    def run(self, name: str, *args: str, command: tuple[str, ...] = tuple(RESCUE)) -> None:
        self.steps[name] = rescue(*args, command=command, timeout=SCENARIO_TIMEOUT)


class KernelBed:
    """The shared bridge process, its journal, and the scenario futures."""

    def __init__(self, work: Path, results: Path) -> None:
        self.work = work
        self.results = results
        self.journal = work / "served.jsonl"
        self.bridge: BridgeProcess = emulate_command(list(SPECS.values()), self.journal)
        self.bridge.timeout = BED_START_TIMEOUT
        self._pool = ThreadPoolExecutor(max_workers=len(FAMILIES) + len(FAULTS) + 1)
        self._futures: dict[str, Future[Scenario]] = {}

    def __enter__(self) -> KernelBed:
        self.bridge.__enter__()
        assert [d["spec"] for d in self.bridge.drives] == list(SPECS.values())
        for case in FAMILIES:
            done = self._before_flash(case)
            self._futures[case.role] = self._pool.submit(self._family, case, done)
        for fault in FAULTS:
            self._futures[fault.role] = self._pool.submit(self._fault, fault)
        self._futures["seed"] = self._pool.submit(self._seed)
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)
        self.bridge.stop(signal.SIGTERM)

    def drive(self, role: str) -> dict[str, str]:
        return self.bridge.drives[list(SPECS).index(role)]

    def label(self, role: str) -> str:
        """The device name of ROLE's commands in the bridge's journal."""
        return f"tcmu:{SPECS[role]}"

    def outcome(self, role: str) -> Scenario:
        return self._futures[role].result(timeout=SCENARIO_TIMEOUT)

    def _folder(self, role: str) -> Path:
        folder = self.work / role
        folder.mkdir()
        return folder

    def _before_flash(self, case: FamilyCase) -> Scenario:
        """info, and backup where the family has one, in this (the main) thread."""
        sg = self.drive(case.role)["sg"]
        folder = self._folder(case.role)
        # The BTC flash's report and journal go back to the host (tests/vm replays it).
        reports = self.results / "flash-btc" if case.family == "btc" else folder / "reports"
        done = Scenario(files={"reports": reports, "backup": folder / "before.bin"})
        done.files["image"] = make_image(case.family, case.target, folder / "new.bin")
        done.before["info"] = run_cli("info", sg, "--json")
        if case.can_backup:
            done.before["backup"] = run_cli("backup", sg, "-o", str(done.files["backup"]))
        return done

    def _family(self, case: FamilyCase, done: Scenario) -> Scenario:
        done.run(
            "flash", "flash", self.drive(case.role)["sg"], str(done.files["image"]), "--yes",
            *case.flash_args, "--reports", str(done.files["reports"]),
        )  # fmt: skip
        return done

    def _fault(self, case: FaultCase) -> Scenario:
        sg = self.drive(case.role)["sg"]
        folder = self._folder(case.role)
        image = make_image("btc", BTC_TARGET, folder / "new.bin")
        done = Scenario(files={"image": image})
        for attempt in ("first", "second"):
            reports = folder / attempt
            done.files[attempt] = reports
            done.run(
                attempt, "flash", sg, str(image), "--yes", "--no-backup",
                "--reports", str(reports), command=case.command,
            )  # fmt: skip
        return done

    def _seed(self) -> Scenario:
        sg = self.drive("seed")["sg"]
        folder = self._folder("seed")
        done = Scenario()
        for step, revision in SEED_STEPS:
            image = make_image("btc", revision, folder / f"V{revision}.bin")
            done.files[step] = folder / step
            done.run(
                step, "flash", sg, str(image), "--yes", "--no-backup",
                "--reports", str(done.files[step]),
            )  # fmt: skip
        return done


def results_dir() -> Path:
    """The harness's results share ($RESCUE_RESULTS), else a scratch folder."""
    path = Path(os.environ.get("RESCUE_RESULTS") or os.environ.get("TMPDIR", "/tmp"))
    path.mkdir(parents=True, exist_ok=True)
    return path
