"""`rescue emulate SPEC [SPEC ...]`: emulated drives the whole system sees as real.

Each SPEC (the grammar of rescue.emulator.registry, e.g. ``generic-dvd`` or
``btc-drw1004im,rev=0043``) becomes a /dev/srN + /dev/sgN through the TCMU
bridge, so peer tools (sg3_utils, btcflash), udev and rescue's own SG_IO
path can be tried against a model without hardware. Runs until SIGINT or
SIGTERM, then removes every drive it created. Needs root and a kernel with
target_core_user and tcm_loop (the test guest and the rescue image have them).

With ``--journal FILE`` every command the kernel passed to a model is
recorded in the journal format of rescue.transport.journal: what btcflash or
sg3_utils really sent becomes a replayable trace.
"""

from __future__ import annotations

import argparse
import json
import threading

from rescue.emulator.base import Device, Reply, WallClock
from rescue.emulator.tcmu import ExposedDrive, Observer, TcmuBridge
from rescue.errors import UsageError
from rescue.transport.base import Result
from rescue.transport.journal import Journal


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "emulate",
        parents=[common],
        help="show emulated drives to the kernel as /dev/srN (root; runs until Ctrl-C)",
        description="Expose emulated drive models to the Linux kernel through "
        "target_core_user + tcm_loop, as real /dev/srN and /dev/sgN nodes. "
        "Runs until interrupted; `rescue list --emulated` names the models.",
    )
    parser.add_argument("specs", nargs="+", metavar="SPEC", help="model[,key=value...]")
    parser.set_defaults(func=run)


def _models(specs: list[str]) -> list[tuple[str, Device]]:
    from rescue.emulator.registry import create

    models = []
    for spec in specs:
        try:
            models.append((spec, create(spec, clock=WallClock())))
        except ValueError as err:
            raise UsageError(
                f"{spec}: {err}", hint="`rescue list --emulated` names the models"
            ) from None
    return models


def _announce(drives: list[ExposedDrive], as_json: bool) -> None:
    if as_json:
        rows = [{"spec": d.label, "sr": d.sr, "sg": d.sg} for d in drives]
        print(json.dumps(rows, indent=2), flush=True)
        return
    for drive in drives:
        print(f"{drive.label}: {drive.sr} {drive.sg}", flush=True)
    print("ready; Ctrl-C or SIGTERM removes the drives", flush=True)


def _journal_observer(path: str) -> Observer:
    """Records each served command; one lock, since every drive has its own thread."""
    journal = Journal(path)
    lock = threading.Lock()

    def observe(
        label: str, cdb: bytes, data_out: bytes | None, data_in: int, reply: Reply, seconds: float
    ) -> None:
        data = reply.data[:data_in]
        result = Result(reply.status, reply.sense, data, data_in - len(data), seconds)
        with lock:
            journal.record(f"tcmu:{label}", cdb, data_out, data_in, result)

    return observe


def run(args: argparse.Namespace) -> int:
    models = _models(args.specs)
    journal = getattr(args, "journal", None)
    bridge = TcmuBridge(models, observer=_journal_observer(journal) if journal else None)
    stats = bridge.run_until_signal(lambda drives: _announce(drives, args.json))
    if not args.json:
        for spec, drive_stats in zip(args.specs, stats, strict=True):
            print(f"{spec}: removed after {drive_stats.commands} commands", flush=True)
    return 0
