"""The drive table: which INQUIRY strings each family serves, shipped rows plus the user's.

The shipped rows are ``rescue/data/families.json``. A user extends the table
without rebuilding anything, with files of the same shape::

    {"families": {"plextor": {"drives": [
        {"vendor": "PLEXTOR", "product": "DVDR PX-716A", "params": {"chunk": 16384},
         "aliases": ["PX-716A"], "source": "what my drive's INQUIRY says"}]}}}

Where user files come from (in this order):

- every ``*.json`` in the drives folder: ``$RESCUE_DRIVES_DIR``, else
  ``/data/drives.d`` when it exists (the boot image mounts the stick's data
  partition at ``/data``, beside ``firmware/`` and ``reports/``);
- every ``--drives FILE`` given on the command line (``rescue.cli``).

User rows are added after the shipped ones and never replace them: a drive a
shipped row serves keeps that row's family (``rescue.families.match_drive``
tries every shipped row before any user row). Each row remembers the file it
came from (``DrivePattern.origin``), so ``rescue info`` can say which file
made a drive known.

A user file is checked before any command is sent: an unknown family, a
missing or non-string field, an unknown key, or parameters a family does not
take (a Plextor row needs ``chunk``, an int of the sizes the public flashers
use) is a ``BadInput`` (exit 5) of one line naming the file and the entry.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path

from rescue.errors import BadInput
from rescue.families.base import DrivePattern
from rescue.record import fields, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import Any, NoReturn

DRIVES_DIR_ENV = "RESCUE_DRIVES_DIR"
DATA_DRIVES_DIR = Path("/data/drives.d")

#: A drive table is a few KiB of JSON; anything past 1 MiB is not one.
USER_FILE_LIMIT = 1 << 20


@record(frozen=True)
class Param:
    """One per-drive protocol parameter a family reads from its row."""

    kind: type
    required: bool = False
    allowed: tuple[Any, ...] = ()


#: The parameters each family reads from a row (families not named take none).
#: Plextor's chunk sizes are the two the public flashers use (plextor.py: redumper,
#: pxfw); MT1959's config_id is the configuration block's start (mt1959.py).
PARAMS: dict[str, dict[str, Param]] = {
    "plextor": {"chunk": Param(int, required=True, allowed=(0x1000, 0x4000))},
    "mt1959": {"config_id": Param(str)},
}
_TOP_KEYS = ("families", "about")


def row_keys() -> tuple[str, ...]:
    """The keys a row may have: DrivePattern's fields, except where it came from."""
    return tuple(f.name for f in fields(DrivePattern) if f.name != "origin")


@cache
def shipped_table() -> dict[str, dict[str, Any]]:
    """The shipped drive table as stored, keyed by family name."""
    from rescue.shipped import read_shipped

    table: dict[str, dict[str, Any]] = json.loads(read_shipped("families.json"))["families"]
    return table


def required_params(family: str) -> list[str]:
    return [name for name, param in PARAMS.get(family, {}).items() if param.required]


# --- which user files ------------------------------------------------------------------------

_explicit: list[Path] = []  # --drives FILE of the command running now


def drives_dir() -> Path | None:
    """The drives.d folder: $RESCUE_DRIVES_DIR, else /data/drives.d on the stick if present."""
    configured = os.environ.get(DRIVES_DIR_ENV)
    if configured:
        return Path(configured)
    return DATA_DRIVES_DIR if DATA_DRIVES_DIR.is_dir() else None


def explicit_files() -> list[Path]:
    """The --drives files in force (the menu hands them on to the commands it runs)."""
    return list(_explicit)


def user_files() -> list[Path]:
    folder = drives_dir()
    found = sorted(folder.glob("*.json")) if folder is not None and folder.is_dir() else []
    return [*found, *(p for p in _explicit if p not in found)]


@contextlib.contextmanager
def using(files: Sequence[str | Path], *, check: bool = True) -> Iterator[None]:
    """Add ``files`` (--drives) to the table while a command runs; check every user file first."""
    global _explicit
    previous = _explicit
    _explicit = [Path(f) for f in files]
    try:
        if check:
            user_rows()
        yield
    finally:
        _explicit = previous


# --- loading and checking --------------------------------------------------------------------


def user_rows() -> dict[str, list[DrivePattern]]:
    """Every user file's rows by family, in file order; BadInput at the first bad entry."""
    merged: dict[str, list[DrivePattern]] = {}
    for path in user_files():
        try:
            stat = path.stat()
        except OSError as err:
            raise BadInput(
                f"drive table {path}: {err.strerror}",
                hint="name an existing file with --drives FILE; nothing was sent",
            ) from None
        for family, rows in _load_file(str(path), stat.st_mtime_ns, stat.st_size).items():
            merged.setdefault(family, []).extend(rows)
    return merged


