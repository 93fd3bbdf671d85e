"""`rescue bench --flash FILE|--backup|--doctor|--scan DEV...`: one job on many drives at once.

Every DEV gets a worker process of its own (``rescue.bench.runner``), so a
hung, failing or unplugged drive never stalls or changes another's job. One
line per drive is printed as each ends (``--json``: one JSON object per line);
the exit code is 0 only when every drive succeeded, else the worst drive's by
the ranking in ``rescue.bench.runner``. A batch flash asks ONE question
listing every drive (as a dry run of every check found it) and the image;
``--yes`` skips it. Every safety check still runs per drive: a drive that
fails one is skipped with its reason while the others go on. Each drive's
report, journal and log go to ``bench-<time>-<pid>/`` in the reports folder,
and the session summary beside it (JSON + an HTML page, one row per drive).
Without a job, `rescue bench [DEV...]` is the live screen (``rescue.bench.screen``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

from rescue.bench.jobs import JOBS, PLAIN_WORK, flash_work, prepared
from rescue.bench.runner import DEFAULT_TIMEOUT, DriveResult, Task, log_path, run_batch, worst
from rescue.bench.summary import document, save
from rescue.devices import EMULATED_PREFIX
from rescue.diagnostics.report import reports_dir
from rescue.engine.flash import FlashOptions
from rescue.errors import EXIT_CODE_MEANINGS, UsageError
from rescue.ops.flash import add_family_option, add_force_option, add_no_backup_option
from rescue.ops.safety import confirm


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "bench",
        parents=[common],
        help="flash, check or scan many drives at once, one process per drive",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="Exit: 0 when every drive succeeded; otherwise the worst drive's code, worst "
        "first: 130, 1, 12, 11, 8, 7, 10, 9, 3, 4, 5, 6, 2.",
    )
    parser.add_argument("devices", metavar="DEV", nargs="*", help="the drives")
    jobs = parser.add_mutually_exclusive_group()
    jobs.add_argument("--flash", metavar="FILE", help="flash FILE onto every DEV")
    jobs.add_argument(
        "--backup", action="store_true", help="back up the firmware of every DEV (where it can)"
    )
    jobs.add_argument("--doctor", action="store_true", help="run doctor on every DEV")
    jobs.add_argument("--scan", action="store_true", help="scan the disc in every DEV")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    add_no_backup_option(parser)
    add_force_option(parser)
    add_family_option(parser, "flash")
    parser.add_argument("--reports", metavar="DIR", help="where reports and the summary go")
    parser.add_argument(
        "--firmware",
        metavar="DIR",
        help="the screen's firmware folder (default: /data/firmware on the stick)",
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"stop a drive's job after this long (default {DEFAULT_TIMEOUT:g})",
    )
    parser.set_defaults(func=run)


def seconds(text: str) -> float:
    """--timeout: a finite number of seconds above 0 (nan, inf, 0 or -1 would stop nothing or
    everything at once)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (0 < value < math.inf):
        raise argparse.ArgumentTypeError(f"{text!r}: want a number of seconds above 0")
    return value


def _drive_key(device: str) -> str:
    """What makes two spellings one drive: a node's real path, an emulated drive's state file."""
    if device.startswith(EMULATED_PREFIX):
        from rescue.emulator.registry import state_file

        state = state_file(device[len(EMULATED_PREFIX) :])
        return device if state is None else f"emu-state:{os.path.realpath(state)}"
    return os.path.realpath(device) if device.startswith("/") else device


def _check_each_drive_once(devices: list[str]) -> None:
    seen: dict[str, str] = {}
    for device in devices:
        key = _drive_key(device)
        if key in seen:
            first = seen[key]
            same = "" if first == device else f" ({first} and {device} are one drive)"
            raise UsageError(f"a DEV is named twice{same}: each drive takes one job at a time")
        seen[key] = device


def run(args: argparse.Namespace) -> int:
    job = next((name for name in JOBS if getattr(args, name)), None)
    if job is None:
        return _screen(args)
    if not args.devices:
        raise UsageError(f"bench --{job}: name at least one DEV")
    _check_each_drive_once(args.devices)
    if args.journal:
        raise UsageError("bench keeps one journal per drive beside its report; drop --journal")
    folder = reports_dir(args.reports)
    stamp = _fresh_stamp(folder)
    session = folder / stamp
    devices = list(args.devices)
    skipped: list[DriveResult] = []
    firmware = args.flash if job == "flash" else None
    with prepared(devices, firmware, args.family) as pin:
        if pin is not None:
            image = _image_line(args.flash, pin.raw)
            if not args.yes:
                devices, skipped = _ask_once(args, devices, image)
        session.mkdir()
        tasks = [_task(args, job, device, n, session) for n, device in enumerate(devices)]
        say = _printer(args.json, len(args.devices))
        for result in skipped:
            say(result)
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        clock = time.monotonic()
        results = run_batch(tasks, reports=str(session), timeout=args.timeout, on_result=say)
    seconds = time.monotonic() - clock
    everything = _in_order(args.devices, results + skipped)
    code = worst([r.exit_code for r in everything])
    doc = document(job, args.flash, everything, started, seconds, code)
    summary, page = save(folder / stamp, doc)
    where = f"summary: {summary} (page: {page.name}); reports in {session}"
    if args.json:
        print(where, file=sys.stderr)
    else:
        meaning = EXIT_CODE_MEANINGS.get(code, "failed") if code else "every drive succeeded"
        print(
            f"bench: {doc['succeeded']} of {len(everything)} drives succeeded in "
            f"{seconds:.1f} s (exit {code}: {meaning})"
        )
        print(where)
    return code


