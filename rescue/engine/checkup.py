"""Doctor and scan as engine functions (typed options in, an ``Outcome`` out).

Their work lives in ``rescue.diagnostics`` and their faces in
``rescue.ops.doctor`` / ``rescue.ops.scan``, which save the report, choose the
exit code and print the JSON body; to keep one behaviour for every face, these
functions run that exact path (``--json``, stdout captured) and hand back the
body, the report file and the exit code. Progress is stage events (open,
done); a finer callback needs the scan loop's ``on_block`` lifted out of
``rescue.ops.scan`` first.
"""

from __future__ import annotations

import contextlib
import io
import json

from rescue.engine.context import RunContext
from rescue.errors import ExitCode
from rescue.record import field, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import Any


@record(frozen=True)
class DoctorOptions:
    device: str


@record(frozen=True)
class ScanOptions:
    device: str
    start: int = 0
    end: int | None = None
    block: int | None = None  # None: the scanner's default
    retries: int | None = None
    read: str | None = None  # auto, 10, 12, cd
    mapfile: str | None = None


@record
class Outcome:
    """How a doctor or scan run ended: its exit code, its JSON body, its report."""

    exit_code: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def report(self) -> str | None:
        return self.body.get("report")

    @property
    def error(self) -> dict[str, Any] | None:
        return self.body if "error" in self.body and "exit_code" in self.body else None


def doctor(options: DoctorOptions, ctx: RunContext | None = None) -> Outcome:
    return _through_face(["doctor", options.device], options.device, ctx or RunContext())


def scan(options: ScanOptions, ctx: RunContext | None = None) -> Outcome:
    argv = ["scan", options.device, "--start", str(options.start)]
    for flag, value in (
        ("--end", options.end),
        ("--block", options.block),
        ("--retries", options.retries),
        ("--read", options.read),
        ("--mapfile", options.mapfile),
    ):
        if value is not None:
            argv += [flag, str(value)]
    return _through_face(argv, options.device, ctx or RunContext())


def _through_face(argv: list[str], device: str, ctx: RunContext) -> Outcome:
    from rescue.cli import main

    argv = [*argv, "--json"]
    if ctx.journal:
        argv += ["--journal", ctx.journal]
    if ctx.reports:
        argv += ["--reports", ctx.reports]
    ctx.emit(device, "stage", "open")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            code = main(argv)
        except SystemExit as done:  # argparse refused what we built
            code = done.code if isinstance(done.code, int) else int(ExitCode.USAGE)
    text = out.getvalue().strip()
    try:
        body = json.loads(text) if text else {}
    except json.JSONDecodeError:
        body = {"output": text}
    ctx.emit(device, "stage", "done", detail="success" if code == 0 else f"exit {code}")
    return Outcome(int(code), body if isinstance(body, dict) else {"output": body})
