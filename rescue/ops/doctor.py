"""`rescue doctor DEV`: what is wrong with this drive, in plain words, and what to do.

The checks live in ``rescue.diagnostics.doctor``; this module prints them and
saves the JSON report. Exit code 0 when nothing is wrong or there is simply no
disc to test, 1 (failure) when the drive is not ready or a read fails. The
reports folder is checked before the drive is opened; if the report still
cannot be written, the verdict is printed anyway, the report kept in the
temporary folder the message names, and the exit code is the write error's.
"""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.markup import escape

from rescue import outputs
from rescue.devices import open_device
from rescue.diagnostics.doctor import PROBLEM, Diagnosis, examine
from rescue.diagnostics.report import reports_dir, save_report
from rescue.drive import Drive
from rescue.errors import ExitCode


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "doctor", parents=[common], help="check a drive and its disc; a verdict and next steps"
    )
    parser.add_argument("device", metavar="DEV", help="the drive (see `rescue --help`)")
    parser.add_argument(
        "--reports", metavar="DIR", help="report folder (default $RESCUE_REPORTS or ./reports)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    reports_dir(args.reports)  # before the drive is touched
    with open_device(args.device, args.journal) as transport:
        diagnosis = examine(Drive(transport), args.device)
    body = diagnosis.to_dict()
    report, errors = save_report("doctor", args.device, {"doctor": body}, args.reports)
    if args.json:
        extra = {"errors": [e.to_dict() for e in errors]} if errors else {}
        print(json.dumps(body | {"report": str(report)} | extra, indent=2, sort_keys=True))
    else:
        show(diagnosis, str(report))
    if errors:  # the verdict is shown above; the report is kept where the message says
        return outputs.tell(errors)
    return int(ExitCode.FAILURE) if diagnosis.status == PROBLEM else 0


def show(d: Diagnosis, report: str) -> None:
    console = Console(highlight=False, soft_wrap=True)
    ident = d.identity
    known = f"catalog: {d.catalog_id}" if d.catalog_id else "not in the catalog"
    console.print(
        f"[bold]{escape(ident['vendor'])} {escape(ident['product'])}[/] "
        f"revision [bold]{escape(ident['revision'])}[/] ({known})"
    )
    if d.unit_attentions:
        console.print(f"  unit attentions cleared: {', '.join(d.unit_attentions)}")
    if d.profile:
        console.print(
            f"  medium: {escape(d.profile)}" + (f", {d.sectors} sectors" if d.sectors else "")
        )
    for p in d.probes:
        result = "ok" if p.failed_at is None else f"FAILED at {p.failed_at} ({p.triple})"
        if p.c2_bytes:
            result += f" (C2 pointers flagged {p.c2_bytes} bytes)"
        console.print(f"  read LBA {p.lba}..{p.lba + p.count - 1}: {result}")
    colour = "red" if d.status == PROBLEM else "green"
    console.print(f"[bold {colour}]verdict:[/] {escape(d.verdict)}")
    for step in d.next_steps:
        console.print(f"[yellow]next:[/] {escape(step)}")
    console.print(f"report: {report}")
