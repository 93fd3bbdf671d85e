"""The bench screen's refresh cost with 16 drives, against what a serial console can carry.

The screen (rescue/bench/screen.py) redraws the whole 80x25 frame at most a
few times a second while jobs run. Here sixteen emulated drives are listed,
each with a job and progress, and one refresh (build the frame, write it to
an in-memory terminal) is timed over many rounds. The peer is the line it
is drawn on: the time a 115200-baud serial line (10 bits per character)
needs to carry the same frame, the slowest console the boot image supports.
Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

from rescue.bench.screen import Screen

DRIVES = 16
ROUNDS = 500
BAUD = 115200


def _screen(folder: Path) -> Screen:
    devices = [f"emu:btc-drw1004im,rev=0043,disc=none,serial=SCREEN-{n}" for n in range(DRIVES)]
    screen = Screen(devices, None, folder, out=io.StringIO())
    for n, row in enumerate(screen.rows):
        row.busy, row.job, row.progress = True, "flash", f"write {n * 6}%"
    screen.say("drive 3: flash success (exit 0)")
    return screen


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        screen = _screen(Path(tmp))
        started = time.perf_counter()
        for _ in range(ROUNDS):
            screen.draw()
        seconds = (time.perf_counter() - started) / ROUNDS
        chars = len(screen.out.getvalue()) / ROUNDS
    serial = chars * 10 / BAUD
    print(
        f"bench screen refresh, {DRIVES} drives: {seconds * 1e3:.2f} ms per refresh "
        f"({chars:.0f} characters); a {BAUD}-baud serial line carries it in "
        f"{serial * 1e3:.0f} ms, ratio {seconds / serial:.3f}x"
    )
