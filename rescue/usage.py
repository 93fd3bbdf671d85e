"""argparse for `--json` command lines: a usage error is a JSON error object too.

A script that runs `rescue plan DEV --json` (and forgot `--to`) reads stdout as
JSON; argparse alone leaves stdout empty and prints prose on stderr. Under
``--json`` the usage still goes to stderr for a person, and the error is raised
as ``UsageError`` (exit code 2, as argparse's own), which the CLI prints as
the one JSON object every command's error is.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from rescue.errors import UsageError


class JsonUsageParser(argparse.ArgumentParser):
    """Subparsers are of their parent's class (argparse), so every command gets this too."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise UsageError(f"{self.prog}: {message}", hint=f"`{self.prog} --help` says what it takes")


def json_asked(argv: list[str]) -> bool:
    """``--json`` among the options (not after ``--``, where it would be a positional)."""
    options = argv[: argv.index("--")] if "--" in argv else argv
    return "--json" in options
