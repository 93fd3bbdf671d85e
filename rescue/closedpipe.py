"""stdout that outlives its reader (`rescue flash ... | head -1`).

Once a write meets a closed pipe, the rest of the output goes to /dev/null and the
command carries on to its own end and exit code. Without this, the first print
after the reader left ended the process mid-command (rich raises SystemExit(1) on
a broken pipe, a bare print raises BrokenPipeError): a flash stopped between its
commit and its verification, with its report never written and an emulated
drive's state never saved.
"""

from __future__ import annotations

import contextlib
import errno
import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import TextIO


class ReaderMayLeave:
    """Wraps ``sys.stdout``; anything it does not define is the stream's own.

    ``carry_on`` False (a screen that waits for keys: the menu, bench's screen) makes the
    closed pipe end the command as before (BrokenPipeError, after stdout is /dev/null):
    drawn for nobody, it would wait for keys unseen.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.carry_on = True

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            self._reader_gone()
            return len(text)

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            self._reader_gone()

    def _reader_gone(self) -> None:
        drop_stdout()
        with contextlib.suppress(OSError, ValueError):
            self.stream.flush()  # what the buffer still holds goes to /dev/null now
        if not self.carry_on:
            raise BrokenPipeError(errno.EPIPE, "the reader of stdout has gone")

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


def drop_stdout() -> None:
    """Point stdout at /dev/null, so later writes and Python's own flush at exit meet no
    closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except (OSError, ValueError):
        pass
