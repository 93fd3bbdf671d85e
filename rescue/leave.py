"""The process's way out once a command has its exit code.

Why not simply ``sys.exit``: the interpreter's teardown after it (unloading every
module, a last collection, freeing each object) took 6 ms of a short scan on the
build host, a tenth of the instructions the whole command runs, and under TCG time
follows instructions (docs/performance.md, "The way out"). Nothing rescue writes
needs it: every file a command writes is closed, and synced where it matters,
before the command returns (tests/test_leave.py holds that for the commands that
write). So once stdout and stderr are flushed the process ends at once with
``os._exit``, unless something could still be waiting for the teardown:

- a callback registered with ``atexit`` (logging's flush, multiprocessing's join
  of its children: whoever registered one expects it to run);
- a thread besides the main one (the interpreter would join it first).

Then, and when a flush fails (a reader that left: ``rescue.closedpipe``), it is
``sys.exit`` as before. Only the entry points call this: ``main`` itself returns,
so tests and the bench call it in process as often as they like.
"""

from __future__ import annotations

import atexit
import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import NoReturn


def leave(code: int) -> NoReturn:
    """End the process with CODE, without the teardown when nothing waits for it."""
    if nothing_waits():
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            sys.exit(code)  # the interpreter's own way out deals with the stream
        os._exit(code)
    sys.exit(code)


def nothing_waits() -> bool:
    """No atexit callback and no thread but this one: the teardown would do nothing of ours."""
    if atexit._ncallbacks():  # CPython's count; there is no public one
        return False
    threading = sys.modules.get("threading")  # not imported: no thread was started through it
    return threading is None or threading.active_count() == 1