def _screen(args: argparse.Namespace) -> int:
    """No job named: the live screen over DEVs (or every drive discovery finds)."""
    from rescue.bench.screen import Screen
    from rescue.inputs import check_folder
    from rescue.menu.session import default_firmware_folder

    if args.journal:
        raise UsageError("bench keeps one journal per drive beside its report; drop --journal")
    if args.firmware is not None:  # one line before the screen and the session folder
        firmware = check_folder(args.firmware, "--firmware")
    else:
        firmware = default_firmware_folder()
    folder = reports_dir(args.reports)
    session = folder / _fresh_stamp(folder)
    session.mkdir()
    return Screen(list(args.devices), firmware, session).run(sys.stdin)


def _fresh_stamp(folder: Path) -> str:
    """``bench-<UTC time>-<pid>[-n]``: a session never shares a name with another."""
    stem = f"bench-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{os.getpid()}"
    number = 0
    while list(folder.glob(f"{stem}{f'-{number}' if number else ''}*")):
        number += 1
    return f"{stem}-{number}" if number else stem


def _in_order(devices: list[str], results: list[DriveResult]) -> list[DriveResult]:
    by_device = {r.device: r for r in results}
    ordered = [by_device[d] for d in devices]
    for index, result in enumerate(ordered):
        result.index = index
    return ordered


def _task(args: argparse.Namespace, job: str, device: str, index: int, session: Path) -> Task:
    log = log_path(session, index)
    if job == "flash":
        options = FlashOptions(
            device, str(args.flash), no_backup=args.no_backup, force=frozenset(args.force),
            family=args.family,
        )  # fmt: skip
        return Task(device, job, flash_work(options), log=log)
    journal = str(Path(log).with_suffix(".journal.jsonl"))
    work = PLAIN_WORK[job]
    return Task(device, job, work, journal, log)


def _image_line(path: str, data: bytes) -> str:
    """The image as the batch question names it: the bytes every worker flashes, read once
    as flash reads a file (never a FIFO, a device or a /proc file: those would hang the
    bench or fill memory)."""
    return f"{path} ({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]})"


def _ask_once(
    args: argparse.Namespace, devices: list[str], image: str
) -> tuple[list[str], list[DriveResult]]:
    """Dry-run every check on every drive (in parallel), list them, ask one YES.

    A drive whose checks refuse is not flashed; its result says why.
    """
    with tempfile.TemporaryDirectory(prefix="rescue-bench-check-") as scratch:
        checks = [
            Task(
                d,
                "flash",
                flash_work(
                    FlashOptions(
                        d,
                        str(args.flash),
                        dry_run=True,
                        no_backup=args.no_backup,
                        force=frozenset(args.force),
                        family=args.family,
                    )
                ),
            )  # fmt: skip
            for d in devices
        ]
        found = run_batch(checks, reports=scratch, timeout=args.timeout)
    go = [r for r in found if r.ok]
    skipped = []
    out = sys.stderr if args.json else sys.stdout  # --json keeps stdout for the results
    print(f"Image: {image}", file=out)
    for r in found:
        ident = " ".join((r.drive_before or {}).values()) or "?"
        if r.ok:
            print(f"  flash  {r.device}: {ident}", file=out)
        else:
            print(f"  SKIP   {r.device}: {ident}: {r.message}", file=out)
            r.result = "skipped: " + r.result
            r.report = None  # the dry run's report went with its scratch folder
            skipped.append(r)
    if go:
        confirm(f"Flash this image onto {len(go)} drive(s) at once?", False)
    return [r.device for r in go], skipped


def _printer(as_json: bool, total: int):  # noqa: ANN202 - a closure over the output mode
    done = 0

    def say(result: DriveResult) -> None:
        nonlocal done
        done += 1
        if as_json:
            print(json.dumps(result.to_dict()), flush=True)
            return
        before = result.drive_before or {}
        ident = " ".join(x for x in (before.get("product"), before.get("revision")) if x)
        after = (result.drive_after or {}).get("revision")
        if after and after != before.get("revision"):
            ident += f" -> {after}"
        state = result.result if result.ok else f"{result.result} (exit {result.exit_code})"
        line = f"[{done}/{total}] {result.device}: {state}"
        if ident:
            line += f"; {ident}"
        if result.message and not result.ok or result.job != "flash" and result.message:
            line += f"; {result.message}"
        line += f" ({result.seconds:.1f} s)"
        if result.report:
            line += f"; report: {result.report}"
        print(line, flush=True)

    return say
