"""Instructions per TEST UNIT READY on the host, a count that does not swing with the load.

Under TCG a poll's time swings with the host's load from boot to boot; the
number of instructions Python runs for it does not. Each loop runs under
valgrind's callgrind twice, with 20,000 polls and with none, and the
difference over 20,000 is one poll's share. py-sg's write is replaced by
``"".format``, a C method that takes the same four arguments and does nothing,
so what is counted is Python's own work around the binding, not the ioctl.

    python -m tests.bench.instructions

prints rescue's poll through ``Drive`` beside the bare py-sg loop the guest
bench takes as the floor (tests/guest/bench_tasks.py, ``_py_sg_turs``).
Not a test: nothing here asserts a count.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rescue.drive import Drive
from rescue.transport import sgio
from rescue.transport.base import READY_POLL
from rescue.transport.sgio import SgioTransport

POLLS = 20_000
STAND_IN = "".format  # takes any positional arguments, does nothing, raises nothing


def _rescue(transport: SgioTransport, count: int) -> None:
    drive = Drive(transport)
    for _ in range(count):
        drive.test_unit_ready()


def _py_sg(transport: SgioTransport, count: int) -> None:
    """The guest bench's floor: one CDB object, positional arguments, try around each call."""
    cdb, write, fd = READY_POLL, STAND_IN, transport._fd
    for _ in range(count):
        try:
            write(fd, cdb, b"", 10000)
        except ValueError:
            pass


LOOPS = {"rescue": _rescue, "py_sg": _py_sg}


def _loop(name: str, count: int) -> None:
    """What runs under valgrind: COUNT polls of loop NAME on /dev/null, py-sg stood in for."""
    sgio._sg_write = STAND_IN
    with SgioTransport("/dev/null") as transport:
        LOOPS[name](transport, count)


def _total(name: str, count: int, folder: Path) -> int:
    out = folder / f"{name}.{count}.callgrind"
    argv = [sys.executable, "-m", "tests.bench.instructions", "--loop", name, str(count)]
    subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv],
        check=True,
        capture_output=True,
    )
    for line in out.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError(f"{out}: callgrind wrote no total")


def main() -> None:
    if shutil.which("valgrind") is None:
        print("instructions: not counted: valgrind is not installed (apt-get install valgrind)")
        return
    per_poll = {}
    with tempfile.TemporaryDirectory(prefix="rescue-instructions-") as folder:
        for name in LOOPS:
            both = [_total(name, count, Path(folder)) for count in (0, POLLS)]
            per_poll[name] = (both[1] - both[0]) / POLLS
    rescue, floor = per_poll["rescue"], per_poll["py_sg"]
    print(
        f"TEST UNIT READY through Drive: {rescue:,.0f} instructions per poll (callgrind, py-sg "
        f'stood in for by "".format); the bare py-sg loop {floor:,.0f}; '
        f"rescue adds {rescue - floor:,.0f}"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--loop"]:
        _loop(sys.argv[2], int(sys.argv[3]))
    else:
        main()
