"""A JSON-lines record of every command sent, so a field failure can be replayed.

One line per command: wall time, device, CDB, direction, lengths, a sha256 of
the data both ways (and the data itself when it is small enough to keep),
status, sense and duration; or the error the carrier raised.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rescue.errors import RescueError
    from rescue.transport.base import Result

from rescue.transport.base import direction_of

#: Data up to this size is kept verbatim (one BTC chunk is 4 KiB).
KEEP_DATA_BYTES = 4096


def digest(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _kept(data: bytes | None) -> str | None:
    if data is None or len(data) > KEEP_DATA_BYTES:
        return None
    return data.hex()


class Journal:
    """Appends entries to a file; flushed per line so a crash loses nothing."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] = self.path.open("a", encoding="utf-8")
        self.count = 0

    def _write(self, entry: dict[str, object]) -> None:
        self._fh.write(json.dumps(entry, sort_keys=True) + "\n")
        self._fh.flush()
        self.count += 1

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
        entry = self._base(device, cdb, data_out, data_in)
        entry.update(
            status=result.status,
            host_status=result.host_status,
            driver_status=result.driver_status,
            sense=result.sense.hex(),
            residual=result.residual,
            in_sha256=digest(result.data) if data_in else None,
            in_data=_kept(result.data) if data_in else None,
            duration=round(result.duration, 6),
        )
        self._write(entry)

    def record_error(
        self,
        device: str,
        cdb: bytes,
        data_out: bytes | None,
        data_in: int,
        error: RescueError,
        duration: float,
    ) -> None:
        entry = self._base(device, cdb, data_out, data_in)
        entry.update(error=type(error).__name__, message=error.message, duration=duration)
        self._write(entry)

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()


def read_journal(path: str | os.PathLike[str]) -> list[dict[str, object]]:
    """Load a journal; a damaged line is a BadInput naming the line."""
    from rescue.errors import BadInput

    entries = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise BadInput(f"cannot read journal {path}: {err}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as err:
            raise BadInput(f"journal {path} line {number} is not JSON: {err.msg}") from None
        if not isinstance(entry, dict) or "cdb" not in entry:
            raise BadInput(f"journal {path} line {number} is not a command record")
        entries.append(entry)
    return entries
