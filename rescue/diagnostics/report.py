"""Reports: every doctor and scan leaves a dated JSON file and an HTML page beside it.

The JSON is for tools and for `rescue report`; the HTML page (same stem,
``.html``) is for a person: it opens offline in any browser, with the scan's
speed curve and error map drawn in (``rescue.diagnostics.render``).

The folder is ``--reports DIR``, else ``$RESCUE_REPORTS`` (the boot image points
it at the USB stick's data partition), else ``./reports``. Names carry the kind
and a UTC time stamp so several runs never overwrite each other.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rescue import __version__
from rescue.diagnostics.render.html import render_html
from rescue.diagnostics.render.model import read_report
from rescue.errors import BadInput

ENV = "RESCUE_REPORTS"


def reports_dir(option: str | None) -> Path:
    return Path(option or os.environ.get(ENV) or "reports")


def write_html_beside(json_path: Path, document: dict[str, Any]) -> Path:
    """Write the HTML page of ``document`` next to its JSON file (same stem); returns it.

    ``document`` is what the JSON file holds: a doctor or scan report as
    ``write_report`` builds it, or a flash report (``FlashReport.to_dict()``).
    """
    path = json_path.with_suffix(".html")
    as_stored = json.loads(json.dumps(document))  # draw what the file says (tuples are lists)
    page = render_html(read_report(as_stored, json_path.name))
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as err:
        raise BadInput(
            f"cannot write the report page {path}: {err.strerror}",
            hint="pass --reports DIR with a writable folder",
        ) from None
    return path


def write_report(kind: str, device: str, body: dict[str, Any], directory: str | None) -> Path:
    """Write ``body`` with a small header, and its HTML page; returns the JSON file written."""
    folder = reports_dir(directory)
    now = datetime.now(UTC)
    document = {
        "kind": kind,
        "device": device,
        "created": now.isoformat(timespec="seconds"),
        "rescue_version": __version__,
        **body,
    }
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for n in range(1000):
            path = folder / f"{kind}-{stamp}{f'-{n}' if n else ''}.json"
            try:
                with path.open("x", encoding="utf-8") as out:
                    json.dump(document, out, indent=2, sort_keys=True)
                    out.write("\n")
                break
            except FileExistsError:
                continue
        else:
            raise BadInput(f"{folder}: too many {kind} reports stamped {stamp}")
    except OSError as err:
        raise BadInput(
            f"cannot write a report into {folder}: {err.strerror}",
            hint="pass --reports DIR with a writable folder",
        ) from None
    write_html_beside(path, document)
    return path
