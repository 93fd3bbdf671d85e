"""`rescue explain`: say what a sense triple or a sense buffer means, offline.

A person often has only a line from a log, a forum post or another tool
("5/24/00", or the 18 raw bytes a kernel message printed). This command needs
no drive: it decodes the text with ``rescue.scsi.sense.parse_triple``, names
it from the T10 table, and adds the plain-language advice the flasher gives.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap

from rescue.errors import ParseError, UsageError
from rescue.scsi.advice import Advice, advise
from rescue.scsi.sense import Sense, parse_triple
from rescue.terminal import columns as terminal_columns


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
# The output is two plain columns, laid out as rich would (no table renderer is loaded
# for a few lines of text); the styles are ANSI SGR parameters, used on a terminal only.
_BOLD, _CYAN, _GREEN, _YELLOW, _RED = "1", "36", "32", "33", "31"
_KEY_STYLE = {0x0: (_GREEN,), 0x1: (_GREEN,), 0xF: (_GREEN,), 0x2: (_YELLOW,),
              0x6: (_YELLOW,), 0x3: (_BOLD, _RED), 0x4: (_BOLD, _RED)}
_LABEL_STYLE = (_BOLD, _CYAN)
_PAD = 2  # blank columns each side of a cell


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


Row = tuple[str, str, tuple[str, ...]]  # label, value, the value's style


def _rows(sense: Sense, advice: Advice) -> list[Row]:
    kind = sense.format + (", deferred" if sense.deferred else "")
    rows: list[Row] = [
        ("sense", f"{sense.triple}  ({kind})", (_BOLD,)),
        ("key", f"{sense.key:X}h {sense.key_name}", _KEY_STYLE.get(sense.key, (_BOLD,))),
        ("ASC/ASCQ", f"{sense.asc:02X}h/{sense.ascq:02X}h {sense.asc_name}", ()),
    ]
    if sense.information is not None:
        rows.append(("information", f"{sense.information} (0x{sense.information:X})", ()))
    if sense.sense_key_specific is not None:
        rows.append(("key specific", sense.sense_key_specific.describe(), ()))
    flags = [name.upper() for name in ("filemark", "eom", "ili") if getattr(sense, name)]
    if flags:
        rows.append(("flags", " ".join(flags), ()))
    rows.append(("meaning", advice.meaning, ()))
    rows.append(("next step", advice.next_step, (_YELLOW,)))
    return rows


def _styles() -> tuple[bool, bool]:
    """(styles at all, colours too): on a terminal, as rich decides; NO_COLOR keeps bold."""
    env = os.environ
    if env.get("FORCE_COLOR"):
        on = True
    else:
        try:
            on = sys.stdout.isatty() and env.get("TERM", "").lower() not in ("dumb", "unknown")
        except ValueError:  # a closed stream
            on = False
    return on, on and not env.get("NO_COLOR")


def render(rows: list[Row], width: int, styled: bool = False, colour: bool = False) -> str:
    """The rows as two columns: labels padded to the widest, values wrapped to what is left."""
    label_width = max(len(label) for label, _, _ in rows)
    room = max(width - label_width - 4 * _PAD, 10)
    value_width = min(max(len(value) for _, value, _ in rows), room)

    def paint(text: str, style: tuple[str, ...]) -> str:
        codes = [c for c in style if colour or c == _BOLD] if styled else []
        return f"\x1b[{';'.join(codes)}m{text}\x1b[0m" if codes and text else text

    lines = []
    for label, value, style in rows:
        wrapped = textwrap.wrap(value, value_width, break_on_hyphens=False) or [""]
        for n, part in enumerate(wrapped):
            head = paint(label.ljust(label_width), _LABEL_STYLE) if n == 0 else " " * label_width
            lines.append((" " * _PAD + head + " " * 2 * _PAD + paint(part, style)).rstrip())
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    text = " ".join(args.sense)
    if args.json:
        print(json.dumps(explain(text), indent=2))
        return 0
    sense = _decode(text)
    rows = _rows(sense, advise(sense.key, sense.asc, sense.ascq))
    sys.stdout.write(render(rows, terminal_columns(), *_styles()))
    return 0
