"""Run tests/guest/ inside ONE QEMU guest and report each guest test here.

The guest cases are listed statically (by reading tests/guest/test_*.py with
ast), so collection never boots anything; the boot happens once, in a
session fixture, only when a vm test is selected. A guest case that fails,
is skipped, or is missing from the guest's JUnit report fails here, with
its own output and the tail of the guest console.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import harness
import pytest
from guest_report import GuestCase, guest_case_ids, parse_junit

GUEST_DIR = harness.REPO / "tests" / "guest"
GUEST_TIMEOUT = 480.0  # seconds for boot + the whole guest suite


@dataclass
class GuestReport:
    run: harness.GuestRun
    cases: dict[str, list[GuestCase]]  # case id (parameters stripped) -> results


@pytest.fixture(scope="session")
def guest_report(tmp_path_factory: pytest.TempPathFactory) -> GuestReport:
    results = tmp_path_factory.mktemp("guest-results")
    command = (
        f"{sys.executable} -m pytest tests/guest -q -p no:cacheprovider --color=no -o addopts= "
        "--junitxml=$RESCUE_RESULTS/junit.xml"
    )
    try:
        run = harness.run_in_guest(command, results, GUEST_TIMEOUT)
    except harness.GuestError as err:
        pytest.fail(f"{err}\n--- guest console (tail) ---\n{err.console[-6000:]}")
    junit = results / "junit.xml"
    if not junit.is_file():
        pytest.fail(f"guest wrote no junit.xml (exit {run.returncode})\n{run.console[-6000:]}")
    print(f"guest: wall {run.wall_seconds:.1f} s, uptimes {run.timings}", file=sys.stderr)
    return GuestReport(run, parse_junit(junit))


@pytest.mark.vm
@pytest.mark.parametrize("case", guest_case_ids(GUEST_DIR))
def test_in_guest(guest_report: GuestReport, case: str) -> None:
    results = guest_report.cases.get(case)
    if not results:
        pytest.fail(f"{case} did not run in the guest\n{guest_report.run.console[-6000:]}")
    bad = [r for r in results if r.outcome != "passed"]
    if bad:
        details = "\n".join(f"[{r.outcome}] {r.detail}" for r in bad)
        pytest.fail(f"{case}: {len(bad)} of {len(results)} guest runs not passed\n{details}")


@pytest.mark.vm
def test_guest_suite_reports_only_known_cases(guest_report: GuestReport) -> None:
    """Catches what per-case checks cannot: collection errors and unknown cases."""
    unknown = sorted(set(guest_report.cases) - set(guest_case_ids(GUEST_DIR)))
    assert not unknown, f"guest ran cases the host does not list: {unknown}"
    assert guest_report.run.returncode == 0, (
        f"guest pytest exited {guest_report.run.returncode}\n{guest_report.run.console[-6000:]}"
    )
