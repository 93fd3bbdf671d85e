"""`rescue backup DEV -o FILE`: read a drive's firmware out, where its family allows it.

The image is written atomically (a temporary file in the same directory,
fsync, rename), so a crash never leaves a half backup under the real name;
``FILE.sha256`` (sha256sum format) and ``FILE.json`` (drive identity, family,
method, date) sit next to it so a backup found on a stick months later still
says what it is. Families with no read command (BTC, TSST, Plextor, ...)
are refused with the reason, never faked. This module is the command-line
face; the engine is ``rescue.engine.backup``.
"""

from __future__ import annotations

import argparse
import json

from rescue.engine.backup import BackupOptions, backup, take_backup  # noqa: F401
from rescue.engine.context import RunContext


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "backup",
        parents=[common],
        help="save the drive's firmware to a file (families that can read their flash)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("device", metavar="DEV", help="the drive (see `rescue --help`)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing regular file at FILE (never a device, link or folder)",
    )
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
    options = BackupOptions(
        args.device, args.output, args.family, "family" in args.force, args.overwrite
    )
    sidecar = backup(options, RunContext(quiet=args.json, journal=args.journal))
    if args.json:
        print(json.dumps(sidecar, indent=2))
    else:
        print(f"backup: {args.output} ({sidecar['size']} bytes, sha256 {sidecar['sha256']})")
    return 0
