"""Host-side costs, printed as ratios against a baseline measured in the same run.

1. One command through the whole stack (build the CDB, execute on the
   in-process model, parse the answer) vs the model alone answering the same
   raw CDB: the ratio is what the host side adds per command.
2. A 1 MiB BTC flash through `rescue flash` on the emulated DRW-1004IM: the
   model's burn and the host's waits run on virtual time, so the wall time
   is the host's own work (and the model's bookkeeping). Reported as commands
   per second and MB/s, beside the bare model taking the same WRITE BUFFERs.
Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from pathlib import Path

from rescue.cli import main as rescue_main
from rescue.emulator.images import make_btc_image
from rescue.emulator.registry import create
from rescue.scsi import cdb as build
from rescue.scsi.inquiry import parse_inquiry
from rescue.transport.emulated import EmulatedTransport
from rescue.transport.journal import read_journal


def _rate(fn, seconds: float = 1.0) -> float:  # noqa: ANN001
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(200):
            fn()
        count += 200
    return count / elapsed


def bench_command() -> None:
    device = create("generic-dvd")
    transport = EmulatedTransport(device, "emu:generic-dvd")
    c = build.inquiry()
    raw = bytes(c)
    stack = _rate(lambda: parse_inquiry(transport.execute(c, data_in=c.data_in).data))
    bare = _rate(lambda: device.submit(raw, None, 96))
    print(f"INQUIRY through the stack: {stack:,.0f} commands/s")
    print(f"INQUIRY, model alone:      {bare:,.0f} commands/s")
    print(f"  stack / model time ratio: {bare / stack:.2f}x")


def bench_flash() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "V0050.bin"
        image.write_bytes(make_btc_image("0050"))
        spec = f"emu:btc-drw1004im,rev=0043,disc=none,state={tmp}/drive.state"
        argv = [
            "flash",
            spec,
            str(image),
            "--yes",
            "--no-backup",
            "--reports",
            f"{tmp}/reports",
            "--json",
        ]
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            code = rescue_main(argv)
        wall = time.perf_counter() - start
        journals = list(Path(tmp, "reports").rglob("*.jsonl"))
        commands = len(read_journal(journals[0])) if journals else 0
    data = make_btc_image("0050")
    device = create("btc-drw1004im,rev=0043")
    start = time.perf_counter()
    for offset in range(0, len(data), 0x1000):
        o = offset + 0x20
        device.submit(
            bytes([0x3B, 6, 0, o >> 16, (o >> 8) & 255, o & 255, 0, 0x10, 0, 0]),
            data[offset : offset + 0x1000],
            0,
        )
    bare = time.perf_counter() - start
    print(
        f"1 MiB BTC flash via `rescue flash` (exit {code}): {wall:.3f} s wall, "
        f"{commands} commands, {commands / wall:,.0f} commands/s, {1 / wall:.1f} MB/s"
    )
    print(
        f"  the model alone taking the 256 chunks: {bare:.3f} s; "
        f"host overhead ratio {wall / bare:.1f}x"
    )


def main() -> None:
    bench_command()
    bench_flash()
