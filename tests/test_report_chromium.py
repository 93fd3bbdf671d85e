"""The HTML report in a real browser: headless Chromium paints the chart.

Debian's ``chromium`` (build/apt-packages.txt) takes a screenshot of a scan
report with bad ranges; the PNG is decoded here with the standard library
(zlib and the five PNG row filters of the PNG specification, section 9) and
must not be blank: many distinct colours, and the speed curve's and the bad
ranges' own colours painted over a real area. Without chromium the test fails
and says how to install it: a skipped test would hide that the page was never
seen by a browser.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest
from test_report import scan_report

from rescue.diagnostics.render.model import BAD
from rescue.diagnostics.render.svg import CELL_COLOURS, SPEED_COLOUR

pytestmark = pytest.mark.peer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {2: 3, 6: 4}  # colour type -> bytes per pixel at 8 bits: RGB, RGBA


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _unfilter(kind: int, row: bytearray, previous: bytes, bpp: int) -> None:
    """Undo one row's filter in place (0 none, 1 sub, 2 up, 3 average, 4 Paeth)."""
    for i in range(len(row)):
        left = row[i - bpp] if i >= bpp else 0
        up = previous[i]
        if kind == 1:
            row[i] = (row[i] + left) & 0xFF
        elif kind == 2:
            row[i] = (row[i] + up) & 0xFF
        elif kind == 3:
            row[i] = (row[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            corner = previous[i - bpp] if i >= bpp else 0
            row[i] = (row[i] + _paeth(left, up, corner)) & 0xFF


def decode_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Width, height and the RGB pixels of an 8-bit, non-interlaced RGB or RGBA PNG."""
    assert data.startswith(PNG_SIGNATURE), "not a PNG file"
    pos, idat, header = len(PNG_SIGNATURE), bytearray(), None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None, "PNG without IHDR"
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in CHANNELS and interlace == 0, f"unsupported PNG {header}"
    bpp = CHANNELS[colour]
    raw = zlib.decompress(bytes(idat))
    stride = width * bpp
    previous = bytes(stride)
    pixels = []
    for y in range(height):
        start = y * (stride + 1)
        row = bytearray(raw[start + 1 : start + 1 + stride])
        if raw[start]:
            _unfilter(raw[start], row, previous, bpp)
        pixels += [tuple(row[x : x + 3]) for x in range(0, stride, bpp)]
        previous = bytes(row)
    return width, height, pixels


def _rgb(colour: str) -> tuple[int, int, int]:
    value = int(colour.lstrip("#"), 16)
    return value >> 16, value >> 8 & 0xFF, value & 0xFF


def _near(pixel: tuple[int, ...], want: tuple[int, int, int]) -> bool:
    """Within 3 per channel: allows for colour management, not for another colour."""
    return all(abs(p - w) <= 3 for p, w in zip(pixel, want, strict=True))


def screenshot(page: Path, out: Path, profile: Path) -> bytes:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed: apt-get install chromium (build/apt-packages.txt)")
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",  # the tests run as root in CI and in the build container
            "--disable-gpu",
            f"--user-data-dir={profile}",  # private: parallel runs never share a profile
            f"--screenshot={out}",
            "--window-size=1000,800",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and out.exists(), f"chromium failed: {done.stderr[-800:]}"
    return out.read_bytes()


def test_chromium_paints_the_speed_curve_and_the_bad_ranges(tmp_path: Path) -> None:
    report = scan_report(tmp_path / "reports")
    png = screenshot(report.with_suffix(".html"), tmp_path / "shot.png", tmp_path / "profile")
    width, height, pixels = decode_png(png)
    assert (width, height) == (1000, 800)
    colours = Counter(pixels)
    assert len(colours) > 50, f"only {len(colours)} colours: the page looks blank"
    assert colours.most_common(1)[0][1] < 0.9 * len(pixels), "one colour fills the page"
    speed = sum(n for c, n in colours.items() if _near(c, _rgb(SPEED_COLOUR)))
    bad = sum(n for c, n in colours.items() if _near(c, _rgb(CELL_COLOURS[BAD])))
    assert speed > 20_000, f"the speed curve covers {speed} pixels"
    assert bad > 200, f"the bad ranges cover {bad} pixels of the error map"


def test_the_decoder_reads_what_zlib_and_a_filter_wrote() -> None:
    """The decoder itself, on a 2x2 RGB image with a Sub and a Paeth row."""
    rows = [bytes([1]) + bytes([10, 20, 30, 5, 5, 5]), bytes([4]) + bytes([1, 1, 1, 2, 2, 2])]
    ihdr = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    png = PNG_SIGNATURE + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
    png += chunk(b"IEND", b"")
    # row 0 (Sub): (10,20,30), (15,25,35); row 1 (Paeth): up is the best predictor of both
    assert decode_png(png) == (2, 2, [(10, 20, 30), (15, 25, 35), (11, 21, 31), (17, 27, 37)])
