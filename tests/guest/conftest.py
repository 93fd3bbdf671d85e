"""Tests that run INSIDE the QEMU guest, on a real kernel SCSI stack.

They are collected only when RESCUE_IN_GUEST=1 (set by tests/vm/harness.py):
on the host they cannot run at all. This is a collection guard, not a gap:
the host-side tests/vm/test_guest.py fails when any of these fails or is
missing from the guest's report.

The drives come from the harness (see its qemu_command); their identities
arrive as RESCUE_* environment variables, and nodes are found through plain
sysfs (the guest has no udev): see guestlib.py.
"""

from __future__ import annotations

import os

import pytest

IN_GUEST = os.environ.get("RESCUE_IN_GUEST") == "1"
collect_ignore_glob = [] if IN_GUEST else ["test_*.py"]


@pytest.fixture
def env() -> dict[str, str]:
    return dict(os.environ)
