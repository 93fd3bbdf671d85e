"""A `python -m rescue.emulator.usb_bot` process as the USB guest tests drive it.

The gadget prints one line per event (``READY``, ``RESET``, ``ABANDONED``,
``STATS``); a reader thread keeps every line, so a test can wait for the next
one of a kind without losing the others, from any thread.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

BOT = [sys.executable, "-m", "rescue.emulator.usb_bot"]
START_TIMEOUT = 120.0  # Python over 9p, enumeration and usb-storage's scan under TCG


class Bot:
    """One gadget process; ``sg``/``sr``/``hctl`` are its nodes once READY."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [*BOT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self._new: queue.Queue[str] = queue.Queue()
        self.stats: dict[str, Any] | None = None
        self._errors: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, daemon=True),
            threading.Thread(target=self._read_errors, daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self.hctl, sg, sr = self.next_line("READY")
        self.sg, self.sr = f"/dev/{sg}", f"/dev/{sr}"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            self._new.put(line)
        self._new.put("")  # end of output

    def _read_errors(self) -> None:
        assert self.process.stderr is not None
        self._errors.extend(self.process.stderr)

    @property
    def stderr(self) -> str:
        return "".join(self._errors)

    def next_line(self, prefix: str, timeout: float = START_TIMEOUT) -> list[str]:
        """The words after PREFIX on the next line starting with it."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._new.get(timeout=left)
            except queue.Empty:
                break
            if not line:
                self._new.put("")
                break
            if line.startswith(prefix):
                return line.split()[1:]
        raise AssertionError(f"no {prefix} line from the gadget: {self.lines} {self.stderr}")

    def stop(self) -> None:
        """SIGTERM, then the STATS line the gadget prints as it tears down (the readers
        own both pipes: they see every line to the end)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for reader in self._readers:
            reader.join(timeout=30)
        for line in self.lines:
            if line.startswith("STATS "):
                self.stats = json.loads(line[6:])
        if self.stats is None:
            print(self.stderr[-3000:])


@contextmanager
def bot(*args: str) -> Iterator[Bot]:
    started = Bot(*args)
    try:
        yield started
    finally:
        started.stop()
