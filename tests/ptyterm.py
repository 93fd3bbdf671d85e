"""A program on a pseudo-terminal, for tests of the bench screen on the host and in the guest.

The program runs as a user starts it (its own process, its terminal a pty);
a test types command lines and reads back what the screen shows, frame by
frame (each frame starts with home + clear).
"""

from __future__ import annotations

import os
import select
import subprocess
import time
from collections.abc import Callable

CLEAR = "\x1b[H\x1b[2J"


class Pty:
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        self.process = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
        )
        os.close(slave)
        self.text = ""

    def read(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    self.text += os.read(self.master, 65536).decode(errors="replace")
                except OSError:  # the process ended and closed the terminal
                    return

    def wait_for(
        self, words: str | Callable[[str], bool], timeout: float = 60.0, *, any_frame: bool = False
    ) -> str:
        """The screen once WORDS are on it. With ANY_FRAME, WORDS may be in any frame drawn
        since the wait began: a message the screen shows for a moment (others push it out of
        its few message lines) may come and go between two reads of a busy machine."""
        start = len(self.text)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.read(0.3)
            shown = self.text[start:] if any_frame else self.screen()
            if words(shown) if callable(words) else words in shown:
                return self.screen()
        raise AssertionError(f"{words!r} never shown; last screen:\n{self.screen()}")

    def screen(self) -> str:
        return self.text.rsplit(CLEAR, 1)[-1]

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())


def row(screen: str, number: int) -> str:
    """Drive NUMBER's line of the table ("" when not shown)."""
    return next((x for x in screen.splitlines() if x.startswith(f"{number:>2} ")), "")


def assert_frames_fit(text: str, width: int = 80, height: int = 25) -> None:
    """Every frame but the last (the summary line after it) fits the console."""
    frames = [f for f in text.split(CLEAR) if f.strip()]
    for frame in frames[:-1]:
        lines = frame.splitlines()  # the terminal turned each \n into \r\n: \r\r\n
        assert len([x for x in lines if x]) <= height, frame
        assert all(len(line) < width for line in lines), frame
