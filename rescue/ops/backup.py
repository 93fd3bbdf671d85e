"""`rescue backup DEV -o FILE`: read a drive's firmware out, where its family allows it.

The image is written atomically (a temporary file in the same directory,
fsync, rename), so a crash never leaves a half backup under the real name;
``FILE.sha256`` (sha256sum format) and ``FILE.json`` (drive identity, family,
method, date) sit next to it so a backup found on a stick months later still
says what it is. Families with no read command (BTC, TSST, Plextor, ...)
are refused with the reason, never faked.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

from rescue.devices import open_device
from rescue.errors import BadInput
from rescue.families import Family, resolve_family
from rescue.ops.safety import drive_key, exclusive_lock

if TYPE_CHECKING:
    from rescue.drive import Drive


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "backup",
        parents=[common],
        help="save the drive's firmware to a file (families that can read their flash)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("device", metavar="DEV", help="the drive (see `rescue --help`)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE")
    from rescue.ops.flash import add_family_option

    add_family_option(parser, "back up")
    parser.add_argument(
        "--force",
        action="append",
        default=[],
        choices=("family",),
        metavar="WHAT",
        help="family: use --family even where the drive table names another protocol",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rescue.drive import Drive

    with open_device(args.device, args.journal, exclusive=True) as transport:
        drive = Drive(transport)
        drive.settle()  # a reset drive reports unit attentions before anything else
        match = resolve_family(drive, args.family, force="family" in args.force)
        family = match.family
        if match.chosen:
            from rescue.ops.flash import chosen_risk

            print(f"warning: {chosen_risk(match)}", file=sys.stderr)
        with exclusive_lock(drive_key(transport)):
            sidecar = take_backup(drive, family, Path(args.output), quiet=args.json)
    if args.json:
        print(json.dumps(sidecar, indent=2))
    else:
        print(f"backup: {args.output} ({sidecar['size']} bytes, sha256 {sidecar['sha256']})")
    return 0


def take_backup(drive: Drive, family: Family, path: Path, *, quiet: bool) -> dict[str, object]:
    """Read the flash with the family's method and store it with its checksum and sidecar."""
    console = Console(stderr=True)
    with Progress(
        TextColumn("backup"), BarColumn(), DownloadColumn(), console=console, disable=quiet
    ) as progress:
        task = progress.add_task("backup", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        data = family.backup(drive, advance)
    identity = drive.identity
    sidecar: dict[str, object] = {
        "file": path.name,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "drive": {
            "vendor": identity.vendor.strip(),
            "product": identity.product.strip(),
            "revision": identity.revision.strip(),
            "device": drive.transport.name,
        },
        "family": family.name,
        "method": family.backup_method,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_atomic(path, data)
    write_atomic(
        path.with_name(path.name + ".sha256"), f"{sidecar['sha256']}  {path.name}\n".encode()
    )
    sidecar_text = json.dumps(sidecar, indent=2) + "\n"
    write_atomic(path.with_name(path.name + ".json"), sidecar_text.encode())
    return sidecar


def write_atomic(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same directory and rename over ``path``."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as err:
        raise BadInput(f"cannot write in {directory}: {err.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise BadInput(f"cannot write {path}: {err.strerror}") from None
