"""Instructions per command on the host, counts that do not swing with the load.

Under TCG a poll's or a block's time swings with the host's load from boot to
boot; the number of instructions Python runs for it does not. Each loop runs
under valgrind's callgrind twice, with COUNT items and with none, and the
difference over COUNT is one item's share. py-sg's write and read are replaced
by ``"".format``, a C method that takes the same four arguments and does
nothing, so what is counted is Python's own work around the binding, not the
ioctl.

    python -m tests.bench instructions

prints rescue's poll through ``Drive`` beside the bare py-sg loop the guest
bench takes as the floor (tests/guest/bench_tasks.py, ``_py_sg_turs``), and a
scan's 64 KiB block through the scan engine beside the same READ(10)s through
the prepared reader alone (``rescue.drive.read10_reader``): what the engine's
per-block bookkeeping (status, zones, slow blocks, progress) adds to a read
(issue 15, item 2). Not a test: nothing here asserts a count.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rescue.diagnostics.scan import Scanner, ScanResult
from rescue.drive import Drive, read10_reader
from rescue.transport import sgio
from rescue.transport.base import READY_POLL
from rescue.transport.sgio import SgioTransport

POLLS = 20_000
BLOCKS = 20_000
BLOCK = 32  # sectors: 64 KiB, the guest bench's smaller READ
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


def _engine(transport: SgioTransport, count: int) -> None:
    """COUNT blocks through the scan engine, progress told as a scan's bar is told."""
    sectors = count * BLOCK
    result = ScanResult(0, sectors, bytearray(b"?" * sectors))
    Scanner(Drive(transport), block=BLOCK).run(result, lambda _: None)


def _reads(transport: SgioTransport, count: int) -> None:
    """The same COUNT READ(10)s through the prepared reader the engine uses, nothing else."""
    read = read10_reader(transport)
    assert read is not None
    for lba in range(0, count * BLOCK, BLOCK):
        read(lba, BLOCK)


LOOPS = {"rescue": _rescue, "py_sg": _py_sg, "engine": _engine, "reads": _reads}
COUNTS = {"rescue": POLLS, "py_sg": POLLS, "engine": BLOCKS, "reads": BLOCKS}


def _loop(name: str, count: int) -> None:
    """What runs under valgrind: COUNT items of loop NAME on /dev/null, py-sg stood in for."""
    sgio._sg_write = sgio._sg_read = STAND_IN
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
    each = {}
    with tempfile.TemporaryDirectory(prefix="rescue-instructions-") as folder:
        for name, count in COUNTS.items():
            both = [_total(name, n, Path(folder)) for n in (0, count)]
            each[name] = (both[1] - both[0]) / count
    rescue, floor = each["rescue"], each["py_sg"]
    print(
        f"TEST UNIT READY through Drive: {rescue:,.0f} instructions per poll (callgrind, py-sg "
        f'stood in for by "".format); the bare py-sg loop {floor:,.0f}; '
        f"rescue adds {rescue - floor:,.0f}"
    )
    engine, reads = each["engine"], each["reads"]
    print(
        f"scan, {BLOCK * 2} KiB blocks: {engine:,.0f} instructions per block through the scan "
        f"engine, {reads:,.0f} through the prepared READ(10) alone; the engine's bookkeeping "
        f"adds {engine - reads:,.0f} a block (the SG_IO itself, which the count leaves out, "
        f"is most of a real block's time)"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--loop"]:
        _loop(sys.argv[2], int(sys.argv[3]))
    else:
        main()
