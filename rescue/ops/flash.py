"""`rescue flash DEV FILE`: write a firmware image with every safety check, then prove it.

This module is the command-line face only: it turns the parsed options into
``FlashOptions`` and a ``RunContext`` and calls the engine,
``rescue.engine.flash`` (where the safety policy, the write and the proof
live and are described). ``--json`` prints the report; every error keeps its
exit category.
"""

from __future__ import annotations

import argparse
import json

from rescue.diagnostics.report import reports_dir  # noqa: F401  (rescue.ops.menu uses it)
from rescue.engine.context import RunContext
from rescue.engine.flash import (  # noqa: F401  (the names this module always offered)
    FORCE_CHOICES,
    FlashFailed,
    FlashJob,
    FlashOptions,
    FlashReport,
    chosen_risk,
)
from rescue.families import FAMILY_CLASSES


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "flash",
        parents=[common],
        help="write a firmware image to a drive, with pre-flight checks and verification",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("device", metavar="DEV", help="the drive (see `rescue --help`)")
    parser.add_argument("firmware", metavar="FILE", help="firmware image (.bin, BTC .HEX)")
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    parser.add_argument(
        "--dry-run", action="store_true", help="print every command that would be sent; send none"
    )
    add_no_backup_option(parser)
    add_force_option(parser)
    add_family_option(parser, "flash")
    parser.add_argument(
        "--read-test",
        action="store_true",
        help="after a successful flash, read-test a disc (start, middle, end) for the report",
    )
    parser.add_argument("--reports", metavar="DIR", help="where the report and journal go")
    parser.set_defaults(func=run)


def add_no_backup_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-backup",
        action="store_true",
        help="accept flashing without a backup when the drive's family cannot make one",
    )


def add_force_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force",
        action="append",
        default=[],
        choices=FORCE_CHOICES,
        metavar="WHAT",
        help="override one named check: identity (cross-flash), plan (unsafe jump), "
        "family (a --family other than the drive table's) or downgrade (an older or the "
        "same revision)",
    )


def add_family_option(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.add_argument(
        "--family",
        metavar="NAME",
        choices=[cls.name for cls in FAMILY_CLASSES],
        help=f"{verb} with this protocol ({', '.join(cls.name for cls in FAMILY_CLASSES)}) "
        "when the drive is not in the drive table; a wrong one can leave the drive unusable",
    )


def options_from(args: argparse.Namespace, device: str | None = None) -> FlashOptions:
    """The engine's options from parsed ones (``device``: another DEV, for the bench)."""
    return FlashOptions(
        device=device or args.device,
        firmware=str(args.firmware),
        dry_run=getattr(args, "dry_run", False),
        no_backup=args.no_backup,
        force=frozenset(args.force),
        family=args.family,
        read_test=getattr(args, "read_test", False),
    )


def run(args: argparse.Namespace) -> int:
    FlashJob(options_from(args), RunContext.for_cli(args)).run(_print_json if args.json else None)
    return 0


def _print_json(report: FlashReport) -> None:
    print(json.dumps(report.to_dict(), indent=2))
