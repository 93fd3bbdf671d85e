"""`rescue emulate SPEC [SPEC ...]`: emulated drives the whole system sees as real.

Each SPEC (the grammar of rescue.emulator.registry, e.g. ``generic-dvd`` or
``btc-drw1004im,rev=0043``) becomes a /dev/srN + /dev/sgN through the TCMU
bridge, so peer tools (sg3_utils, btcflash), udev and rescue's own SG_IO
path can be tried against a model without hardware. Runs until SIGINT or
SIGTERM, then removes every drive it created. Needs root and a kernel with
target_core_user and tcm_loop (the test guest and the rescue image have them).

``--rev``, ``--image`` and ``--fault`` are the spec keys ``rev=``, ``image=``
and ``fault=`` spelled as options (``rescue emulate btc-drw1004im --rev 0043``
reads like the other commands); each applies to every SPEC given, and a SPEC
that already sets the same key is a usage error rather than a silent pick.

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
    parser.add_argument("--rev", help="firmware revision the drive starts with (spec key rev=)")
    parser.add_argument(
        "--image", metavar="FILE", help="flash image the drive starts with (spec key image=)"
    )
    parser.add_argument(
        "--fault",
        metavar="RULES",
        help="fault rules, e.g. hang@3b.5 (spec key fault=; grammar in rescue.emulator.faults)",
    )
    parser.set_defaults(func=run)


def with_options(
    specs: list[str], rev: str | None, image: str | None, fault: str | None
) -> list[str]:
    """SPECs with the option keys appended; the label of each drive is the result."""
    options = {"rev": rev, "image": image, "fault": fault}
    added = {key: value for key, value in options.items() if value is not None}
    for key, value in added.items():
        if "," in value:
            raise UsageError(f"--{key} {value!r}: the value cannot contain ','")
    out = []
    for spec in specs:
        keys = {pair.partition("=")[0] for pair in spec.split(",")[1:]}
        clash = sorted(keys & added.keys())
        if clash:
            raise UsageError(
                f"{spec}: sets {clash[0]}= and --{clash[0]} is given too; give it once"
            )
        out.append(",".join([spec, *(f"{key}={value}" for key, value in added.items())]))
    return out


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


def _journal_observer(journal: Journal) -> Observer:
    """Records each served command; one lock, since every drive has its own thread."""
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
    specs = with_options(args.specs, args.rev, args.image, args.fault)
    models = _models(specs)
    path = getattr(args, "journal", None)
    journal = Journal(path) if path else None
    bridge = TcmuBridge(models, observer=_journal_observer(journal) if journal else None)
    try:
        stats = bridge.run_until_signal(lambda drives: _announce(drives, args.json))
    finally:
        if journal is not None:
            journal.close()  # on the medium (file and folder) before the drives are reported gone
    if not args.json:
        for spec, drive_stats in zip(specs, stats, strict=True):
            print(f"{spec}: removed after {drive_stats.commands} commands", flush=True)
    return 0
