"""scsi_debug knobs for guest tests and benchmarks, always put back as they were.

Facts (Linux 6.1 drivers/scsi/scsi_debug.c, and checked in the guest):
- `opts`, `delay` and `virtual_gb` are driver attributes under
  /sys/bus/pseudo/drivers/scsi_debug; writing them there runs the driver's
  store hook (virtual_gb recomputes the capacity and queues a 6/2A/09
  "capacity data has changed" unit attention). `medium_error_start` and
  `medium_error_count` exist only as module parameters under
  /sys/module/scsi_debug/parameters.
- opts bit 0x2 makes a READ touching [medium_error_start,
  medium_error_start + medium_error_count) fail with 3/11/00, in logical
  blocks (2048 bytes here).
- `delay` (jiffies, default 1) holds every command back one timer tick:
  4 ms per command at HZ=250, which would swamp any per-command cost.
- sr learns a new capacity only when it sees a media change, and the
  unit attention that tells it so is consumed by whichever command comes
  first: the block node is opened right after each resize, so the kernel's
  own TEST UNIT READY (sr_check_events) takes it and re-reads the size.

Another test suite changes these knobs too (timeouts, unit-attention storms),
so every change is undone in a ``finally``, even when the test fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from guestlib import ScsiNode

DRIVER = Path("/sys/bus/pseudo/drivers/scsi_debug")
MODULE = Path("/sys/module/scsi_debug/parameters")
MEDIUM_ERRORS = 0x2  # opts bit


def knob(name: str) -> Path:
    """The driver attribute when there is one (its store hook matters), else the parameter."""
    path = DRIVER / name
    return path if path.exists() else MODULE / name


def read(name: str) -> str:
    return knob(name).read_text().strip()


def _write(node: ScsiNode, name: str, value: str) -> None:
    knob(name).write_text(f"{value}\n")
    if name == "virtual_gb" and node.sr is not None:
        os.close(os.open(node.sr, os.O_RDONLY | os.O_NONBLOCK))  # sr re-reads the capacity


@contextmanager
def tuned(node: ScsiNode, **values: int) -> Iterator[None]:
    """Set scsi_debug knobs for the duration of a ``with``; restore them in reverse order."""
    saved: list[tuple[str, str]] = []
    try:
        for name, value in values.items():
            saved.append((name, read(name)))
            _write(node, name, str(value))
        yield
    finally:
        for name, old in reversed(saved):
            _write(node, name, old)


def block_sectors(node: ScsiNode) -> int:
    """The size sr currently believes in, in 2048-byte sectors (sysfs counts 512-byte units)."""
    assert node.sr is not None
    return int(Path(f"/sys/block/{Path(node.sr).name}/size").read_text()) // 4
