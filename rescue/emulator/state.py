"""An emulated drive's ``state=`` file, and the marker that says it is one.

Why a marker: the state file holds the drive's flash as a plain image (so
anyone can inspect it, or compare it with a firmware file), which makes it
indistinguishable by its bytes from a user's firmware image of the same size.
Without a mark, ``state=fw.bin`` aimed at a real image would start the drive
from it and replace it after the next flash. So rescue writes a small JSON
file beside the state, ``NAME.emu.json`` (``FORMAT`` and ``VERSION``),
before it first creates ``NAME``, and treats an existing ``NAME`` as the
drive's flash only when that marker is there. Everything else is refused with
one line and exit code 2 (a bad DEV spec, as the README's table has it), and
both files are left as they were:

- ``NAME`` exists without a marker (a user's file, or a state file from a
  rescue older than the marker: the hint says how to start from it with
  ``image=NAME`` and a new ``state=``);
- ``NAME.emu.json`` exists but is not rescue's marker, or is of a version this
  rescue does not read;
- either path is not a regular file in a folder rescue may write
  (``rescue.outputs.check_file``).

A missing ``NAME`` is created (marker first, then the flash, each atomic and
durable), so a crash in between leaves a marker and no state, which the next
run simply creates again. The marker is written once: the format does not
change with the flash.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from rescue import durable
from rescue.errors import BadInput, RescueError, UsageError

SUFFIX = ".emu.json"
FORMAT = "rescue emulated drive state"
VERSION = 1


def marker_path(state: str | os.PathLike[str]) -> Path:
    """Where the marker of the state file ``state`` lives."""
    path = Path(state)
    return path.with_name(path.name + SUFFIX)


def _marker_text(state: Path) -> bytes:
    note = f"{state.name} is the flash of an emulated drive; rescue writes it only beside this file"
    return (json.dumps({"format": FORMAT, "version": VERSION, "about": note}) + "\n").encode()


def load(state: str, size: int) -> bytes | None:
    """The flash saved at ``state``, or None when there is none yet (it will be created).

    Raises ``UsageError`` (exit code 2) when ``state`` may not be used; nothing
    is written here.
    """
    if not Path(state).name or state.endswith("/"):  # ".", "/", "new/": a folder's name
        raise UsageError(
            f"state={state}: names a folder; the drive's flash goes only into a regular file",
            hint="name a new file for state=",
        )
    path, marker = Path(state), marker_path(state)
    _check_writable(path, state)
    mine = _is_marker(marker, state)
    if not mine:
        _check_writable(marker, state, marker=True)
    if not os.path.lexists(path):
        return None
    if not mine:
        raise UsageError(
            f"state={state}: exists and is not an emulated drive's state file "
            f"(no {marker.name} beside it); rescue left it as it was",
            hint=f"name a new file for state=; to start the drive from this file (a state "
            f"file of an older rescue too), give image={state} and a new state=",
        )
    return _read(path, size)


def save(state: str, flash: bytes) -> None:
    """Write ``flash`` to ``state`` atomically and durably, its marker first when new.

    The OS refusing (a full or read-only disc, a folder gone) is ``BadInput`` naming the
    file, raised where the drive saves its flash (the flash's wait): it was an OSError
    with no path, exit 1 and no report, though the state file still holds its old flash.
    """
    path = Path(state)
    marker = marker_path(path)
    try:
        if not os.path.lexists(marker):
            durable.write_bytes(marker, _marker_text(path))
        durable.write_bytes(path, flash)
    except OSError as err:
        raise BadInput(
            f"state={state}: the emulated drive's new flash could not be saved "
            f"({err.strerror or err}); the file keeps the flash it had before",
            hint="make room (or name a new state= file), then run the same command again",
        ) from None


def _check_writable(path: Path, state: str, *, marker: bool = False) -> None:
    """``rescue.outputs.check_file`` (the marker: a new file only), naming the spec key."""
    from rescue.outputs import Existing, check_file

    existing = Existing.REFUSE if marker else Existing.UPDATE
    try:
        check_file(path, "state", existing=existing)
    except RescueError as err:
        said = f"state={state}: its marker {path.name}" if marker else f"state={state}"
        message = said + err.message.removeprefix(f"state {path}")
        raise UsageError(message, hint=err.hint) from None


def _is_marker(marker: Path, state: str) -> bool:
    """True when ``marker`` is rescue's marker of this version; False when it is missing."""
    from rescue.inputs import read_user_file

    if not os.path.lexists(marker):
        return False
    try:
        found = json.loads(read_user_file(marker, "state marker", 4096))
    except (RescueError, ValueError):
        return False  # a special file, too big, or not JSON: not ours (check_file says why)
    if not isinstance(found, dict) or found.get("format") != FORMAT:
        return False
    if found.get("version") != VERSION:
        raise UsageError(
            f"state={state}: its marker {marker.name} "
            f"is of format version {found.get('version')!r}; this rescue reads version {VERSION}",
            hint="use the rescue that wrote it, or name a new file for state=",
        )
    return True


def _read(path: Path, size: int) -> bytes:
    from rescue.inputs import read_user_file

    try:  # never a device node, a FIFO or a /proc file (rescue.inputs)
        flash = read_user_file(path, "state file", size + 1)
    except RescueError as err:
        reason = err.message.removeprefix(f"{path}: ")
        raise UsageError(f"state={path}: cannot read it ({reason})", hint=err.hint) from None
    if len(flash) != size:
        raise UsageError(
            f"state={path}: not a {size}-byte flash image ({len(flash)} bytes)",
            hint="this model's state holds its whole flash; name a new file for state=",
        )
    return flash
