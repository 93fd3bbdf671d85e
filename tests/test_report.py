"""Readable reports: the HTML page beside every report, and `rescue report FILE` on a terminal.

Run through the CLI on emulated drives, then through hostile and random
documents: a report holds strings a drive supplied, and a file handed to
`rescue report` may be anything.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.diagnostics.render.html import render_html
from rescue.diagnostics.render.model import BAD, READ, SLOW, UNREAD, ScanView, read_report
from rescue.diagnostics.render.svg import CELL_COLOURS, SPEED_COLOUR
from rescue.diagnostics.report import write_html_beside, write_report
from rescue.emulator.images import make_btc_image
from rescue.errors import ExitCode
from rescue.scsi.advice import advise

# Every read takes 0.05 s of drive time (so zones have a speed), LBA 3000-3999 at 0.2 s
# and 6000-6199 at 2 s (a dip, and a slow range), and two bad ranges.
SCAN_DISC = (
    "emu:generic-dvd,bad=1000-1099;5000,sectors=8192,slow=0-8191:0.05;3000-3999:0.2;6000-6199:2"
)
BTC_0043 = "emu:btc-drw1004im,rev=0043,quirk=dvdread"


def _only(folder: Path, pattern: str) -> Path:
    (path,) = folder.glob(pattern)
    return path


def run_report(folder: Path, *argv: str) -> Path:
    """Run a reporting command through the CLI; the one JSON report it wrote into ``folder``."""
    main([*argv, "--reports", str(folder)])
    return _only(folder, f"{argv[0]}-*.json")


def scan_report(folder: Path, device: str = SCAN_DISC) -> Path:
    return run_report(folder, "scan", device)


def flash_report(tmp: Path) -> Path:
    """A real flash report: BTC 0043 -> 0050 on an emulated drive."""
    image = tmp / "V0050.bin"
    image.write_bytes(make_btc_image("0050"))
    state = tmp / "drive.state"
    return run_report(
        tmp / "reports",
        "flash",
        f"emu:btc-drw1004im,rev=0043,disc=none,state={state}",
        str(image),
        "--yes",
        "--no-backup",
    )


def show(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`rescue report ARGV`: exit code, stdout, stderr (earlier output is dropped)."""
    capsys.readouterr()
    code = main(["report", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _plain(html: str) -> str:
    """The page's visible text, tags removed, entities left as they are."""
    return re.sub(r"<[^>]+>", " ", html)


# --- the page beside the JSON ---


def test_scan_writes_a_page_beside_the_json_with_chart_and_sense_in_words(tmp_path: Path) -> None:
    report = scan_report(tmp_path)
    page = report.with_suffix(".html")
    assert page.exists() and {p.suffix for p in tmp_path.iterdir()} == {".json", ".html"}
    html = page.read_text(encoding="utf-8")
    text = _plain(html)
    assert "101 unreadable sectors in 2 ranges" in text
    assert "1,000..1,099" in text and " 5,000 " in text
    assert "UNRECOVERED READ ERROR" in text
    assert advise(0x3, 0x11, 0x00).meaning in text and advise(0x3, 0x11, 0x00).next_step in text
    (slow,) = json.loads(report.read_text())["scan"]["slow"]  # whole 32-sector blocks
    assert slow["first"] <= 6000 and slow["last"] >= 6199
    assert f"{slow['first']:,}..{slow['last']:,}" in text  # the slow range has its own table
    svg = html[html.index("<svg") : html.index("</svg>")]
    speeds = re.findall(rf'height="([\d.]+)" fill="{SPEED_COLOUR}"', svg)
    assert len(speeds) == 16  # one step per zone, and the slow zones are lower
    assert min(map(float, speeds)) < max(map(float, speeds)) / 4
    for state in (READ, BAD, SLOW):
        assert f'fill="{CELL_COLOURS[state]}"' in svg
    assert f'fill="{CELL_COLOURS[UNREAD]}"' not in svg  # the scan completed


def test_the_page_loads_nothing_and_runs_nothing(tmp_path: Path) -> None:
    html = scan_report(tmp_path).with_suffix(".html").read_text(encoding="utf-8")
    for needle in ("<script", "src=", "href=", "url(", "@import", "<link", "<iframe"):
        assert needle not in html.lower()
    assert "default-src 'none'" in html
    assert re.findall(r"https?://[^\"' ]+", html) == ["http://www.w3.org/2000/svg"]  # a name


def test_doctor_page_has_identity_verdict_probes_and_next_steps(tmp_path: Path) -> None:
    report = run_report(tmp_path, "doctor", BTC_0043)
    text = _plain(report.with_suffix(".html").read_text(encoding="utf-8"))
    assert "BTC DVDRW IDE1004" in text and "0043" in text
    assert "DVD reads fail at LBA 4096" in text
    assert "failed at LBA 4,096: 3/11/00 UNRECOVERED READ ERROR" in text
    assert "rescue plan" in text and "--to 0151" in text
    assert "newer firmware" in text and "0151" in text


def test_empty_drive_doctor_page_says_no_disc(tmp_path: Path) -> None:
    report = run_report(tmp_path, "doctor", "emu:generic-dvd,disc=none")
    html = report.with_suffix(".html").read_text(encoding="utf-8")
    assert 'class="outcome good"' in html and "no disc in the drive" in html
    assert "No disc was read." in html


def test_flash_page_from_a_real_flash_report(tmp_path: Path) -> None:
    report = flash_report(tmp_path)
    document = json.loads(report.read_text())
    assert document["result"] == "success"
    page = write_html_beside(tmp_path / "flash-x.json", document)
    assert page == tmp_path / "flash-x.html"
    html = page.read_text(encoding="utf-8")
    text = _plain(html)
    assert 'class="outcome good"' in html and " success " in text
    assert "0043" in text and "0050" in text and "258 of 258" in text
    for check in document["preflight"]:
        assert check["name"] in text
    assert '<td class="skipped">skipped</td>' in html  # --no-backup


def test_flash_writes_its_page_beside_its_report(tmp_path: Path) -> None:
    report = flash_report(tmp_path)
    document = json.loads(report.read_text())
    assert document["kind"] == "flash" and document["rescue_version"]
    page = report.with_suffix(".html").read_text(encoding="utf-8")
    assert "0050" in _plain(page) and 'class="outcome good"' in page


def test_a_read_test_after_the_flash_is_on_the_page_and_the_terminal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    document = json.loads(flash_report(tmp_path).read_text())
    document["read_test"] = {
        "status": "problem",
        "verdict": "DVD reads fail at LBA 4096",
        "probes": [{"lba": 4096, "count": 16, "failed_at": 4100, "triple": "3/11/00"}],
        "next_steps": ["try another disc"],
    }
    path = tmp_path / "flash.json"
    path.write_text(json.dumps(document))
    text = _plain(write_html_beside(path, document).read_text(encoding="utf-8"))
    assert "Read test after the flash" in text and "failed at LBA 4,100: 3/11/00" in text
    code, out, _ = show(capsys, str(path))
    assert code == 0 and "DVD reads fail at LBA 4096" in out and "try another disc" in out


# --- `rescue report FILE` ---


def test_report_shows_a_scan_with_speed_bars_and_an_error_map(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = scan_report(tmp_path)
    code, out, _ = show(capsys, str(report))
    assert code == 0
    assert "101 unreadable sectors in 2 ranges" in out
    bars = [line for line in out.splitlines() if line.startswith("LBA ") and "KiB/s" in line]
    assert len(bars) == 16
    lengths = [line.count("█") for line in bars]
    assert max(lengths) == 40 and min(lengths) < 10  # the 2 s blocks pull their zone down
    (cells,) = [line for line in out.splitlines() if len(line) == 64 and "X" in line]
    assert cells.count("X") == 3  # 1000-1099 spans two cells of 128 sectors, 5000 one
    assert cells[1000 // 128] == "X" and cells[5000 // 128] == "X" and cells[6000 // 128] == "▒"
    assert "3/11/00" in out and "UNRECOVERED" in out  # the table wraps at 80 columns


def test_report_reads_the_json_beside_an_html_page(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = scan_report(tmp_path)
    assert show(capsys, str(report.with_suffix(".html")))[:2] == show(capsys, str(report))[:2]


def test_report_json_re_emits_the_document(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = scan_report(tmp_path)
    code, out, _ = show(capsys, str(report), "--json")
    assert code == 0 and json.loads(out) == json.loads(report.read_text())


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (None, "cannot read the report"),
        (b"\xff\xfe garbage", "not valid JSON"),
        (b"[" * 100_000, "nested too deeply"),
        (b'{"kind": "scan"}', "not a rescue report"),
        (b'{"kind": "scan", "device": "x", "scan": {"start": 5, "end": 2}}', "ends"),
        (b'{"kind": "scan", "device": "x", "scan": {"start": 0, "end": "9"}}', "scan.end"),
        (b'{"kind":"doctor","device":"x","doctor":{"status":"ok","verdict":1}}', "verdict"),
    ],
)
def test_a_file_that_is_not_a_report_is_one_line_of_bad_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes | None, why: str
) -> None:
    path = tmp_path / "some.json"
    if content is not None:
        path.write_bytes(content)
    code, out, err = show(capsys, str(path))
    assert code == ExitCode.BAD_INPUT and out == ""
    first, *rest = err.splitlines()
    assert first.startswith("error: ") and why in first
    assert all(line.startswith("next: ") for line in rest)


# --- hostile strings ---

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>[bold red]x[/]\x1b[31m\ud800'


def _hostile_doctor() -> dict:
    return {
        "kind": "doctor",
        "device": HOSTILE,
        "created": HOSTILE,
        "rescue_version": HOSTILE,
        "doctor": {
            "identity": {"vendor": HOSTILE, "product": HOSTILE, "revision": HOSTILE},
            "catalog_id": HOSTILE,
            "unit_attentions": [HOSTILE],
            "profile": HOSTILE,
            "probes": [{"lba": 0, "count": 16, "failed_at": 3, "triple": HOSTILE}],
            "status": "problem",
            "verdict": HOSTILE,
            "next_steps": [HOSTILE],
        },
    }


def _hostile_scan() -> dict:
    span = {"first": 1, "last": 2, "count": 2, "detail": HOSTILE, "seconds": 1.5}
    return {
        "kind": "scan",
        "device": HOSTILE,
        "scan": {
            "identity": {"vendor": HOSTILE, "product": HOSTILE, "revision": HOSTILE},
            "start": 0,
            "end": 99,
            "bad": [span],
            "slow": [span],
            "weak": [{"first": 5, "last": 5, "c2_bytes": 9, "worst_sector_c2_bytes": 9}],
            "zones": [{"first": 0, "count": 100, "kib_per_second": 5.0}],
            "complete": False,
            "stopped_at": 50,
            "stopped_by": HOSTILE,
            "mapfile": HOSTILE,
            "read_method": HOSTILE,
            "fallback": HOSTILE,
        },
    }


@pytest.mark.parametrize("document", [_hostile_doctor(), _hostile_scan()])
def test_drive_strings_cannot_inject_markup_into_the_page(document: dict) -> None:
    html = render_html(read_report(document))
    assert "<script" not in html and "<img" not in html and "\x1b" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    html.encode("utf-8")  # the lone surrogate was replaced, so the page can be written


@pytest.mark.parametrize("document", [_hostile_doctor(), _hostile_scan()])
def test_drive_strings_print_as_themselves_on_the_terminal(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, document: dict
) -> None:
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    code, out, _ = show(capsys, str(path))
    assert code == 0
    assert "\x1b" not in out  # no terminal escape from the drive gets through
    assert '<script>alert("x")</script>' in out and "[bold red]x[/]" in out


# --- the error map's cells ---


def _scan_view(**scan: object) -> ScanView:
    body = {"start": 0, "end": 999_999, "complete": True} | scan
    view = read_report({"kind": "scan", "device": "d", "scan": body}).body
    assert isinstance(view, ScanView)
    return view


def test_one_bad_sector_on_a_big_disc_still_marks_its_cell() -> None:
    view = _scan_view(bad=[{"first": 700_000, "last": 700_000}])
    cells = view.cells(100)
    assert cells.count(BAD) == 1 and cells[70] == BAD


def test_bad_wins_over_slow_and_an_interrupted_scan_leaves_the_rest_unread() -> None:
    view = _scan_view(
        complete=False,
        stopped_at=500_000,
        slow=[{"first": 0, "last": 199_999, "seconds": 9}],
        bad=[{"first": 150_000, "last": 150_000}],
    )
    cells = view.cells(10)
    assert cells == [SLOW, BAD, READ, READ, READ] + [UNREAD] * 5


def test_ranges_outside_the_scanned_part_draw_nothing() -> None:
    view = _scan_view(start=1000, end=1999, bad=[{"first": 0, "last": 999}])
    assert view.cells(10) == [READ] * 10


def test_write_report_pages_the_smallest_scan(tmp_path: Path) -> None:
    path = write_report("scan", "emu:x", {"scan": {"start": 0, "end": 0}}, str(tmp_path))
    html = Path(path).with_suffix(".html").read_text(encoding="utf-8")
    assert "every sector of LBA 0..0 read" in html and "no read speed measured" in html
