"""Fixtures shared by the in-process tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def bench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private workbench: reports and drive locks under tmp_path, never in /run/lock."""
    monkeypatch.setenv("RESCUE_REPORTS", str(tmp_path / "reports"))
    monkeypatch.setenv("RESCUE_LOCK_DIR", str(tmp_path / "locks"))
    return tmp_path


@pytest.fixture(autouse=True)
def no_host_kernel_log(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A menu under test writes its "tool ready" line to a file, never to the host's /dev/kmsg
    (tests/test_menu.py reads that file where the line matters); the file lies outside the
    test's own tmp_path, which some tests list."""
    from rescue.menu import session

    quiet = tmp_path_factory.getbasetemp() / "host-kmsg"
    quiet.touch()
    monkeypatch.setattr(session, "KMSG", quiet)
