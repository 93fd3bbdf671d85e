"""One way to send a CDB to a device, whatever carries it.

``Transport.execute`` is the single entry point: it times the command, hands
it to the backend, and records it in the journal when one is attached. SCSI
outcomes (status, sense) come back in a ``Result``; only failures of the
carrier itself (no permission, device gone, timeout, transfer too large)
raise, as typed ``RescueError``s. Nothing here interprets sense data.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from rescue.errors import RescueError

if TYPE_CHECKING:
    from rescue.transport.journal import Journal

GOOD = 0x00
CHECK_CONDITION = 0x02


class Direction(StrEnum):
    NONE = "none"
    IN = "in"  # device to host
    OUT = "out"  # host to device


@dataclass(frozen=True)
class Result:
    status: int
    sense: bytes
    data: bytes
    residual: int
    duration: float
    host_status: int = 0
    driver_status: int = 0

    @property
    def ok(self) -> bool:
        return self.status == GOOD and self.host_status == 0


class Transport(ABC):
    """Base of the sgio, emulated and replay backends."""

    #: True when write-class commands really reach hardware (used by policy).
    real_hardware = False

    def __init__(self, name: str, journal: Journal | None = None) -> None:
        self.name = name
        self.journal = journal

    def execute(
        self,
        cdb: bytes,
        *,
        data_out: bytes | None = None,
        data_in: int = 0,
        timeout: float = 30.0,
    ) -> Result:
        if data_out is not None and data_in:
            raise ValueError("a command moves data in one direction only")
        cdb = bytes(cdb)
        started = time.monotonic()
        try:
            result = self._execute(cdb, data_out, data_in, timeout)
        except RescueError as err:
            if self.journal is not None:
                self.journal.record_error(
                    self.name, cdb, data_out, data_in, err, time.monotonic() - started
                )
            raise
        if self.journal is not None:
            self.journal.record(self.name, cdb, data_out, data_in, result)
        return result

    @abstractmethod
    def _execute(
        self, cdb: bytes, data_out: bytes | None, data_in: int, timeout: float
    ) -> Result: ...

    def sleep(self, seconds: float) -> None:
        """Wait in the device's time (virtual for in-process models)."""
        if seconds > 0:
            time.sleep(seconds)

    def now(self) -> float:
        return time.monotonic()

    def close(self) -> None:  # noqa: B027 - most backends hold nothing to release
        """Release the device; safe to call twice."""

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def direction_of(data_out: bytes | None, data_in: int) -> Direction:
    if data_out is not None:
        return Direction.OUT
    return Direction.IN if data_in else Direction.NONE
