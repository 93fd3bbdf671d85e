"""A JSON-lines record of every command sent, so a field failure can be replayed.

One line per command: wall time, device, CDB, direction, lengths, a sha256 of
the data both ways (and the data itself when it is small enough to keep),
status, sense and duration; or the error the carrier raised.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from pathlib import Path

from rescue import durable
from rescue.errors import RescueError
from rescue.transport.base import direction_of

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import IO

    from rescue.transport.base import Result

#: Data up to this size is kept verbatim (one BTC chunk is 4 KiB).
KEEP_DATA_BYTES = 4096
#: A journal's first line is one command record: far below this.
FIRST_LINE_BYTES = 64 * 1024
#: The largest journal ``read_journal`` loads (a 2 MiB flash with its data kept is ~6 MiB).
READ_LIMIT = 256 * 1024 * 1024


#: One command record, keys in sorted order with ``json.dumps``'s separators: the line
#: ``json.dumps(entry, sort_keys=True)`` would give, built without encoding the data's
#: hex (up to 8 KiB a line) character by character (docs/architecture.md, "The journal").
_RECORD = (
    '{"cdb": "%s", "device": %s, "direction": "%s", "driver_status": %d, "duration": %r, '
    '"host_status": %d, "in_data": %s, "in_len": %d, "in_sha256": %s, "out_data": %s, '
    '"out_len": %d, "out_sha256": %s, "residual": %d, "sense": "%s", "status": %d, '
    '"time": %r}\n'
)


def _text(value: str | None) -> str:
    """A hex string (no character JSON escapes) or None, as JSON."""
    return "null" if value is None else f'"{value}"'


def digest(data: bytes | None) -> str | None:
    # imported on a journal's first record, not with the transport: a scan without
    # --journal never loads hashlib's OpenSSL backend (issue 15)
    from hashlib import sha256

    return None if data is None else sha256(data).hexdigest()


def _kept(data: bytes | None) -> str | None:
    if data is None or len(data) > KEEP_DATA_BYTES:
        return None
    return data.hex()


class Journal:
    """Appends entries to a file; flushed per line so a crash of rescue loses nothing.

    A line reaches the kernel at once, the medium when the journal is closed
    (``close``: fsync of the file and its folder). Not per command: a flash
    sends hundreds, and an fsync each on a USB stick would slow it for
    nothing the kernel does not already keep if only rescue dies.

    The file is checked first (``rescue.outputs``): a new file in an existing
    folder, or a journal rescue wrote before (its first line a command record);
    anything else (a firmware image, a device node, a FIFO, a folder, a link)
    is refused with one line before a command is sent. A journal whose last
    line was torn by a crash gets a newline first, so the new records start a
    line of their own.

    A line that cannot be written (a full or pulled medium) never stops the
    command in flight: the journal keeps the first error in ``failure``, counts
    the lines it lost in ``lost`` and writes no more. ``close`` then leaves it
    for the command's end to tell (``untold_losses``, read by ``rescue.cli`` once
    the command has printed its results, so no summary is lost to it), unless
    ``caller_reports_failure`` says the caller reports it itself (a flash must
    go on to its wait and verify once the commit is sent: issue 11).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        check_journal_target(path)
        self.path = Path(path)
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(self.path, flags | os.O_NONBLOCK, 0o666)
        except OSError as err:
            raise _cannot(self.path, err) from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):  # swapped in since the check
                raise _bad(f"--journal {self.path}: not a regular file; nothing was sent")
            if info.st_size and os.pread(fd, 1, info.st_size - 1) != b"\n":  # torn by a crash
                os.write(fd, b"\n")
        except (OSError, RescueError) as err:
            os.close(fd)
            raise err if isinstance(err, RescueError) else _cannot(self.path, err) from None
        self._fh: IO[bytes] = os.fdopen(fd, "ab")
        self._devices: dict[str, str] = {}  # each device name as JSON, encoded once
        self.count = 0
        self.failure: str | None = None  # the first write error, once a line is lost
        self.lost = 0
        self.caller_reports_failure = False

    def _write(self, line: str) -> None:
        """One line, handed to the kernel at once: a crash of rescue loses none of them."""
        if self.failure is not None:
            self.lost += 1
            return
        try:
            self._fh.write(line.encode())
            self._fh.flush()
        except OSError as err:
            self.failure = err.strerror or str(err)
            self.lost += 1
            return
        self.count += 1

    def incomplete(self) -> str | None:
        """What the journal misses and why, once a line could not be written."""
        if self.failure is None:
            return None
        return f"{self.path}: {self.failure}; the last {self.lost} command(s) are not in it"

    def _base(
        self, device: str, cdb: bytes, data_out: bytes | None, data_in: int
    ) -> dict[str, object]:
        return {
            "time": time.time(),
            "device": device,
            "cdb": cdb.hex(),
            "direction": direction_of(data_out, data_in).value,
            "out_len": 0 if data_out is None else len(data_out),
            "out_sha256": digest(data_out),
            "out_data": _kept(data_out),
            "in_len": data_in,
        }

    def record(
        self, device: str, cdb: bytes, data_out: bytes | None, data_in: int, result: Result
    ) -> None:
        """A command's line (``_RECORD``); its data kept whole up to ``KEEP_DATA_BYTES``."""
        quoted = self._devices.get(device)
        if quoted is None:  # json: a journal's first record, not a plain scan's start (issue 15)
            import json

            quoted = self._devices[device] = json.dumps(device)
        data = result.data if data_in else None
        line = _RECORD % (
            cdb.hex(),
            quoted,
            direction_of(data_out, data_in),  # a StrEnum: %s writes its value
            result.driver_status,
            round(result.duration, 6),
            result.host_status,
            _text(_kept(data)),
            data_in,
            _text(digest(data)),
            _text(_kept(data_out)),
            0 if data_out is None else len(data_out),
            _text(digest(data_out)),
            result.residual,
            result.sense.hex(),
            result.status,
            time.time(),
        )
        self._write(line)

    def record_error(
        self,
        device: str,
        cdb: bytes,
        data_out: bytes | None,
        data_in: int,
        error: RescueError,
        duration: float,
    ) -> None:
        import json

        entry = self._base(device, cdb, data_out, data_in)
        entry.update(error=type(error).__name__, message=error.message, duration=duration)
        self._write(json.dumps(entry, sort_keys=True) + "\n")

    def close(self) -> None:
        """Put the journal on the medium and close it; safe to call twice.

        The transport closes its journal when it is closed (``Transport.__exit__``),
        before the command names the journal as saved.
        """
        if self._fh.closed:
            return
        try:
            with self._fh:
                durable.flush(self._fh)
            durable.sync_folder(self.path.parent)
        except OSError as err:
            self.failure = self.failure or err.strerror or str(err)
        if self.failure is not None and not self.caller_reports_failure:
            _untold.append(_unsaved(self.path, self.failure, self.lost))


