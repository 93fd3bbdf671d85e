"""The bench session's summary: one JSON file and one HTML page with a row per drive."""

from __future__ import annotations

import json
import os
from pathlib import Path

from rescue import __version__, outputs
from rescue.bench.runner import DriveResult
from rescue.diagnostics.render.html import _CSP, _STYLE, _dl, _e, _table

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import Any


def document(
    job: str, image: str | None, results: list[DriveResult], started: str, seconds: float, code: int
) -> dict[str, Any]:
    return {
        "kind": "bench",
        "rescue_version": __version__,
        "job": job,
        "image": image,
        "started": started,
        "seconds": round(seconds, 3),
        "exit_code": code,
        "succeeded": sum(r.ok for r in results),
        "drives": [r.to_dict() for r in results],
    }


def save(base: Path, doc: dict[str, Any]) -> tuple[Path, Path]:
    """``BASE.json`` and ``BASE.html``; returns both paths."""
    json_path = base.with_suffix(".json")
    outputs.write_atomic(json_path, json.dumps(doc, indent=2) + "\n", "bench summary")
    page = outputs.write_atomic(base.with_suffix(".html"), render(doc, base.parent), "bench page")
    return json_path, page


def _revision(drive: dict[str, str] | None) -> str:
    return (drive or {}).get("revision", "")


def _link(path: str | None, folder: Path) -> str:
    """A link to the drive's own report page, relative to the summary's folder."""
    if not path:
        return ""
    page = Path(path).with_suffix(".html")
    try:
        href = os.path.relpath(page, folder)
    except ValueError:
        href = str(page)
    return f'<a href="{_e(href)}">{_e(page.name)}</a>'


def render(doc: dict[str, Any], folder: Path) -> str:
    drives = doc["drives"]
    good = doc["exit_code"] == 0
    outcome = f"{doc['succeeded']} of {len(drives)} drives succeeded" + (
        "" if good else f" (exit {doc['exit_code']})"
    )
    header = _dl(
        [
            ("job", doc["job"]),
            ("image", doc["image"]),
            ("started", doc["started"]),
            ("wall time", f"{doc['seconds']:.1f} s"),
            ("rescue", doc["rescue_version"]),
        ]
    )
    rows = [
        [
            str(d["index"] + 1),
            f"{d['seconds']:.1f}",
            d["device"],
            " ".join(
                x
                for x in ((d["drive_before"] or {}).get(k, "") for k in ("vendor", "product"))
                if x
            ),
            _revision(d["drive_before"]),
            _revision(d["drive_after"]),
            d["result"],
            str(d["exit_code"]),
            d["message"] or "",
        ]
        for d in drives
    ]
    table = _table(
        ["#", "seconds", "drive", "identity", "before", "after", "result", "exit", "details"],
        rows,
        numeric=2,
    )
    links = "".join(
        f"<li>{_e(d['device'])}: {_link(d['report'], folder) or 'no report'}</li>" for d in drives
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>rescue bench: {_e(doc['job'])}</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>rescue bench: {_e(doc['job'])} on {len(drives)} drives</h1>"
        f'<p class="outcome {"good" if good else "bad"}">{_e(outcome)}</p>{header}</header>'
        f"<main><h2>Drives</h2>{table}<h2>Reports</h2><ul>{links}</ul></main>"
        "<footer>Written by rescue bench. The JSON file beside this page holds every detail."
        "</footer></body></html>\n"
    )
