"""``rescue fw inspect FILE``: what a firmware file is, and whether it is fit to flash.

Runs the same checks the flasher runs before any write (``load_firmware``), plus
what the catalog knows about the image, so a user can vet a file on any machine,
drive or no drive. Exit 0: usable; exit 5
(bad input): unreadable, or parsed but with problems that forbid flashing.
"""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.markup import escape

from rescue.errors import ExitCode
from rescue.firmware import FirmwareImage, load_firmware
from rescue.firmware.catalog import CatalogError, load_catalog, match_image
from rescue.firmware.layouts import BY_FAMILY
from rescue.inputs import file_name
from rescue.record import replace


def _hex16(value: int | None) -> str:
    return "-" if value is None else f"0x{value:04X}"


def _checksum_line(image: FirmwareImage) -> str:
    ck = image.checksum
    if ck.algorithm is None:
        return "unknown (no public checksum rule for this family)"
    verdict = {True: "valid", False: "INVALID", None: "nothing stored to compare"}[ck.valid]
    stored = "" if ck.expected is None else f", stored {_hex16(ck.expected)}"
    return f"{_hex16(ck.value)}{stored}: {verdict}  [{ck.algorithm}]"


def _family_title(family: str) -> str:
    """The layout's title; SPC has no layout (any bytes the drive takes), its protocol's then."""
    if family in BY_FAMILY:
        return str(BY_FAMILY[family].TITLE)
    from rescue.families import family_named

    return family_named(family).title


def _print_text(image: FirmwareImage) -> None:
    out = Console(highlight=False, soft_wrap=True)
    ident = image.identity
    rows = [
        ("file", str(image.path)),
        ("format", image.format),
        ("family", f"{image.family} ({_family_title(image.family)})"),
        ("size", f"{image.size} bytes (0x{image.size:X})"),
        ("vendor", ident.vendor or "unknown"),
        ("product", ident.product or "unknown"),
        ("revision", ident.revision or "unknown"),
        ("date", ident.date or "unknown"),
        *sorted(ident.extra.items()),
        ("checksum", _checksum_line(image)),
        ("sha256", image.sha256),
    ]
    for label, value in rows:
        out.print(f"{label:>9}: {escape(value)}")
    for note in image.notes:
        out.print(f"     note: {escape(note)}")
    for problem in image.problems:
        out.print(f"[red]  problem:[/] {escape(problem)}")
    if image.usable:
        out.print("[green]usable for flashing[/] (the drive's identity is checked at flash time)")
    else:
        out.print(
            f"[bold red]NOT usable for flashing:[/] {len(image.problems)} problem(s); "
            f"exit {int(ExitCode.BAD_INPUT)}"
        )


def _with_catalog(image: FirmwareImage) -> FirmwareImage:
    """Add what the catalog says about the image; a broken catalog is reported, not fatal,
    so a file can still be inspected (the flasher refuses to run on such a catalog)."""
    try:
        notes, problems = match_image(image, load_catalog())
    except CatalogError as err:
        notes, problems = [f"catalog unavailable: {err.message}"], []
    return replace(image, notes=image.notes + notes, problems=image.problems + problems)


def _with_family_rules(image: FirmwareImage) -> FirmwareImage:
    """Add the family's own refusals (a size its protocol cannot send, say), so that
    `fw inspect` and `flash` never disagree on whether a file is usable."""
    from rescue.families import family_named

    extra = [p for p in family_named(image.family).validate(image) if p not in image.problems]
    return replace(image, problems=image.problems + extra) if extra else image


def _load(path: str, family: str | None) -> FirmwareImage:
    """Read the file as flash reads it: through the named family (SPC has no layout)."""
    if family is None:
        return load_firmware(path)
    from rescue.families import family_named

    return family_named(family).load_image(path)


def run(args: argparse.Namespace) -> int:
    image = _with_family_rules(_with_catalog(_load(args.file, args.family)))
    if args.json:
        print(json.dumps(image.to_dict(), indent=2))
    else:
        _print_text(image)
    return int(ExitCode.OK if image.usable else ExitCode.BAD_INPUT)


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    fw = subparsers.add_parser("fw", help="firmware files: inspect")
    fw_sub = fw.add_subparsers(dest="fw_command", metavar="ACTION", required=True)
    inspect = fw_sub.add_parser(
        "inspect",
        parents=[common],
        help="identify a firmware file and check it against its family's rules",
        description="Identify a firmware file (.bin or BTC .HEX), show its identity, "
        "checksum and sha256, and list every problem that forbids flashing it. "
        "Exit 0 when usable, 5 when not.",
    )
    inspect.add_argument(
        "file", metavar="FILE", type=file_name, help="firmware image (.bin) or BTC .HEX file"
    )
    inspect.add_argument(
        "--family",
        choices=sorted([*BY_FAMILY, "spc"]),
        help="check against this family instead of detecting it (needed for mt1959)",
    )
    inspect.set_defaults(func=run)
