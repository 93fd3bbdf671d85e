"""One ordered list of what reached the medium and what the user was told.

Durability is a question of order: a file's data flushed (fsync) before its
rename, its folder flushed after, and both before the line that says it is
saved. ``timeline`` records each fsync (by the path behind the descriptor),
each rename and each line written to stdout in one list, so a test can
compare positions, and fails when any of them goes missing. Call it in the
test's body, not in a fixture: pytest puts its own stdout back between a
test's setup and its call.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

import pytest

Event = tuple[str, str]  # ("fsync", path) | ("rename", new path) | ("say", text)


class _Said:
    """stdout as it was, with every write also appended to the timeline."""

    def __init__(self, inner: TextIO, seen: list[Event]) -> None:
        self._inner, self._seen = inner, seen

    def write(self, text: str) -> int:
        if text.strip():
            self._seen.append(("say", text))
        return self._inner.write(text)

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


def timeline(monkeypatch: pytest.MonkeyPatch) -> list[Event]:
    """Install the spies (undone by monkeypatch) and return the list they fill."""
    seen: list[Event] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        seen.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        real_replace(src, dst)
        seen.append(("rename", os.fspath(dst)))

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(sys, "stdout", _Said(sys.stdout, seen))
    return seen


def first(seen: list[Event], kind: str, containing: str) -> int:
    """Position of the first event of KIND whose text contains CONTAINING."""
    for index, (what, text) in enumerate(seen):
        if what == kind and containing in text:
            return index
    raise AssertionError(f"no {kind} of {containing!r} in {seen}")


def last(seen: list[Event], kind: str, containing: str) -> int:
    """Position of the last event of KIND whose text contains CONTAINING."""
    for index in range(len(seen) - 1, -1, -1):
        what, text = seen[index]
        if what == kind and containing in text:
            return index
    raise AssertionError(f"no {kind} of {containing!r} in {seen}")


def folder_synced(seen: list[Event], folder: object) -> int:
    """Position of FOLDER's last fsync (the folder itself, not a file in it)."""
    event = ("fsync", os.fspath(folder))  # type: ignore[call-overload]
    assert event in seen, f"{folder} was never flushed: {seen}"
    return len(seen) - 1 - seen[::-1].index(event)
