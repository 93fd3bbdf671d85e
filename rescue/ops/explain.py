"""`rescue explain`: say what a sense triple or a sense buffer means, offline.

A person often has only a line from a log, a forum post or another tool
("5/24/00", or the 18 raw bytes a kernel message printed). This command needs
no drive: it decodes the text with ``rescue.scsi.sense.parse_triple``, names
it from the T10 table, and adds the plain-language advice the flasher gives.
"""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table
from rich.text import Text

from rescue.errors import ParseError, UsageError
from rescue.scsi.advice import Advice, advise
from rescue.scsi.sense import Sense, parse_triple


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "explain",
        parents=[common],
        help="explain a sense triple or raw sense bytes",
        description="Explain SCSI sense data: a triple such as 5/20/00 or '0x05 0x20 0x00', "
        "or the raw bytes, e.g. 70 00 05 00 00 00 00 0a 00 00 00 00 20 00 00 00 00 00.",
    )
    parser.add_argument("sense", nargs="+", metavar="SENSE", help="triple or hex bytes")
    parser.set_defaults(func=run)


# Colour of the sense key at a glance: fine, transient, the drive or disc is at fault.
_KEY_STYLE = {0x0: "green", 0x1: "green", 0xF: "green", 0x2: "yellow", 0x6: "yellow",
              0x3: "bold red", 0x4: "bold red"}


def _decode(text: str) -> Sense:
    try:
        return parse_triple(text)
    except ParseError as err:
        raise UsageError(
            f"cannot explain {text!r}: {err.message}",
            "give KEY/ASC/ASCQ in hex (5/20/00) or the sense bytes (70 00 05 ...)",
        ) from None


def explain(text: str) -> dict[str, object]:
    """The decoded sense plus advice, as one JSON-ready dict; ``UsageError`` if unreadable."""
    sense = _decode(text)
    advice = advise(sense.key, sense.asc, sense.ascq)
    return sense.to_dict() | {"meaning": advice.meaning, "next_step": advice.next_step}


def _rows(sense: Sense, advice: Advice) -> list[tuple[str, Text]]:
    kind = sense.format + (", deferred" if sense.deferred else "")
    rows = [
        ("sense", Text(f"{sense.triple}  ({kind})", style="bold")),
        ("key", Text(f"{sense.key:X}h {sense.key_name}", style=_KEY_STYLE.get(sense.key, "bold"))),
        ("ASC/ASCQ", Text(f"{sense.asc:02X}h/{sense.ascq:02X}h {sense.asc_name}")),
    ]
    if sense.information is not None:
        rows.append(("information", Text(f"{sense.information} (0x{sense.information:X})")))
    if sense.sense_key_specific is not None:
        rows.append(("key specific", Text(sense.sense_key_specific.describe())))
    flags = [name.upper() for name in ("filemark", "eom", "ili") if getattr(sense, name)]
    if flags:
        rows.append(("flags", Text(" ".join(flags))))
    rows.append(("meaning", Text(advice.meaning)))
    rows.append(("next step", Text(advice.next_step, style="yellow")))
    return rows


def run(args: argparse.Namespace) -> int:
    text = " ".join(args.sense)
    if args.json:
        print(json.dumps(explain(text), indent=2))
        return 0
    sense = _decode(text)
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in _rows(sense, advise(sense.key, sense.asc, sense.ascq)):
        table.add_row(label, value)
    Console(highlight=False).print(table)
    return 0
