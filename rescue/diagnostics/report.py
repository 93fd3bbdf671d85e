"""JSON reports: every doctor and scan leaves a dated file a person can keep or send.

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
from rescue.errors import BadInput

ENV = "RESCUE_REPORTS"


def reports_dir(option: str | None) -> Path:
    return Path(option or os.environ.get(ENV) or "reports")


def write_report(kind: str, device: str, body: dict[str, Any], directory: str | None) -> Path:
    """Write ``body`` with a small header; returns the file written."""
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
                return path
            except FileExistsError:
                continue
    except OSError as err:
        raise BadInput(
            f"cannot write a report into {folder}: {err.strerror}",
            hint="pass --reports DIR with a writable folder",
        ) from None
    raise BadInput(f"{folder}: too many {kind} reports stamped {stamp}")