def rows_for(family: str) -> list[DrivePattern]:
    """The shipped rows of ``family``, then the user's."""
    shipped = [DrivePattern(**row) for row in shipped_table()[family].get("drives", [])]
    return shipped + user_rows().get(family, [])


@cache
def _load_file(path: str, mtime_ns: int, size: int) -> dict[str, list[DrivePattern]]:
    """One user file, checked (cached per path, modification time and size)."""
    from rescue.errors import RescueError
    from rescue.inputs import read_user_text

    try:  # a FIFO or a device node must not hang the command: read_user_text refuses them
        document = json.loads(read_user_text(path, "drive table file", USER_FILE_LIMIT))
    except RescueError as err:
        _bad(path, err.message)
    except json.JSONDecodeError as err:
        _bad(path, f"not JSON (line {err.lineno} column {err.colno}: {err.msg})")
    except RecursionError:
        _bad(path, "not a drive table (JSON nested too deeply)")
    if not isinstance(document, dict) or not isinstance(document.get("families"), dict):
        _bad(path, 'want {"families": {NAME: {"drives": [rows]}}} at the top')
    for key in document:
        if key not in _TOP_KEYS:
            _bad(path, f"unknown top-level key {key!r} (keys: {', '.join(_TOP_KEYS)})")
    known = list(shipped_table())
    rows: dict[str, list[DrivePattern]] = {}
    for family, entry in document["families"].items():
        where = f"families.{family}"
        if family not in known:
            _bad(path, f"{where}: unknown family (families: {', '.join(known)})")
        if not isinstance(entry, dict) or not isinstance(entry.get("drives"), list):
            _bad(path, f'{where}: want {{"drives": [rows]}}')
        for key in entry:
            if key != "drives":
                _bad(path, f"{where}: unknown key {key!r} (only 'drives')")
        rows[family] = [
            _row(path, f"{where}.drives[{index}]", family, row)
            for index, row in enumerate(entry["drives"])
        ]
    return rows


def _row(path: str, where: str, family: str, row: object) -> DrivePattern:
    if not isinstance(row, dict):
        _bad(path, f"{where}: a row is an object with vendor, product, ...")
    named = " ".join(row[k].strip() for k in ("vendor", "product") if isinstance(row.get(k), str))
    named = named.strip()
    if named:
        where += f" ({named})"
    keys = row_keys()
    for key in row:
        if key not in keys:
            _bad(path, f"{where}: unknown key {key!r} (keys: {', '.join(keys)})")
    for key in ("vendor", "product"):
        if key not in row:
            _bad(path, f"{where}: missing {key!r}")
    for key in ("vendor", "product", "revision", "source"):
        if key in row and not isinstance(row[key], str):
            _bad(path, f"{where}: {key!r} must be a string, not {_kind(row[key])}")
        if key in ("vendor", "product", "revision") and key in row and not row[key].strip():
            _bad(path, f"{where}: {key!r} is empty")
    if all(set(row[key].strip()) <= {"*"} for key in ("vendor", "product")):
        _bad(path, f"{where}: vendor and product both match anything (it would claim every drive)")
    aliases = row.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        _bad(path, f"{where}: 'aliases' must be a list of strings")
    params = row.get("params", {})
    _check_params(path, where, family, params)
    return DrivePattern(
        vendor=row["vendor"],
        product=row["product"],
        revision=row.get("revision", "*"),
        params=dict(params),
        aliases=tuple(aliases),
        source=row.get("source", ""),
        origin=path,
    )


def _check_params(path: str, where: str, family: str, params: object) -> None:
    if not isinstance(params, dict):
        _bad(path, f"{where}: 'params' must be an object, not {_kind(params)}")
    takes = PARAMS.get(family, {})
    for name, value in params.items():
        rule = takes.get(name)
        if rule is None:
            offered = ", ".join(takes) if takes else "none"
            _bad(path, f"{where}: {family} takes no parameter {name!r} (it takes: {offered})")
        if not isinstance(value, rule.kind) or isinstance(value, bool):
            _bad(path, f"{where}: params.{name} must be {rule.kind.__name__}, not {_kind(value)}")
        if rule.allowed and value not in rule.allowed:
            allowed = ", ".join(str(a) for a in rule.allowed)
            _bad(path, f"{where}: params.{name} is {value!r}, want one of {allowed}")
    for name in required_params(family):
        if name not in params:
            _bad(path, f"{where}: the {family} family needs params.{name}")


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", type(None): "null", bool: "true/false"}.get(
        type(value), type(value).__name__
    )


def _bad(path: str, what: str) -> NoReturn:
    raise BadInput(
        f"drive table {path}: {what}",
        hint="fix that entry (the shape is that of rescue/data/families.json) or remove "
        "the file; nothing was sent",
    )
