"""argparse as every `rescue` command line uses it: help at argparse's own width, and, under
``--json``, a usage error that is a JSON error object too.

argparse's help formatter takes its width from ``shutil.get_terminal_size``, and the parser
builds a formatter for every ``add_argument`` (to check the metavar against ``nargs``): merely
building the parser imported shutil, and with it zlib, bz2, lzma and fnmatch, before any
command ran (under the TCG guest 5-20 ms a module; issue 15). ``Parser`` hands the formatter
the same width, found the way shutil finds it, so the help reads exactly as before.

A script that runs `rescue plan DEV --json` (and forgot `--to`) reads stdout as
JSON; argparse alone leaves stdout empty and prints prose on stderr. Under
``--json`` the usage still goes to stderr for a person, and the error is raised
as ``UsageError`` (exit code 2, as argparse's own), which the CLI prints as
the one JSON object every command's error is.
"""

from __future__ import annotations

import argparse
import os
import sys

from rescue.errors import UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import NoReturn

#: What argparse's formatter keeps free at the right of the terminal's columns.
RIGHT_MARGIN = 2
#: The columns shutil falls back to when neither $COLUMNS nor the terminal says.
FALLBACK_COLUMNS = 80


def terminal_columns() -> int:
    """The columns ``shutil.get_terminal_size()`` reports (Python docs, shutil): a positive
    integer in $COLUMNS, else the size of the terminal on ``sys.__stdout__``, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or FALLBACK_COLUMNS
    except (AttributeError, ValueError, OSError):  # no stdout, a closed one, not a terminal
        return FALLBACK_COLUMNS


class Parser(argparse.ArgumentParser):
    """Subparsers are of their parent's class (argparse), so every command gets this too.

    The width is asked for once, by a parser's first formatter: argparse makes one for every
    ``add_argument`` (only to check its metavar), and asking $COLUMNS and the terminal each
    time cost a scan's parser 16 asks, about 0.3 M instructions (issue 15).
    """

    _width: int | None = None

    def _get_formatter(self) -> argparse.HelpFormatter:
        if self._width is None:
            self._width = terminal_columns() - RIGHT_MARGIN
        return self.formatter_class(prog=self.prog, width=self._width)


class JsonUsageParser(Parser):
    """The parser under ``--json``: a usage error is raised for the JSON error object."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise UsageError(f"{self.prog}: {message}", hint=f"`{self.prog} --help` says what it takes")


def json_asked(argv: list[str]) -> bool:
    """``--json`` among the options (not after ``--``, where it would be a positional)."""
    options = argv[: argv.index("--")] if "--" in argv else argv
    return "--json" in options
