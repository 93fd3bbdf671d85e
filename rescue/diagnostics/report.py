"""Reports: every doctor and scan leaves a dated JSON file and an HTML page beside it.

The JSON is for tools and for `rescue report`; the HTML page (same stem,
``.html``) is for a person: it opens offline in any browser, with the scan's
speed curve and error map drawn in (``rescue.diagnostics.render``).

The folder is ``--reports DIR``, else ``$RESCUE_REPORTS`` (the boot image points
it at the USB stick's data partition), else ``./reports``. Names carry the kind
and a UTC time stamp so several runs never overwrite each other; the folder
is checked before a command starts its work (``reports_dir``) and only
the folder itself is ever created, never its missing parents (``rescue.outputs``).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rescue import __version__, outputs
from rescue.diagnostics.render.html import render_html
from rescue.diagnostics.render.model import read_report
from rescue.errors import BadInput, RescueError

ENV = "RESCUE_REPORTS"


def reports_dir(option: str | None) -> Path:
    """The reports folder, checked before any long work and created if missing.

    It must be a folder rescue can write into, or a missing one whose parent
    exists: only the folder itself is created, never a chain of missing parents
    (``rescue.outputs``). Every command that takes ``--reports`` resolves it here.
    """
    folder = outputs.check_folder(_chosen(option), "reports folder", may_create=True)
    try:
        folder.mkdir(exist_ok=True)
    except OSError as err:
        raise BadInput(
            f"reports folder {folder}: cannot create it: {err.strerror}",
            hint="pass --reports DIR with a writable folder",
        ) from None
    return outputs.check_folder(folder, "reports folder")


def _chosen(option: str | None) -> Path:
    return Path(option or os.environ.get(ENV) or "reports")


def write_html_beside(json_path: Path, document: dict[str, Any]) -> Path:
    """Write the HTML page of ``document`` next to its JSON file (same stem); returns it.

    ``document`` is what the JSON file holds: a doctor or scan report as
    ``write_report`` builds it, or a flash report (``FlashReport.to_dict()``).
    An existing file of that name is never replaced.
    """
    path = json_path.with_suffix(".html")
    as_stored = json.loads(json.dumps(document))  # draw what the file says (tuples are lists)
    page = render_html(read_report(as_stored, json_path.name))
    try:
        return outputs.write_atomic(path, page, "report page")
    except RescueError as err:
        raise type(err)(err.message, hint="pass --reports DIR with a writable folder") from None


def write_report(kind: str, device: str, body: dict[str, Any], directory: str | None) -> Path:
    """Write ``body`` with a small header, and its HTML page; returns the JSON file written."""
    return _write(_document(kind, device, body), kind, directory)


def _document(kind: str, device: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": kind,
        "device": device,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "rescue_version": __version__,
        **body,
    }


def _write(document: dict[str, Any], kind: str, directory: str | None) -> Path:
    folder = reports_dir(directory)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    for n in range(1000):
        path = folder / f"{kind}-{stamp}{f'-{n}' if n else ''}.json"
        if outputs.create_new(path, text, "report"):
            break
    else:
        raise BadInput(f"{folder}: too many {kind} reports stamped {stamp}")
    write_html_beside(path, document)
    return path


def save_report(
    kind: str, device: str, body: dict[str, Any], directory: str | None
) -> tuple[Path, list[RescueError]]:
    """``write_report``, but a failure keeps the JSON in the temp folder instead of losing it.

    Returns the file that holds the report and the errors met (the command
    prints its results first, then these, and exits with the first one's code).
    """
    document = _document(kind, device, body)
    try:
        return _write(document, kind, directory), []
    except RescueError as err:
        text = json.dumps(document, indent=2, sort_keys=True) + "\n"
        kept = outputs.keep_fallback(kind, text, ".json")
        where = f"the report is kept in {kept}" if kept else "the report could not be kept"
        return kept or Path("(not saved)"), [type(err)(f"{err.message}; {where}", hint=err.hint)]
