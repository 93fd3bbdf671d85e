"""Run one job on many drives at once: one worker process per drive, results as they end.

Why processes: py-sg holds the GIL for the whole SG_IO ioctl, so threads
would send one drive's command at a time, and a drive that hangs inside a
command would stall every other one. A worker is forked (cheap, and it keeps
the drive table and environment of the parent), runs the engine on its drive
with a quiet ``RunContext``, and sends its events and its ``DriveResult``
through a pipe of its own. The parent only waits: a worker that dies without a result
is reported as such, one that outlives ``timeout`` is stopped (SIGTERM, then
SIGKILL) and reported as TIMEOUT; the others carry on untouched.

Exit ranking: the batch exits 0 only when every drive succeeded, otherwise
with the code of the worst drive, worst first in ``RANKING``: an interrupted
batch, then what may have left a drive changed or half-done (1: a verify that
failed or an unclassified failure, 12 transport, 11 timeout, 8 medium or
hardware error, 7 not ready, 10 unit attention, 9 the drive refused a
command), then what stopped before anything was written (3 no device, 4
permission, 5 bad input, 6 refused by the safety policy, 2 usage).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rescue.engine.context import Event, RunContext
from rescue.errors import ExitCode
from rescue.record import asdict, field, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import Any

INTERRUPTED = 130
RANKING: tuple[int, ...] = (
    INTERRUPTED,
    ExitCode.FAILURE,
    ExitCode.TRANSPORT,
    ExitCode.TIMEOUT,
    ExitCode.MEDIUM_ERROR,
    ExitCode.NOT_READY,
    ExitCode.UNIT_ATTENTION,
    ExitCode.ILLEGAL_REQUEST,
    ExitCode.NO_DEVICE,
    ExitCode.PERMISSION,
    ExitCode.BAD_INPUT,
    ExitCode.REFUSED,
    ExitCode.USAGE,
)
DEFAULT_TIMEOUT = 1800.0  # one drive's whole job; a flash is minutes even on a slow drive
STOP_GRACE = 10.0  # after SIGTERM, before SIGKILL
POLL = 0.2


def worst(codes: list[int]) -> int:
    """0 when every code is 0, else the worst by ``RANKING`` (an unknown code ranks first)."""
    failed = [int(c) for c in codes if c]
    if not failed:
        return 0
    rank = {int(code): n for n, code in enumerate(RANKING)}
    return min(failed, key=lambda c: rank.get(c, -1))


@record
class DriveResult:
    """How one drive's job ended; one line of output, one row of the summary."""

    index: int
    device: str
    job: str
    exit_code: int = int(ExitCode.FAILURE)
    result: str = "not started"
    message: str | None = None
    hint: str | None = None
    seconds: float = 0.0
    report: str | None = None
    journal: str | None = None
    log: str | None = None
    drive_before: dict[str, str] | None = None
    drive_after: dict[str, str] | None = None
    error: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: What a worker runs: (its RunContext, its result to fill) -> None; raises nothing it can catch.
Work = Callable[[RunContext, DriveResult], None]


@record
class Task:
    device: str
    job: str
    work: Work
    journal: str | None = None
    log: str | None = None
    timeout: float | None = None  # None: the batch's


