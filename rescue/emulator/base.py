"""The contract between a device model and whatever carries CDBs to it.

Two carriers exist: the in-process ``emulated`` transport and the TCMU bridge
that shows a model to a real kernel. Both hand a model the raw CDB and data
and get back a ``Reply``; neither interprets SCSI. Model time runs on a
``Clock`` so in-process tests can skip a drive's 50 s "burn" instantly while
the TCMU bridge uses the wall clock.
"""

from __future__ import annotations

import time

from rescue.record import record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import Protocol
else:
    Protocol = object  # a Protocol is for the type checker; at run time a plain base will do

GOOD = 0x00
CHECK_CONDITION = 0x02
BUSY = 0x08


@record
class Reply:
    """What a device answers to one command."""

    status: int = GOOD
    sense: bytes = b""
    data: bytes = b""  # data-in; the carrier truncates it to the allocation
    busy_seconds: float = 0.0  # how long the device took, in model time
    hang: bool = False  # never answers: the host sees a timeout
    gone: bool = False  # the device dropped off the bus


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class WallClock:
    """Real time, for a model behind the TCMU bridge."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


class VirtualClock:
    """Time that only moves when someone waits: in-process tests run instantly."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._now += seconds


class Device(Protocol):
    """A device model: takes raw CDBs, answers with a Reply."""

    clock: Clock

    def submit(self, cdb: bytes, data_out: bytes | None, data_in_len: int) -> Reply: ...
