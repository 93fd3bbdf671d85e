"""Reports: every doctor and scan leaves a dated JSON file and an HTML page beside it.

The JSON is for tools and for `rescue report`; the HTML page (same stem,
``.html``) is for a person: it opens offline in any browser, with the scan's
speed curve and error map drawn in (``rescue.diagnostics.render``).

The folder is ``--reports DIR``, else ``$RESCUE_REPORTS`` (the boot image points
it at the USB stick's data partition), else ``./reports``; where ``./reports``
cannot be written (a read-only or foreign working folder) and neither was
named, the per-user state folder (``fallback_reports_dir``), and a note says
so: a read-only scan is not refused for want of a folder nobody chose. Names carry the kind,
the drive (model and serial, ``drive_tag``) and a UTC time stamp, so two drives'
reports are told apart and several runs never overwrite each other; the folder
is checked before a command starts its work (``reports_dir``) and only
the folder itself is ever created, never its missing parents (``rescue.outputs``).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import time

from rescue import __version__, outputs, paths
from rescue.errors import BadInput, RescueError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

ENV = "RESCUE_REPORTS"
DEFAULT = "reports"  # in the working folder
_NOTED: set[str] = set()


def reports_dir(option: str | None) -> Path:
    """``reports_folder`` as a ``Path``, for the commands that build names in it (flash,
    bench, the menu)."""
    from pathlib import Path

    return Path(reports_folder(option))


def reports_folder(option: str | None) -> str:
    """The reports folder, checked before any long work and created if missing.

    It must be a folder rescue can write into, or a missing one whose parent
    exists: only the folder itself is created, never a chain of missing parents
    (``rescue.outputs``). Every command that takes ``--reports`` resolves it here
    (through ``reports_dir`` where it wants a ``Path``); the text is spelled as
    pathlib spells it (``rescue.paths``): a scan does not import pathlib (issue 15).
    """
    chosen = option or os.environ.get(ENV)
    if chosen:
        return _ready(chosen)
    try:
        return _ready(DEFAULT)
    except BadInput as refused:
        try:
            folder = _ready(fallback_reports_dir(), parents=True)
        except BadInput:
            raise refused from None
        note = f"note: {refused.message}; reports go to {folder}"
        if note not in _NOTED:  # once a command, though the folder is checked again at the end
            _NOTED.add(note)
            print(f"{note} (--reports DIR or ${ENV} names another)", file=sys.stderr)
        return folder


def fallback_reports_dir() -> str:
    """Where reports go when ``./reports`` cannot be written and no folder was named.

    The XDG base directory specification's state folder (``$XDG_STATE_HOME``,
    default ``~/.local/state``), under ``rescue/reports``: it is the user's
    own, it outlives the command, and it is the same wherever the command ran.
    """
    state = os.environ.get("XDG_STATE_HOME", "")
    if not os.path.isabs(state):  # the specification: a relative path is to be ignored
        state = os.path.expanduser("~/.local/state")
    return paths.pure(os.path.join(state, "rescue", "reports"))


def _ready(chosen: str, *, parents: bool = False) -> str:
    if parents:  # only rescue's own fallback folder gets its missing parents made
        with contextlib.suppress(OSError):
            os.makedirs(paths.parent(chosen), exist_ok=True)
    folder = paths.pure(outputs.check_folder(chosen, "reports folder", may_create=True))
    try:
        os.mkdir(folder)
    except OSError as err:
        # An existing folder is what Path.mkdir(exist_ok=True) takes; anything else there is not.
        if not (isinstance(err, FileExistsError) and os.path.isdir(folder)):
            raise BadInput(
                f"reports folder {folder}: cannot create it: {err.strerror}",
                hint="pass --reports DIR with a writable folder",
            ) from None
    return paths.pure(outputs.check_folder(folder, "reports folder"))


def write_html_beside(
    json_path: str | os.PathLike[str], document: dict[str, Any], *, sync: bool = True
) -> str | os.PathLike[str]:
    """Write the HTML page of ``document`` next to its JSON file (same stem); returns it.

    ``document`` is what the JSON file holds: a doctor or scan report as
    ``write_report`` builds it, or a flash report (``FlashReport.to_dict()``).
    An existing file of that name is never replaced.

    The renderer is imported here, at the end of a command: a scan or a doctor
    run does not pay for it before its first READ. Returns the page's path, a ``Path``
    for a ``Path``; ``sync`` as for ``outputs.write_atomic``.
    """
    import json

    from rescue.diagnostics.render.html import render_html
    from rescue.diagnostics.render.model import read_report

    stem = paths.pure(json_path)
    as_stored = json.loads(json.dumps(document))  # draw what the file says (tuples are lists)
    page = render_html(read_report(as_stored, paths.name(stem)))
    try:
        written = outputs.write_atomic(_page_of(stem), page, "report page", sync=sync)
    except RescueError as err:
        raise type(err)(err.message, hint="pass --reports DIR with a writable folder") from None
    return paths.like(json_path, paths.pure(written))


def _page_of(json_path: str) -> str:
    """``Path(json_path).with_suffix(".html")``: the name's last suffix (a leading or a
    final dot is none) replaced, or ".html" added."""
    name = paths.name(json_path)
    dot = name.rfind(".")
    suffix = name[dot:] if 0 < dot < len(name) - 1 else ""
    return json_path[: len(json_path) - len(suffix)] + ".html"


def write_report(kind: str, device: str, body: dict[str, Any], directory: str | None) -> str:
    """Write ``body`` with a small header, and its HTML page; returns the JSON file written."""
    return _write(_document(kind, device, body), kind, directory)


def _document(kind: str, device: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": kind,
        "device": device,
        "created": _utc("%Y-%m-%dT%H:%M:%S+00:00"),  # datetime's isoformat, to the second
        "rescue_version": __version__,
        **body,
    }


def _utc(layout: str) -> str:
    """UTC now in ``layout`` (time.strftime's codes): the time module, which the interpreter
    has loaded already, where datetime cost a report's writer a module of its own."""
    return time.strftime(layout, time.gmtime())


def drive_tag(device: str, product: str = "") -> str:
    """The drive's part of a report name: ``MODEL-SERIAL``, safe on any file system.

    Read without sending the drive anything: an ``emu:`` spec gives its model's
    product and its ``serial=``; a real drive gives discovery's model and the
    kernel's copy of its unit serial (VPD 80h), else its USB bridge's serial,
    else its node's name, so two drives' reports differ even without a serial.
    ``product`` (the INQUIRY product a command read) stands in for an unknown model.
    Only letters, digits, '.' and '-' are kept (FAT32 takes no ':', '/', '*' ...).
    """
    model, serial = product, ""
    if device.startswith("emu:"):
        from rescue.emulator.registry import MODELS

        name, *pairs = device[len("emu:") :].split(",")
        info = MODELS.get(name)
        model = info.product if info is not None else name
        serial = dict(pair.partition("=")[::2] for pair in pairs).get("serial", "")
    elif not device.startswith("replay:"):
        from rescue.discovery import resolve
        from rescue.discovery.sysfs import sysfs_unit_serial

        try:
            node = resolve(device)
        except Exception:  # noqa: BLE001  (a name never fails the command it names)
            node = None
        if node is not None:
            bridge = node.path.bridge if node.path is not None else None
            model = node.model or model
            serial = (
                sysfs_unit_serial(node.sysfs_path)
                or (bridge.serial if bridge is not None else None)
                or paths.name(node.name)
            )
    parts = [_safe(model)[:32], _safe(serial)[:32]]
    return "-".join(part for part in parts if part)


def _safe(text: str | None) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "_", (text or "").strip()).strip("._-")