def _bad(message: str) -> RescueError:
    from rescue.errors import BadInput

    return BadInput(message, hint="name a new file, or a journal rescue wrote before")


def _cannot(path: Path, err: OSError) -> RescueError:
    from rescue.errors import BadInput, PermissionDenied

    kind = PermissionDenied if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS) else BadInput
    return kind(f"--journal {path}: cannot open it: {err.strerror}")


_untold: list[RescueError] = []  # journals closed short since the last untold_losses()


def untold_losses() -> list[RescueError]:
    """The journals closed with lines missing that nobody has reported yet (and forget them)."""
    losses = _untold[:]
    _untold.clear()
    return losses


def _unsaved(path: Path, why: str, lost: int) -> RescueError:
    from rescue.errors import BadInput

    missing = f" ({lost} commands not in it)" if lost else ""
    return BadInput(
        f"journal {path}: cannot save it: {why}{missing}",
        hint="check the medium (full, read-only, pulled out); the command itself has ended",
    )


def check_journal_target(name: str | os.PathLike[str]) -> None:
    """Refuse a journal path rescue must not append to (see ``Journal``).

    ``name`` as the user typed it: ``newj/`` names a folder, and ``Path`` would
    drop the slash and make a file of it.
    """
    from rescue import outputs

    path = Path(name)
    if os.fspath(name).endswith(os.sep):
        raise _bad(f"--journal {os.fspath(name)}: names a folder, not a file; nothing was sent")
    outputs.check_file(path, "--journal", existing=outputs.Existing.UPDATE)
    if not os.path.lexists(path):
        return
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as err:
        raise _cannot(path, err) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _bad(f"--journal {path}: not a regular file")
        head = os.read(fd, FIRST_LINE_BYTES)
    except OSError as err:
        raise _cannot(path, err) from None
    finally:
        os.close(fd)
    if not head.strip():
        return  # empty: as good as new
    import json

    first = head.split(b"\n", 1)[0]
    try:
        entry = json.loads(first.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        entry = None
    if not isinstance(entry, dict) or "cdb" not in entry:
        raise _bad(f"--journal {path}: exists and is not a rescue journal; left unchanged")


def read_journal(
    path: str | os.PathLike[str], torn: list[int] | None = None
) -> list[dict[str, object]]:
    """Load a journal's command records.

    A line that is not JSON is a record a crash cut short (``Journal`` starts the
    next run on a new line): its number goes into ``torn`` and the rest is read.
    Without ``torn``, or when no line is a record, it is a BadInput naming the line;
    JSON that is not a command record always is.
    """
    import json

    from rescue.errors import BadInput
    from rescue.inputs import read_user_text

    entries = []
    skipped: list[tuple[int, str]] = []
    lines = read_user_text(path, "rescue journal", READ_LIMIT).splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as err:
            skipped.append((number, err.msg))
            continue
        if not isinstance(entry, dict) or "cdb" not in entry:
            raise BadInput(f"journal {path} line {number} is not a command record")
        entries.append(entry)
    if skipped and (torn is None or not entries):
        number, why = skipped[0]
        raise BadInput(f"journal {path} line {number} is not JSON: {why}")
    if torn is not None:
        torn.extend(number for number, _ in skipped)
    return entries