def _child(index: int, task: Task, reports: str | None, channel: Any, events: bool) -> None:
    """The worker process: output to its log, events (when wanted) and the result by its pipe.

    Under load every message costs both ends CPU that the other drives' work
    needs: without a listener in the parent (the headless form) no event is
    sent, and progress goes out only when it moves by a whole percent.
    """
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a stop saves the report
    if task.log:
        fd = os.open(task.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # nobody can be asked anything in a worker
    os.close(devnull)

    result = DriveResult(index, task.device, task.job, log=task.log, journal=task.journal)
    ctx = RunContext(
        quiet=True,
        assume_yes=True,
        journal=task.journal,
        reports=reports,
        listener=_forwarder(index, channel) if events else None,
    )
    started = time.monotonic()
    try:
        task.work(ctx, result)
    except KeyboardInterrupt:
        result.exit_code, result.result = INTERRUPTED, "interrupted"
    except BaseException as err:  # noqa: BLE001 - a bug in one worker is that drive's failure
        result.exit_code, result.result = int(ExitCode.FAILURE), "failed"
        result.message = f"{type(err).__name__}: {err}"
    result.seconds = round(time.monotonic() - started, 3)
    sys.stdout.flush()
    sys.stderr.flush()
    channel.send(("done", index, result.to_dict()))
    channel.close()


def _forwarder(index: int, channel: Any) -> Callable[[Event], None]:
    """A listener that sends events up the pipe, progress only at each new whole percent."""
    shown: dict[str, int] = {}

    def listener(event: Event) -> None:
        if event.kind == "progress" and event.total:
            percent = 100 * event.done // event.total
            if shown.get(event.text) == percent:
                return
            shown[event.text] = percent
        channel.send(("event", index, event.to_dict()))

    return listener


class Batch:
    """Workers started one by one (``start``), pumped by the caller (``pump``).

    Each worker has a pipe of its own (no shared queue: that needs POSIX
    semaphores, i.e. /dev/shm, which the guest and the boot image lack); the
    pipe's end of file is how a worker that died is noticed. ``pump`` also
    waits on the caller's own objects (the screen's keyboard) and returns
    those that are ready, so one thread serves both without forking from a
    second thread.
    """

    def __init__(
        self,
        *,
        reports: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        on_event: Callable[[int, dict[str, Any]], None] | None = None,
        on_result: Callable[[DriveResult], None] | None = None,
    ) -> None:
        self.reports, self.timeout = reports, timeout
        self.on_event, self.on_result = on_event, on_result
        self.context = multiprocessing.get_context("fork")
        self.tasks: list[Task] = []
        self.processes: list[Any] = []
        self.started: list[float] = []
        self.pipes: dict[int, Any] = {}
        self.results: dict[int, DriveResult] = {}
        self.stopping: dict[int, float] = {}

    @property
    def running(self) -> bool:
        return bool(self.pipes)

    def start(self, task: Task) -> int:
        index = len(self.tasks)
        reader, writer = self.context.Pipe(duplex=False)
        process = self.context.Process(
            target=_child,
            args=(index, task, self.reports, writer, self.on_event is not None),
            name=f"bench-{index}",
        )
        process.start()
        writer.close()
        self.tasks.append(task)
        self.processes.append(process)
        self.started.append(time.monotonic())
        self.pipes[index] = reader
        return index

    def _finish(self, result: DriveResult) -> None:
        if result.index in self.stopping and result.exit_code in (INTERRUPTED, ExitCode.FAILURE):
            result.exit_code, result.result = int(ExitCode.TIMEOUT), "timed out"
            limit = self.tasks[result.index].timeout or self.timeout
            result.message = f"stopped after {limit:g} s: the drive's job did not end"
        self.results[result.index] = result
        if self.on_result is not None:
            self.on_result(result)

    def _receive(self, index: int) -> None:
        try:
            kind, _, payload = self.pipes[index].recv()
        except (EOFError, OSError):  # the worker ended; a result it sent came first
            self.pipes.pop(index).close()
            process = self.processes[index]
            process.join(STOP_GRACE)
            if index not in self.results:
                task = self.tasks[index]
                self._finish(_lost(index, task, process.exitcode, self.started[index]))
            return
        if kind == "done":
            self._finish(DriveResult(**payload))
        elif kind == "event" and self.on_event is not None:
            self.on_event(index, payload)

    def pump(self, wait: float = POLL, also: list[Any] | None = None) -> list[Any]:
        """Handle what the workers sent within ``wait`` s; return the ready ``also`` objects."""
        by_pipe = {id(reader): index for index, reader in self.pipes.items()}
        waiting = [*self.pipes.values(), *(also or [])]
        ready = multiprocessing.connection.wait(waiting, wait) if waiting else []
        mine = []
        for thing in ready:
            if id(thing) in by_pipe:
                self._receive(by_pipe[id(thing)])
            else:
                mine.append(thing)
        now = time.monotonic()
        for index in list(self.pipes):
            if index in self.results:
                continue
            limit = self.tasks[index].timeout or self.timeout
            if now - self.started[index] > limit and index not in self.stopping:
                self.stopping[index] = now
                self.processes[index].terminate()
            elif index in self.stopping and now - self.stopping[index] > STOP_GRACE:
                self.processes[index].kill()
        return mine

    def next_deadline(self) -> float:
        """Seconds until a running worker's time limit, or its SIGKILL after SIGTERM, is due.

        ``run_batch`` sleeps that long when no worker writes: results wake it through
        their pipes, so it never polls (a wake-up every 0.2 s cost eight workers' parent
        seconds of CPU under QEMU's TCG, on the CPUs the downloads needed).
        """
        due = [
            self.stopping[i] + STOP_GRACE
            if i in self.stopping
            else self.started[i] + (self.tasks[i].timeout or self.timeout)
            for i in self.pipes
        ]
        return max(0.0, min(due) - time.monotonic()) + POLL if due else POLL

    def kill_all(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.kill()


def run_batch(
    tasks: list[Task],
    *,
    reports: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    on_event: Callable[[int, dict[str, Any]], None] | None = None,
    on_result: Callable[[DriveResult], None] | None = None,
) -> list[DriveResult]:
    """Run every task in a process of its own; return the results in the tasks' order."""
    batch = Batch(reports=reports, timeout=timeout, on_event=on_event, on_result=on_result)
    for task in tasks:
        batch.start(task)
    interrupted = False
    while batch.running:
        try:
            batch.pump(batch.next_deadline())
        except KeyboardInterrupt:  # the workers got the same Ctrl-C and save their reports
            if interrupted:
                batch.kill_all()
            interrupted = True
    for process in batch.processes:
        process.join(STOP_GRACE)
    return [batch.results[i] for i in range(len(tasks))]


def _lost(index: int, task: Task, exitcode: int | None, started: float) -> DriveResult:
    how = f"signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit {exitcode}"
    return DriveResult(
        index,
        task.device,
        task.job,
        exit_code=int(ExitCode.FAILURE),
        result="worker died",
        message=f"the worker process ended ({how}) without a result",
        seconds=round(time.monotonic() - started, 3),
        log=task.log,
        journal=task.journal,
    )


def log_path(folder: Path, index: int) -> str:
    """``drive-<n>.log`` in the session folder: what the worker printed, if anything."""
    return str(folder / f"drive-{index + 1}.log")
