"""The one guest boot every vm test shares (see test_guest.py and test_guest_replay.py).

The boot runs all of tests/guest/ inside QEMU and keeps what the guest wrote
to $RESCUE_RESULTS (JUnit report, flash journals) for the host-side tests.
"""

from __future__ import annotations

import sys

import harness
import pytest
from guest_report import GuestReport, parse_junit

# Boot + the whole guest suite: a hard limit. Alone it took about 900 s in 2026-12; beside
# the boot tests (make test) and other load it went past 1500 s.
GUEST_TIMEOUT = 2400.0


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
