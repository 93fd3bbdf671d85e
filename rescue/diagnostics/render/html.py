"""A report as one self-contained HTML page: readable offline, on any machine.

The page carries its own CSS and the chart as inline SVG; it loads nothing, and
its Content-Security-Policy forbids scripts and remote loads, so even a hostile
string that slipped past escaping could not run or call home. Every value from
the document goes through ``fields.escape`` (drive-supplied vendor and product
strings are untrusted), in one place: the ``_e`` helper below.
"""

from __future__ import annotations

from collections.abc import Iterable

from rescue.diagnostics.render.fields import escape
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
from rescue.diagnostics.render.svg import CELL_COLOURS, scan_chart

_STYLE = """
body{font-family:sans-serif;margin:1.2em auto;max-width:1000px;color:#222;padding:0 12px}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.2em 0 .4em}
.outcome{font-size:1.15em;font-weight:bold;padding:.3em .6em;border-radius:4px;margin:.3em 0}
.good{background:#e3f4e6;color:#1d6b2f}.bad{background:#fbe4e6;color:#9b1c2a}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em;margin:.4em 0}
dt{color:#666}dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top;
overflow-wrap:anywhere}
th{background:#f3f3f3;white-space:nowrap;overflow-wrap:normal}.num{text-align:right;white-space:nowrap}
.legend span{display:inline-block;margin-right:1.2em}
.swatch{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-.1em}
.ok{color:#1d6b2f}.refused,.failed{color:#9b1c2a;font-weight:bold}.skipped,.overridden{color:#8a5a00}
svg{max-width:100%;height:auto}footer{margin-top:2em;color:#777;font-size:.85em}
"""

_OUTCOME_STYLES = ("ok", "refused", "failed", "skipped", "overridden")  # classes in _STYLE
_NUM = ' class="num"'
_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _e(value: object) -> str:
    """The one way a value enters the page: as escaped text."""
    return escape(str(value))


def _dl(rows: Rows) -> str:
    items = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows if v is not None)
    return f"<dl>{items}</dl>"


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]], numeric: int = 0) -> str:
    """A table; the first ``numeric`` columns are right-aligned numbers."""
    head = "".join(f"<th{_NUM if i < numeric else ''}>{_e(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>"
        + "".join(f"<td{_NUM if i < numeric else ''}>{_e(cell)}</td>" for i, cell in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _scan(scan: ScanView) -> str:
    legend = "".join(
        f'<span><i class="swatch" style="background:{CELL_COLOURS[state]}"></i>{state}</span>'
        for state in (READ, SLOW, WEAK, BAD, UNREAD)
    )
    parts = [
        "<h2>Read speed over the disc, and the error map</h2>",
        scan_chart(scan),
        f'<p class="legend">{legend}</p>',
        "<h2>Unreadable sectors</h2>",
        _table(BAD_HEADERS, scan.bad_rows(), numeric=3)
        if scan.bad
        else "<p>None: every sector scanned was read.</p>",
    ]
    if scan.weak:
        parts += [
            "<h2>Weak sectors: read, but with C2 errors (copy this disc soon)</h2>",
            _table(WEAK_HEADERS, scan.weak_rows(), numeric=2),
        ]
    if scan.slow:
        parts += ["<h2>Slow areas</h2>", _table(SLOW_HEADERS, scan.slow_rows(), numeric=3)]
    parts += ["<h2>Details</h2>", _dl(scan.facts())]
    return "".join(parts)


def _read_test(test: ReadTest) -> str:
    probes = test.probe_rows()
    steps = "".join(f"<li>{_e(s)}</li>" for s in test.next_steps)
    return (
        _table(PROBE_HEADERS, probes) if probes else "<p>No disc was read.</p>"
    ) + f"<h2>Next steps</h2><ol>{steps or '<li>nothing to do</li>'}</ol>"


def _doctor(doc: DoctorView) -> str:
    return f"<h2>Findings</h2>{_dl(doc.facts())}<h2>Read test</h2>{_read_test(doc.test)}"


def _flash(fl: FlashView) -> str:
    checks = "".join(
        f"<tr><td>{_e(c.name)}</td>"
        f'<td class="{c.outcome if c.outcome in _OUTCOME_STYLES else ""}">{_e(c.outcome)}</td>'
        f"<td>{_e(c.detail)}</td></tr>"
        for c in fl.preflight
    )
    table = f"<table><tr><th>check</th><th>outcome</th><th>detail</th></tr>{checks}</table>"
    parts = f"<h2>What happened</h2>{_dl(fl.facts())}<h2>Pre-flight checks</h2>{table}"
    if fl.read_test is not None:
        verdict, good = fl.read_test.outcome()
        parts += (
            "<h2>Read test after the flash</h2>"
            f'<p class="outcome {"good" if good else "bad"}">{_e(verdict)}</p>'
            + _read_test(fl.read_test)
        )
    return parts


def _body(body: Body) -> str:
    if isinstance(body, ScanView):
        return _scan(body)
    if isinstance(body, DoctorView):
        return _doctor(body)
    return _flash(body)


def render_html(report: Report) -> str:
    """The whole page for one report."""
    outcome, good = report.body.outcome()
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(report.title)}</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>{_e(report.title)}</h1>"
        f'<p class="outcome {"good" if good else "bad"}">{_e(outcome)}</p>'
        f"{_dl(report.header())}</header>"
        f"<main>{_body(report.body)}</main>"
        "<footer>Written by rescue. The JSON file beside this page holds every detail; "
        "`rescue report FILE` shows it on a terminal.</footer></body></html>\n"
    )
