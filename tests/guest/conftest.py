"""Tests that run INSIDE the QEMU guest, on a real kernel SCSI stack.

They are collected only when RESCUE_IN_GUEST=1 (set by tests/vm/harness.py):
on the host they cannot run at all. This is a collection guard, not a gap:
the host-side tests/vm/test_guest.py fails when any of these fails or is
missing from the guest's report.

The drives come from the harness (see its qemu_command); their identities
arrive as RESCUE_* environment variables, and nodes are found through plain
sysfs (the guest has no udev): see guestlib.py. The shared TCMU drives of
kernelbed.py start with the session whenever a collected test uses them, so
their long flashes run while the other modules' tests do; the tests that
judge those flashes (marked ``after_flashes``) are moved to the end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

IN_GUEST = os.environ.get("RESCUE_IN_GUEST") == "1"
collect_ignore_glob = [] if IN_GUEST else ["test_*.py"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "after_flashes: waits for kernelbed's flashes; runs after every other test"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("after_flashes") is not None)


@pytest.fixture
def env() -> dict[str, str]:
    return dict(os.environ)


@pytest.fixture(scope="session")
def bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from kernelbed import KernelBed, results_dir

    with KernelBed(tmp_path_factory.mktemp("bed"), results_dir()) as started:
        yield started


@pytest.fixture(scope="session", autouse=True)
def _bed_starts_first(request: pytest.FixtureRequest) -> None:
    if any("bed" in getattr(item, "fixturenames", ()) for item in request.session.items):
        request.getfixturevalue("bed")
