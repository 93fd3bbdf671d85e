"""Run tests/guest/ inside ONE QEMU guest and report each guest test here.

The guest cases are listed statically (by reading tests/guest/test_*.py with
ast), so collection never boots anything; the boot happens once, in the
session fixture guest_report (conftest.py), only when a vm test is selected.
A guest case that fails, is skipped, or is missing from the guest's JUnit
report fails here, with its own output and the tail of the guest console.
"""

from __future__ import annotations

import harness
import pytest
from guest_report import GuestReport, guest_case_ids

GUEST_DIR = harness.REPO / "tests" / "guest"


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