def _write(document: dict[str, Any], kind: str, directory: str | None) -> str:
    """The JSON file, then its page, each flushed and renamed into the folder, then the
    folder flushed once for both names (``rescue.outputs``: complete files or none)."""
    folder = reports_folder(directory)
    stamp = _utc("%Y%m%dT%H%M%SZ")
    text = _json_text(document)
    body = document.get(kind)
    identity = body.get("identity") if isinstance(body, dict) else None
    product = identity.get("product", "") if isinstance(identity, dict) else ""
    tag = drive_tag(str(document.get("device", "")), product)
    prefix = f"{kind}-{tag}" if tag else kind
    for n in range(1000):
        path = os.path.join(folder, f"{prefix}-{stamp}{f'-{n}' if n else ''}.json")
        if outputs.create_new(path, text, "report", sync=False):
            break
    else:
        raise BadInput(f"{folder}: too many {kind} reports stamped {stamp}")
    try:
        write_html_beside(path, document, sync=False)
    except RescueError:
        outputs.flush_folder(folder, "report", path)  # the JSON is whole: its name lasts too
        raise
    outputs.flush_folder(folder, "report", path)
    return path


def save_report(
    kind: str, device: str, body: dict[str, Any], directory: str | None
) -> tuple[str, list[RescueError]]:
    """``write_report``, but a failure keeps the JSON in the temp folder instead of losing it.

    Returns the file that holds the report and the errors met (the command
    prints its results first, then these, and exits with the first one's code).
    """
    document = _document(kind, device, body)
    try:
        return _write(document, kind, directory), []
    except RescueError as err:
        kept = outputs.keep_fallback(kind, _json_text(document), ".json")
        where = f"the report is kept in {kept}" if kept else "the report could not be kept"
        return kept or "(not saved)", [type(err)(f"{err.message}; {where}", hint=err.hint)]


def _json_text(document: dict[str, Any]) -> str:
    """The report file's text; json is imported when a report is written, not before a scan
    reads (issue 15)."""
    import json

    return json.dumps(document, indent=2, sort_keys=True) + "\n"
