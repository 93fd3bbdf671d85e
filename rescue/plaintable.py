"""A table as plain text, for a command that prints one table and needs nothing else of rich.

Why: `rescue list` is among the first things typed on the boot image's slow
CPU, and rich's console and table renderer are about 70 modules to import
for nine short columns (issue 15, item 3: `list` loads no console renderer).

The layout: a title line, the header, a rule of ``-``, then one line per
row; columns two spaces apart, padded to their widest cell. When the
terminal is narrower than the table, the widest column gives up room first
(its cells wrap at spaces, or inside a long word) down to its header's
width, as rich narrows a table. Only ASCII is drawn, so a 7-bit serial
terminal (rescue/terminal.py) shows it as it is (a cell's other characters
become '?' there); cells are cleaned of control characters (a drive's
strings could carry terminal escapes).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

GAP = "  "


def _fit(widths: list[int], floors: list[int], room: int) -> list[int]:
    """Narrow the widest column, one character at a time, until the sum fits ROOM."""
    widths = list(widths)
    while sum(widths) > room:
        wide = max(
            (i for i, w in enumerate(widths) if w > floors[i]),
            key=lambda i: widths[i],
            default=None,
        )
        if wide is None:
            break  # every column at its header: the terminal wraps the lines
        widths[wide] -= 1
    return widths


def render(title: str, header: Sequence[str], rows: Sequence[Sequence[object]], width: int) -> str:
    """The table as text lines, each at most WIDTH wide where the headers allow it."""
    from rescue.diagnostics.render.fields import clean  # the reports' cleaner (light: re)

    cells = [[clean(str(c)).replace("\t", " ") for c in row] for row in rows]
    floors = [max(len(h), 1) for h in header]
    widths = [max([floors[i]] + [len(row[i]) for row in cells]) for i in range(len(header))]
    widths = _fit(widths, floors, width - len(GAP) * (len(header) - 1))

    def lines(row: Sequence[str]) -> list[str]:
        parts = [
            textwrap.wrap(cell, w, break_on_hyphens=False) or [""]
            for cell, w in zip(row, widths, strict=True)
        ]
        return [
            GAP.join(
                (p[n] if n < len(p) else "").ljust(w) for p, w in zip(parts, widths, strict=True)
            ).rstrip()
            for n in range(max(len(p) for p in parts))
        ]

    out = [title, *lines(header), GAP.join("-" * w for w in widths)]
    for row in cells:
        out += lines(row)
    return "\n".join(out) + "\n"
