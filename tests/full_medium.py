"""A journal's file on a medium that fills up: the tests of what a full medium costs a command.

``FullMedium`` takes lines until ``full_after(lines_written, data)`` says no more fit, then
every write fails with ENOSPC as a real full file system's does; ``fill_the_medium`` puts
every journal opened afterwards on such a medium.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from typing import Any

import pytest

from rescue.transport.journal import Journal

FullAfter = Callable[[int, bytes], bool]


class FullMedium:
    def __init__(self, real: Any, full_after: FullAfter) -> None:
        self.real, self.full_after, self.lines = real, full_after, 0

    def write(self, data: bytes) -> int:
        if self.full_after(self.lines, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.lines += 1
        return self.real.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def __enter__(self) -> FullMedium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()


def fill_the_medium(monkeypatch: pytest.MonkeyPatch, full_after: FullAfter) -> None:
    original = Journal.__init__

    def init(self: Journal, path: Any) -> None:
        original(self, path)
        self._fh = FullMedium(self._fh, full_after)  # type: ignore[assignment]

    monkeypatch.setattr(Journal, "__init__", init)
