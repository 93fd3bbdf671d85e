"""Plays a recorded journal back as if the drive were there.

Each command must match the next recorded one (CDB, direction, lengths and
the digest of data sent); the first difference stops the replay with a
message naming both, so a field log becomes a regression test. A line a
crash tore (not JSON) is skipped and named on stderr,
rather than failing the whole journal.
"""

from __future__ import annotations

import os
import sys

from rescue import errors
from rescue.errors import BadInput, RescueError, TransportError
from rescue.transport.base import Result, Transport, direction_of
from rescue.transport.journal import digest, read_journal


class ReplayMismatch(TransportError):
    """The tool sent something other than what the journal recorded."""


class ReplayTransport(Transport):
    def __init__(self, path: str | os.PathLike[str], name: str | None = None, journal=None):  # noqa: ANN001
        self.torn: list[int] = []
        self.entries = read_journal(path, self.torn)
        super().__init__(name or f"replay:{path}", journal)
        if self.torn:
            lines = ", ".join(str(number) for number in self.torn)
            print(
                f"note: journal {path}: line {lines} torn (cut short by a crash), skipped",
                file=sys.stderr,
            )
        self.position = 0
        self._clock = 0.0

    @property
    def exhausted(self) -> bool:
        return self.position >= len(self.entries)

    def _execute(
        self, cdb: bytes, data_out: bytes | None, data_in: int, timeout: float
    ) -> Result:
        if self.exhausted:
            raise ReplayMismatch(
                f"replay: command #{self.position + 1} ({cdb.hex()}) is past the end of the journal"
            )
        entry = self.entries[self.position]
        where = f"replay: command #{self.position + 1}"
        self.position += 1
        if entry["cdb"] != cdb.hex():
            raise ReplayMismatch(f"{where}: sent CDB {cdb.hex()}, journal has {entry['cdb']}")
        if entry.get("direction") != direction_of(data_out, data_in).value:
            raise ReplayMismatch(f"{where}: direction differs from the journal")
        if entry.get("in_len", 0) != data_in:
            raise ReplayMismatch(
                f"{where}: asked for {data_in} bytes, journal has {entry.get('in_len')}"
            )
        if entry.get("out_sha256") != digest(data_out):
            raise ReplayMismatch(f"{where}: data sent differs from the journal (sha256)")
        self._clock += float(entry.get("duration", 0.0))
        if "error" in entry:
            cls = getattr(errors, str(entry["error"]), RescueError)
            if not (isinstance(cls, type) and issubclass(cls, RescueError)):
                cls = RescueError
            raise cls(str(entry.get("message", "recorded error")))
        data = b""
        if data_in:
            kept = entry.get("in_data")
            if kept is None:
                raise BadInput(f"{where}: the journal kept only a digest of the data read")
            data = bytes.fromhex(str(kept))
        return Result(
            status=int(entry["status"]),
            sense=bytes.fromhex(str(entry.get("sense", ""))),
            data=data,
            residual=int(entry.get("residual", 0)),
            duration=float(entry.get("duration", 0.0)),
            host_status=int(entry.get("host_status", 0)),
            driver_status=int(entry.get("driver_status", 0)),
        )

    def sleep(self, seconds: float) -> None:
        self._clock += max(seconds, 0.0)

    def now(self) -> float:
        return self._clock
