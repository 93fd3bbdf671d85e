"""`rescue scan DEV`: a surface read scan with exact bad ranges and a ddrescue mapfile.

The command is a thin shell around ``rescue.diagnostics.scan``: it checks the
disc is there, loads a mapfile to resume from, shows a progress bar, and
saves the mapfile and a JSON report even when the user presses Ctrl-C or the
disc goes away, since a half scan of a dying disc is still worth keeping.
``--read`` picks the command (``rescue.diagnostics.readmethod``): on a CD
in a drive with C2 pointers, ``auto`` reads with READ CD and lists weak
sectors (read, but with C2 errors) apart from unreadable ones.
Exit code 0: every sector read (weak ones included); 8 (medium error): bad
sectors were found; 7 (not ready): the disc went away mid-scan; 3 (no
device): the drive itself went away (unplugged, its node deleted); 11 or 12:
the drive stopped answering otherwise (a timeout, a transport error); 130:
interrupted by Ctrl-C. However it stops, the output says at which LBA and how
far in percent, and the mapfile keeps what was read.
Output paths are checked before the drive is opened (``rescue.outputs``); a
mapfile of another disc is refused and left as it is (``# rescue-disc``). If
the mapfile or the report still cannot be written at the end, the results
are printed anyway, kept in the temporary folder, and the exit code is that
of the write error (4 or 5).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from rescue import outputs
from rescue.devices import EMULATED_PREFIX, REPLAY_PREFIX, open_device
from rescue.diagnostics import mapfile as mf
from rescue.diagnostics.readmethod import ReadMethod, choose, sector_bytes
from rescue.diagnostics.report import reports_folder, save_report
from rescue.diagnostics.scan import (
    AUTO_MOST,
    CTRL_C,
    DEFAULT_BLOCK,
    DEFAULT_RETRIES,
    SECTOR,
    Scanner,
    ScanResult,
)
from rescue.drive import Drive
from rescue.errors import (
    BadInput,
    DeviceNotFound,
    ExitCode,
    ParseError,
    RescueError,
    TransportError,
    UsageError,
)
from rescue.inputs import read_user_text
from rescue.ops.pathcheck import fit_sectors, transfer_limit
from rescue.scsi.sense import SenseError
from rescue.terminal import draws
from rescue.transport.base import Transport

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rich.progress import Progress

INTERRUPTED = int(ExitCode.INTERRUPTED)
CHECKPOINT_SECONDS = 30.0  # wall time between mapfile saves during a scan
MAX_DISC_SECTORS = 1 << 27  # 256 GiB: more than a 128 GB BDXL, the largest optical disc
MAPFILE_LIMIT = 64 * 1024 * 1024  # a mapfile of a badly damaged BD is a few MiB


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "scan", parents=[common], help="read every sector of the disc; map the bad ones"
    )
    parser.add_argument("device", metavar="DEV", help="the drive (see `rescue --help`)")
    parser.add_argument(
        "--block",
        type=int,
        metavar="N",
        help=f"sectors per READ (default: what the path carries, at most {AUTO_MOST}; "
        f"{DEFAULT_BLOCK} where the path does not say)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=DEFAULT_RETRIES,
        metavar="N",
        help=f"extra tries per failing sector (default {DEFAULT_RETRIES})",
    )
    parser.add_argument(
        "--read",
        choices=[m.value for m in ReadMethod],
        default=ReadMethod.AUTO.value,
        help="read command: READ CD with C2 pointers on a CD when the drive has them (auto), "
        "or READ(10), READ(12), READ CD (cd)",
    )
    parser.add_argument(
        "--mapfile",
        metavar="FILE",
        help="GNU ddrescue mapfile: resumed from if it exists, always written",
    )
    parser.add_argument("--start", type=int, default=0, metavar="LBA", help="first LBA to read")
    parser.add_argument(
        "--end", type=int, metavar="LBA", help="stop before this LBA (default: the end of the disc)"
    )
    parser.add_argument(
        "--reports", metavar="DIR", help="report folder (default $RESCUE_REPORTS or ./reports)"
    )
    parser.set_defaults(func=run)


def _check_args(args: argparse.Namespace, sectors: int) -> tuple[int, int]:
    if sectors > MAX_DISC_SECTORS:  # one status byte per sector: refuse before allocating
        raise TransportError(
            f"the drive reports {sectors} sectors, more than any optical disc holds "
            f"(at most {MAX_DISC_SECTORS})",
            hint="eject and reinsert the disc; a drive that keeps saying so is faulty",
        )
    if args.block is not None and not 1 <= args.block <= 0xFFFF:
        raise UsageError(f"--block {args.block}: want 1..65535 sectors")
    if args.retries < 0:
        raise UsageError(f"--retries {args.retries}: want 0 or more")
    end = sectors if args.end is None else args.end
    if not 0 <= args.start < end <= sectors:
        raise UsageError(
            f"--start {args.start} --end {end}: the disc has LBAs 0..{sectors - 1}",
            hint="want 0 <= start < end <= the number of sectors",
        )
    return args.start, end


FINGERPRINT_SECTORS = 16  # the disc's first sectors, hashed to tell one disc from another


def _preflight(args: argparse.Namespace) -> None:
    """Before the drive is opened: the mapfile and the reports folder can be written."""
    if args.mapfile is not None:
        path = outputs.check_file(args.mapfile, "--mapfile", existing=outputs.Existing.UPDATE)
        if args.journal and os.path.abspath(args.journal) == os.path.abspath(path):
            raise UsageError(f"--mapfile and --journal both name {path}: give each its own file")
        if os.path.exists(path):
            mf.parse_mapfile(_read_mapfile(args.mapfile), args.mapfile)  # else never replaced
    reports_folder(args.reports)


def _read_mapfile(path: str) -> str:
    return read_user_text(path, "ddrescue mapfile", MAPFILE_LIMIT)


def disc_id(drive: Drive, sectors: int) -> mf.DiscId:
    """The disc's size and the sha256 of its first sectors (None when they do not read).

    Read in as many READs as the path needs (16 sectors are 32 KiB, more than
    a small USB bridge carries); the hash is of the same bytes either way.
    """
    from hashlib import sha256  # only with --mapfile: a plain scan does not load it

    count = min(FINGERPRINT_SECTORS, sectors)
    step = fit_sectors(drive.transport, count)
    digest = sha256()
    try:
        for lba in range(0, count, step):
            digest.update(drive.read10(lba, min(step, count - lba)))
    except SenseError as err:
        if err.sense is not None and err.sense.key == 0x2:  # not ready: no disc to name
            raise
        return mf.DiscId(sectors, None)
    return mf.DiscId(sectors, digest.hexdigest())


def _resumed(
    path: str | None, start: int, end: int, sectors: int, disc: mf.DiscId | None = None
) -> ScanResult:
    """A scan of [start, end) that knows what the mapfile at PATH (if any) already says.

    A mapfile of another disc (its ``# rescue-disc`` line, or blocks past this
    disc's end) is refused, and left as it is.
    """
    if path is None or not os.path.lexists(path):
        return ScanResult(start, end, bytearray(mf.NON_TRIED.encode() * sectors), disc=disc)
    text = _read_mapfile(path)
    parsed = mf.parse_mapfile(text, path)
    hint = "put the disc it maps back in, or give this disc its own --mapfile"
    mapped = mf.read_disc_comment(text, path)
    if disc is not None and mapped is not None and (why := mapped.differs(disc)):
        raise BadInput(f"{path}: maps another disc ({why}); left unchanged", hint=hint)
    extent = parsed.blocks[-1].end if parsed.blocks else 0
    if extent > sectors * SECTOR:
        raise BadInput(
            f"{path}: maps {extent // SECTOR} sectors, this disc has {sectors}; left unchanged",
            hint=hint,
        )
    status = mf.to_sectors(parsed, SECTOR, sectors)
    weak = {lba: n for lba, n in mf.read_c2_comments(text, path).items() if lba < sectors}
    return ScanResult(start, end, status, c2=weak, disc=disc)


def _mapfile_text(result: ScanResult, device: str) -> str:
    comments = [f"Mapfile written by rescue scan {device}"]
    if result.disc is not None:
        comments.append(result.disc.comment())
    return mf.write_mapfile(result.mapfile(), (*comments, *mf.c2_comments(result.c2)))


def _save_mapfile(path: str, result: ScanResult, device: str) -> None:
    """Write beside the target and rename, so a crash never leaves half a mapfile."""
    text = _mapfile_text(result, device)
    outputs.write_atomic(path, text, "--mapfile", existing=outputs.Existing.UPDATE)


def read_size_why(transport: Transport, asked: int | None, scanner: Scanner) -> str | None:
    """Why the Scanner reads the sectors per READ it does, when the path decided: ``--block``
    cut to the path's limit, or no ``--block`` and a limit the path states (None: neither).

    A READ larger than the queue allows fails in the kernel (EINVAL) before
    the drive sees it; behind usb-storage that is 120 KiB, and a bridge or a
    small max_sectors_kb can allow less (docs/protocols.md, "Transfer size").
    """
    if scanner.block == asked:
        return None
    limit, source = transfer_limit(transport)
    per = sector_bytes(scanner.method)
    if asked is None:
        if limit is None:
            return None
        most = "" if scanner.block < AUTO_MOST else f", up to {AUTO_MOST} a READ"
        return f"what the path carries, {limit} bytes ({source}), at {per} bytes a sector{most}"
    return (
        f"--block {asked} asked for more than the path carries, {limit} bytes ({source}), "
        f"at {per} bytes a sector"
    )


def _scan(args: argparse.Namespace, scanner: Scanner, result: ScanResult) -> None:
    """Run the scan; the mapfile is saved every CHECKPOINT_SECONDS and however it ends.

    The periodic save bounds what a power cut or a kill loses on a long scan;
    the final one (also when the drive drops off the bus) keeps the rest.
    """
    bar = None if args.json or not draws(sys.stderr) else _progress_bar()
    task = bar.add_task("scan", total=(result.end - result.start) * SECTOR) if bar else None
    last_save = time.monotonic()

    def on_block(sectors: int) -> None:
        nonlocal last_save
        if bar is not None and task is not None:
            bar.advance(task, sectors * SECTOR)
        if args.mapfile and time.monotonic() - last_save >= CHECKPOINT_SECONDS:
            try:
                _save_mapfile(args.mapfile, result, args.device)
            except RescueError:  # the scan goes on; the final save says what failed, and keeps it
                pass
            last_save = time.monotonic()

    try:
        with bar or nullcontext():
            scanner.run(result, on_block)
    finally:
        if args.mapfile:
            _final_save(args, result)


def _progress_bar() -> Progress:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
    return Progress(*columns, console=Console(stderr=True), transient=True)


_MARKUP = r"\[(?:/|red|yellow|green)\]"  # the only tags _show writes (compiled when printed)
Say = Callable[..., None]  # say(line with _show's tags, path="")


def _printer() -> Say:
    """``say(line, path="")``: the line with its colour tags, then ``path`` as it is.

    On a terminal rich wraps prose at the width, and would cut a long path
    mid-name with a real line break (a copied path then no longer works):
    a line that ends in a path is not wrapped (the terminal folds it, the
    text stays whole) and the path is never read as markup. Elsewhere print,
    with the tags taken out of the line (never out of the path).
    """
    if draws(sys.stdout):
        from rich.console import Console
        from rich.text import Text

        print_ = Console(highlight=False).print

        def say(line: str, path: str = "") -> None:
            text = Text.from_markup(line)
            text.append(path)
            print_(text, soft_wrap=bool(path))

        return say
    return lambda line, path="": print(re.sub(_MARKUP, "", line) + path)


def _final_save(args: argparse.Namespace, result: ScanResult) -> None:
    """The last mapfile save; when it fails, the map is kept in the temp folder and said so."""
    try:
        _save_mapfile(args.mapfile, result, args.device)
    except RescueError as err:
        kept = outputs.keep_fallback("scan", _mapfile_text(result, args.device), ".map")
        where = f"the map is kept in {kept}" if kept else "the map could not be kept anywhere"
        result.save_error = type(err)(f"{err.message}; {where}", hint=err.hint)
        result.mapfile_kept = str(kept) if kept else None


GONE = "the drive went away"


def went_away(transport: Transport, err: RescueError) -> bool:
    """Whether ``err``, which ended a scan, means the drive left the bus.

    SG_IO fails with ENODEV or ENXIO once the node's device is deleted
    (``DeviceNotFound``); in the moments of an unplug it can also answer EIO,
    a plain transport error, and then the node that is gone says it.
    """
    if isinstance(err, DeviceNotFound):
        return True
    node = getattr(transport, "path", None)
    return (
        isinstance(err, TransportError)
        and not isinstance(err, ParseError)
        and isinstance(node, str)
        and not os.path.exists(node)
    )


def run(args: argparse.Namespace) -> int:
    """The scan command; a real drive is discovered once for all of it (opening, the report)."""
    with _one_discovery(args.device):
        return _run(args)


def _one_discovery(device: str) -> AbstractContextManager[object]:
    if device.startswith((EMULATED_PREFIX, REPLAY_PREFIX)):
        return nullcontext()
    from rescue.discovery import discovered_once

    return discovered_once()


def _run(args: argparse.Namespace) -> int:
    _preflight(args)
    with open_device(args.device, args.journal) as transport:
        drive = Drive(transport)
        drive.settle()
        found = drive.identity  # asked before the scan: a drive may drop off the bus during it
        sectors = drive.read_capacity().blocks  # no disc: a SenseError saying so
        start, end = _check_args(args, sectors)
        disc = disc_id(drive, sectors) if args.mapfile else None
        result = _resumed(args.mapfile, start, end, sectors, disc)
        method, result.method_why = choose(drive, ReadMethod(args.read))
        scanner = Scanner(drive, block=args.block, retries=args.retries, method=method)
        block, cut = scanner.block, read_size_why(transport, args.block, scanner)
        _scan(args, scanner, result)
    gone = result.failure is not None and went_away(transport, result.failure)
    if gone:
        result.stopped_by = f"{GONE} ({result.stopped_by})"
    identity = {"vendor": found.vendor, "product": found.product, "revision": found.revision}
    body = result.to_dict() | {"mapfile": args.mapfile, "sectors": sectors, "identity": identity}
    body["drive_gone"] = gone
    body |= {"sectors_per_read": block, "sectors_per_read_why": cut}
    if result.mapfile_kept:
        body["mapfile_kept"] = result.mapfile_kept
    report, errors = save_report("scan", args.device, {"scan": body}, args.reports)
    if result.save_error is not None:
        errors.insert(0, result.save_error)
    if args.json:
        import json  # at the end, with the results: not before the first READ (issue 15)

        extra = {"errors": [e.to_dict() for e in errors]} if errors else {}
        print(json.dumps(body | {"report": str(report)} | extra, indent=2, sort_keys=True))
    else:
        _show(body, str(report))
    if errors:
        return outputs.tell(errors)
    if gone:
        return int(ExitCode.NO_DEVICE)
    if result.failure is not None:
        return int(result.failure.exit_code)
    if result.interrupted:
        return INTERRUPTED if result.stopped_by == CTRL_C else int(ExitCode.NOT_READY)
    return int(ExitCode.MEDIUM_ERROR) if body["bad"] else 0


def _show(body: dict, report: str) -> None:
    say = _printer()
    state = "complete" if body["complete"] else f"stopped at LBA {body['stopped_at']}"
    say(
        f"Scan of LBAs {body['start']}..{body['end']} {state}; "
        f"{body['sectors_read_now']} sectors read this run."
    )
    say(f"  read command: {body['read_method']} ({body['read_method_why']})")
    if body["sectors_per_read_why"]:
        say(
            f"  read size: {body['sectors_per_read']} sectors per READ: "
            f"{body['sectors_per_read_why']}"
        )
    if body["fallback"]:
        say(f"  [yellow]note:[/] {body['fallback']}")
    for r in body["bad"]:
        say(
            f"  [red]unreadable[/] LBA {r['first']}..{r['last']} "
            f"({r['count']} sectors) {r['detail'] or 'from an earlier run'}"
        )
    for r in body["weak"]:
        say(
            f"  [yellow]weak[/] LBA {r['first']}..{r['last']} ({r['count']} sectors) read with "
            f"C2 errors: {r['c2_bytes']} bytes flagged, at most {r['worst_sector_c2_bytes']} "
            "in one sector"
        )
    for r in body["slow"]:
        say(f"  [yellow]slow[/] LBA {r['first']}..{r['last']} took {r['seconds']:.1f} s")
    speeds = [z["kib_per_second"] for z in body["zones"]]
    if any(speeds):
        shown = " ".join("-" if v is None else f"{v:.0f}" for v in speeds)
        say(f"  read speed per zone, start to end (KiB/s): {shown}")
    if body["complete"] and not body["bad"]:
        say("  [green]every sector read[/]")
    elif not body["complete"]:
        say(
            f"  [yellow]not finished:[/] stopped at LBA {body['stopped_at']} of "
            f"{body['start']}..{body['end']} ({body['percent']:.1f}% of the range scanned); "
            "sectors past it were not read"
        )
    if body["weak"]:
        say("  weak sectors still read, but the disc is degrading: copy it soon")
    if body.get("mapfile_kept"):
        say("mapfile: kept in ", body["mapfile_kept"])
        say("  instead of: ", body["mapfile"])
    elif body["mapfile"]:
        say("mapfile: ", body["mapfile"])
    if body["stopped_by"]:
        resume = "run the same command to resume" if body["mapfile"] else "use --mapfile to resume"
        if body["drive_gone"]:
            resume = f"reconnect the drive, then {resume}"
        say(f"[yellow]stopped:[/] {body['stopped_by']}; {resume}")
    say("report: ", report)
