"""A report on the console: the same views as the HTML page, drawn with text.

Only ``rich.text.Text`` carries values from the document, never markup
strings, so a vendor string such as ``[bold]`` or ``[/]`` prints as itself
instead of restyling (or breaking) the output. The speed chart is one bar per
zone, the error map one line of cells from ``ScanView.cells``: the same cells
the HTML map draws.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby

from rich.console import Console
from rich.table import Table
from rich.text import Text

from rescue.diagnostics.render.model import (
    BAD,
    BAD_HEADERS,
    PROBE_HEADERS,
    READ,
    SLOW,
    SLOW_HEADERS,
    UNREAD,
    WEAK,
    WEAK_HEADERS,
    Body,
    DoctorView,
    FlashView,
    ReadTest,
    Report,
    Rows,
    ScanView,
)

BAR_WIDTH = 40
MAP_CELLS = 64
_CELL = {
    READ: ("█", "green"),
    SLOW: ("▒", "yellow"),
    WEAK: ("w", "dark_orange"),
    BAD: ("X", "bold red"),
    UNREAD: ("·", "dim"),
}
_OUTCOME = {"ok": "green", "refused": "bold red", "failed": "bold red"}


def _facts(console: Console, rows: Rows) -> None:
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for label, value in rows:
        if value is not None:
            table.add_row(label, Text(value))
    console.print(table)


def _table(
    console: Console, title: str, headers: Iterable[str], rows: Iterable[Iterable[str | Text]]
) -> None:
    table = Table(title=title, title_justify="left", title_style="bold")
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(cell if isinstance(cell, Text) else Text(cell) for cell in row))
    console.print(table)


def speed_lines(scan: ScanView) -> list[Text]:
    """One line per zone: its first LBA, a bar as long as its speed, the speed in KiB/s."""
    top = max((z.kib_per_second for z in scan.zones if z.kib_per_second), default=0.0)
    lines = []
    for zone in scan.zones:
        line = Text(f"LBA {zone.first:>12,} ")
        speed = zone.kib_per_second
        if speed is None:
            line.append("(no speed measured)", style="dim")
        else:
            filled = round(BAR_WIDTH * speed / top) if top else 0
            line.append("█" * filled, style="blue")
            line.append(" " * (BAR_WIDTH - filled) + f" {speed:,.0f} KiB/s")
        lines.append(line)
    return lines


def map_line(scan: ScanView) -> Text:
    line = Text()
    for state, run in groupby(scan.cells(MAP_CELLS)):
        char, style = _CELL[state]
        line.append(char * len(list(run)), style=style)
    return line


def _scan(console: Console, scan: ScanView) -> None:
    console.print(Text("Read speed per zone", style="bold"))
    for line in speed_lines(scan):
        console.print(line)
    console.print(Text(f"Error map, LBA {scan.start:,} to {scan.last:,}", style="bold"))
    console.print(map_line(scan))
    legend = Text()
    for state in (READ, SLOW, WEAK, BAD, UNREAD):
        char, style = _CELL[state]
        legend.append(f"{char} ", style=style).append(f"{state}   ")
    console.print(legend)
    if scan.bad:
        _table(console, "Unreadable sectors", BAD_HEADERS, scan.bad_rows())
    if scan.weak:
        _table(console, "Weak sectors (read, with C2 errors)", WEAK_HEADERS, scan.weak_rows())
    if scan.slow:
        _table(console, "Slow areas", SLOW_HEADERS, scan.slow_rows())
    _facts(console, scan.facts())


def _read_test(console: Console, test: ReadTest) -> None:
    if test.probes:
        _table(console, "Read test", PROBE_HEADERS, test.probe_rows())
    for step in test.next_steps:
        console.print(Text("next: ", style="yellow").append(step, style="default"))


def _doctor(console: Console, doc: DoctorView) -> None:
    _facts(console, doc.facts())
    _read_test(console, doc.test)


def _flash(console: Console, fl: FlashView) -> None:
    _facts(console, fl.facts())
    rows = [
        (c.name, Text(c.outcome, style=_OUTCOME.get(c.outcome, "yellow")), c.detail)
        for c in fl.preflight
    ]
    _table(console, "Pre-flight checks", ("check", "outcome", "detail"), rows)
    if fl.read_test is not None:
        verdict, good = fl.read_test.outcome()
        console.print(
            Text("read test after the flash: ", style="bold").append(
                verdict, style="green" if good else "red"
            )
        )
        _read_test(console, fl.read_test)


def _body(console: Console, body: Body) -> None:
    if isinstance(body, ScanView):
        _scan(console, body)
    elif isinstance(body, DoctorView):
        _doctor(console, body)
    else:
        _flash(console, body)


def show(report: Report, console: Console) -> None:
    outcome, good = report.body.outcome()
    console.print(Text(report.title, style="bold"))
    _facts(console, report.header())
    console.print(Text(outcome, style="bold green" if good else "bold red"))
    _body(console, report.body)
