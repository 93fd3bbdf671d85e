"""The drive lock never destroys what is planted under its name, and makes no folder chain.

The lock file is truncated and rewritten with the holder's pid; before this
was checked, a symbolic link named like the lock (in a shared lock folder, or
a RESCUE_LOCK_DIR a user points anywhere) made rescue truncate the link's
target, and RESCUE_LOCK_DIR=/missing/deeper made both folders.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rescue.errors import BadInput
from rescue.ops.safety import exclusive_lock

PRECIOUS = b"someone's firmware" * 100


def test_a_link_in_the_locks_place_is_refused_and_its_target_kept(tmp_path: Path) -> None:
    target = tmp_path / "precious.bin"
    target.write_bytes(PRECIOUS)
    (tmp_path / "locks").mkdir()
    (tmp_path / "locks" / "rescue-drive.lock").symlink_to(target)
    with pytest.raises(BadInput, match="symbolic link is in its place"):
        with exclusive_lock("drive", tmp_path / "locks"):
            pass
    assert target.read_bytes() == PRECIOUS


def test_a_fifo_in_the_locks_place_is_refused_without_waiting(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "rescue-drive.lock")
    with pytest.raises(BadInput, match="not a regular file"):
        with exclusive_lock("drive", tmp_path):
            pass


def test_only_the_lock_folder_itself_is_made(tmp_path: Path) -> None:
    with exclusive_lock("drive", tmp_path / "locks") as path:
        assert path.read_text() == f"{os.getpid()}\n"
    with pytest.raises(BadInput, match="No such file or directory"):
        with exclusive_lock("drive", tmp_path / "missing" / "locks"):
            pass
    assert not (tmp_path / "missing").exists()
