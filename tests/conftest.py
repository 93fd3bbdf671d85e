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
