"""The terminal the tool writes to: plain ASCII where the terminal cannot draw more.

Why here: a console is created in many places (rich's Console in each command),
and every one of them takes its character set from sys.stdout's encoding; rich
draws tables with +, - and | when that encoding is not UTF-8. A serial line
announced as TERM=vt100 (the boot image's ttyS0) is a 7-bit terminal, so
stdout and stderr are switched to ASCII there, characters it lacks becoming
'?'. Only terminals: output sent to a file or a pipe keeps its UTF-8, so a
report or a --json listing is never altered.
"""

from __future__ import annotations

import os
import sys

# TERM values of terminals that show 7-bit ASCII only.
ASCII_TERMS = frozenset({"vt52", "vt100", "vt102", "vt220", "ansi", "dumb"})


def _is_tty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def is_ascii_terminal(stream: object, term: str | None) -> bool:
    return term in ASCII_TERMS and _is_tty(stream)


def adapt_stdio() -> None:
    """Make sys.stdout and sys.stderr ASCII when each is a 7-bit terminal."""
    term = os.environ.get("TERM")
    for stream in (sys.stdout, sys.stderr):
        if is_ascii_terminal(stream, term) and hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="ascii", errors="replace")


def columns() -> int:
    """The terminal's columns as rich takes them: $COLUMNS, else any std stream's, else 80.

    For the commands that lay text out without rich (``explain``, ``list``).
    """
    value = os.environ.get("COLUMNS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    for fd in (0, 1, 2):
        try:
            return os.get_terminal_size(fd).columns or 80
        except (OSError, ValueError):
            continue
    return 80


def draws(stream: object) -> bool:
    """Whether STREAM shows rich's colours and bars: a terminal, or FORCE_COLOR as rich reads it.

    Anywhere else rich writes the plain text a ``print`` would, so commands
    write it themselves there and leave rich, a large share of a command's
    start-up under an emulated CPU, unloaded (docs/performance.md).
    """
    return bool(os.environ.get("FORCE_COLOR")) or _is_tty(stream)
