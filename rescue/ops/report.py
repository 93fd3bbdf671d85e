"""`rescue report FILE`: read a saved doctor, scan or flash report on the terminal.

Reports are written on one machine (often the rescue stick) and read on
another; this shows one as a summary, with a scan's zones as a text speed
chart and error map, without a browser. ``FILE`` may be the ``.json`` or the
``.html`` page beside it (the JSON is what is read). ``--json`` prints the
document again, checked. A file that is not a rescue report exits with 5
(bad input) and one line saying why.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

from rescue.diagnostics.render.model import load_report
from rescue.diagnostics.render.terminal import show
from rescue.inputs import file_name


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "report", parents=[common], help="show a saved doctor, scan or flash report"
    )
    parser.add_argument(
        "file", metavar="FILE", type=file_name, help="the report's .json (or .html)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = load_report(Path(args.file))
    if args.json:
        print(json.dumps(report.document, indent=2, sort_keys=True))
    else:
        show(report, Console(highlight=False, soft_wrap=True))
    return 0
