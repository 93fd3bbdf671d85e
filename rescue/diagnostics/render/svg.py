"""The scan chart as inline SVG: read speed over the disc, and the error map under it.

Drawn here in Python so the HTML page needs no script, no library and no
network: it must open on whatever machine the person carries the stick to.
Speed is drawn as a step curve, one flat step per zone, because a zone's speed
is an average over the zone; a smooth line would claim detail the scan never
measured. The x axis is the LBA (with the byte position, since people think
in gigabytes), shared by the curve and the map so a slow dip lines up with the
bad sectors under it. Colours are fixed constants: the screenshot test looks
for SPEED_COLOUR to prove the curve was painted.
"""

from __future__ import annotations

import math

from rescue.diagnostics.render.fields import escape
from rescue.diagnostics.render.model import BAD, READ, SLOW, UNREAD, WEAK, ScanView

SPEED_COLOUR = "#3a7bd5"
CELL_COLOURS = {
    READ: "#7cc68d",
    UNREAD: "#d0d0d0",
    SLOW: "#f2c14e",
    WEAK: "#f0782a",
    BAD: "#d7263d",
}

WIDTH = 960
LEFT, RIGHT, TOP = 80, 20, 16
PLOT_H = 220
MAP_TOP = TOP + PLOT_H + 44  # below the x labels
MAP_H = 28
HEIGHT = MAP_TOP + MAP_H + 8
MAP_CELLS = 440  # about 2 px each: single bad sectors stay visible
TICKS = 5


def _nice_top(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 or 10 times a power of ten at or above ``value`` (> 0)."""
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def _size(nbytes: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} B"


class _Axes:
    """Maps LBAs and speeds to pixels of the plot area."""

    def __init__(self, scan: ScanView, top_speed: float) -> None:
        self.first = scan.start
        self.span = scan.last - scan.start + 1
        self.top_speed = top_speed
        self.plot_w = WIDTH - LEFT - RIGHT

    def x(self, lba: int) -> float:
        offset = min(max(lba - self.first, 0), self.span)
        return LEFT + self.plot_w * offset / self.span

    def y(self, speed: float) -> float:
        return TOP + PLOT_H * (1 - min(speed, self.top_speed) / self.top_speed)


def _rect(x: float, y: float, w: float, h: float, fill: str, extra: str = "") -> str:
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}"{extra}/>'


def _text(x: float, y: float, words: str, anchor: str = "middle") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(words)}</text>'


def _speed_curve(scan: ScanView, axes: _Axes) -> list[str]:
    parts = []
    for zone in scan.zones:
        if zone.kib_per_second is None:
            continue
        x0, x1 = axes.x(zone.first), axes.x(zone.first + zone.count)
        y = axes.y(zone.kib_per_second)
        parts.append(_rect(x0, y, max(x1 - x0, 1.0), TOP + PLOT_H - y, SPEED_COLOUR))
    if not parts:
        parts.append(_text(LEFT + axes.plot_w / 2, TOP + PLOT_H / 2, "no read speed measured"))
    return parts


def _grid(scan: ScanView, axes: _Axes) -> list[str]:
    parts = []
    for i in range(TICKS):
        speed = axes.top_speed * i / (TICKS - 1)
        y = axes.y(speed)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e4e4e4"/>'
        )
        parts.append(_text(LEFT - 6, y + 4, f"{speed:,.0f}", "end"))
        lba = scan.start + axes.span * i // (TICKS - 1)  # the last tick is the end boundary
        x = axes.x(lba)
        anchor = "start" if i == 0 else "end" if i == TICKS - 1 else "middle"
        parts.append(_text(x, TOP + PLOT_H + 16, f"LBA {lba:,}", anchor))
        parts.append(_text(x, TOP + PLOT_H + 30, _size(lba * scan.sector_size), anchor))
    label_y = TOP + PLOT_H / 2
    parts.append(
        f'<text x="16" y="{label_y:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 16 {label_y:.0f})">KiB/s</text>'
    )
    return parts


def _error_map(scan: ScanView, axes: _Axes) -> list[str]:
    cells = scan.cells(MAP_CELLS)
    width = axes.plot_w / MAP_CELLS
    parts = [_text(LEFT - 6, MAP_TOP + MAP_H / 2 + 4, "map", "end")]
    start = 0
    for i in range(1, MAP_CELLS + 1):  # one rect per run of equal cells keeps the SVG small
        if i == MAP_CELLS or cells[i] != cells[start]:
            parts.append(
                _rect(
                    LEFT + start * width,
                    MAP_TOP,
                    (i - start) * width,
                    MAP_H,
                    CELL_COLOURS[cells[start]],
                )
            )
            start = i
    return parts


def scan_chart(scan: ScanView) -> str:
    """One ``<svg>`` element: the speed step curve above, the error map below."""
    speeds = [z.kib_per_second for z in scan.zones if z.kib_per_second]
    axes = _Axes(scan, _nice_top(max(speeds, default=1.0)))
    body = [
        *_grid(scan, axes),
        *_speed_curve(scan, axes),
        f'<line x1="{LEFT}" y1="{TOP + PLOT_H}" x2="{WIDTH - RIGHT}" y2="{TOP + PLOT_H}" '
        'stroke="#555"/>',
        *_error_map(scan, axes),
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" shape-rendering="crispEdges" role="img" '
        'aria-label="read speed over the disc, and the error map" '
        'font-family="sans-serif" font-size="11" fill="#333">' + "".join(body) + "</svg>"
    )
