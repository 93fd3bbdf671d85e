"""rescue: identify, diagnose, back up and flash optical drives over raw SCSI."""

# _signal: the interpreter's own signal module, loaded before any of Python's code runs.
# signal.py wraps its functions to turn numbers into IntEnums, which cost 2.8 M instructions
# to make at every start (issue 15); handlers and signal numbers are the same objects either way.
import _signal
import os as _os
import sys as _sys


def _interrupted_while_starting(_signum: int, _frame: object) -> None:
    """Ctrl-C before ``rescue.cli.main`` runs ends as main would end it: 130, one line."""
    _sys.stderr.write("interrupted\n")
    raise SystemExit(130)


# Started as the `rescue` program (console script or frozen binary), not imported by a
# test or a library user: Ctrl-C during the imports is no traceback; main() takes it over.
if _os.path.basename(_sys.argv[0] if _sys.argv else "") == "rescue":
    if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
        _signal.signal(_signal.SIGINT, _interrupted_while_starting)

from rescue.terminal import adapt_stdio as _adapt_stdio  # noqa: E402

__version__ = "0.1.0"

# Before any command makes a console: ASCII on a 7-bit terminal (TERM=vt100, the
# boot image's serial line), so rich draws plain tables there (rescue/terminal.py).
_adapt_stdio()
