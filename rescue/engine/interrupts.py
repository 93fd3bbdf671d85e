"""Ctrl-C during a flash: a request the engine answers at a safe point, never a cut.

Why not let KeyboardInterrupt fly: it can land between two halves of the
write phase. Before the commit, stopping at a chunk boundary leaves the old
firmware in place (the drive discards a download it never saved); a chunk
cut mid-transfer, or a process gone while the drive rewrites its flash, can
leave a drive that does not start. So while the guard is up, Ctrl-C only
sets a flag: the engine checks it after each command and stops before the
next one as long as nothing committed; after the commit it says why it goes
on, and a second Ctrl-C gets the reason in full (issue 11, docs/architecture.md).
Once the flash is verified (``saving``) the guard stays up until its report
is saved, so a late Ctrl-C never leaves a flashed drive without one; only the
read test after it lets Ctrl-C through (``let_through``) to end that test.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType, TracebackType

from rescue.errors import ExitCode, RescueError


class FlashInterrupted(RescueError):
    """The user stopped a flash at a point where nothing had been saved to flash."""

    exit_code = ExitCode.INTERRUPTED


class InterruptGuard:
    """Holds SIGINT for the write, the wait, the verify and the report (main thread only)."""

    def __init__(self) -> None:
        self.requests = 0
        self.committed = False
        self.saving = False  # verified: only the report is left to save
        self.let_through = False  # Ctrl-C raises KeyboardInterrupt (the read test)
        self._previous: signal.Handlers | None | object = None
        self._installed = False

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_interrupt)
            self._installed = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._installed:  # idempotent: the engine leaves on success and in its finally
            previous = self._previous if self._previous is not None else signal.SIG_DFL
            signal.signal(signal.SIGINT, previous)  # type: ignore[arg-type]
            self._installed = False

    def _on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self.let_through:
            raise KeyboardInterrupt
        self.requests += 1
        if self.saving:
            say("Ctrl-C: the flash is done and verified; rescue saves its report, then ends")
        elif not self.committed:
            say("Ctrl-C: stopping after the command in flight (a chunk is never cut in half)")
        elif self.requests == 1:
            say(
                "Ctrl-C: the drive is rewriting its flash; rescue waits for it to come back "
                "and checks it. Press Ctrl-C again to see why it does not stop."
            )
        else:
            say(
                "Ctrl-C again: rescue will not stop now. The drive was told to save the new "
                "firmware; a drive left alone while it rewrites its flash, or powered off, may "
                "never start again. rescue gives up by itself if the drive does not come back."
            )

    def stop_if_asked(self, sent: int, total: int, revision: str) -> None:
        """Between two commands: stop here when asked and nothing was committed yet."""
        if self.requests and not self.committed:
            raise FlashInterrupted(
                f"stopped by Ctrl-C after {sent} of {total} commands, before the commit: "
                f"nothing was saved to flash, the drive still runs {revision}",
                hint="power-cycle the drive if it does not answer, then run the same "
                "`rescue flash` again",
            )


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
