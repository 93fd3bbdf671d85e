"""One way to send a CDB to a device, whatever carries it.

``Transport.execute`` is the single entry point: it hands the command to the
backend, and times and records it when a journal is attached. SCSI outcomes
(status, sense) come back in a ``Result``; only failures of the carrier
itself (no permission, device gone, timeout, transfer too large) raise, as
typed ``RescueError``s. Nothing here interprets sense data.

Every command of a scan and every poll passes through here, so the path
without a journal does nothing it was not asked for: no copy of a CDB that
is already bytes, no clock reads on a real drive (``Result.duration`` is 0.0
then: only the journal reads it), and a ``Result`` that is a plain tuple to
build (a frozen dataclass costs three times as much per command;
docs/architecture.md, "The command path"). ``SgioTransport`` overrides
``execute`` to send an unjournaled command in one frame; a journaled one
still comes through here. A readiness poll, the command sent most often
while a drive is waited for, may skip even that frame: a backend that can
send it from C parts alone offers ``ready_probe`` (docs/architecture.md,
"The command path"), and a scan's READs may skip ``Drive`` and ``execute``
through ``bulk_reader``'s one frame.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections import namedtuple
from collections.abc import Callable
from enum import StrEnum

from rescue.errors import RescueError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.transport.journal import Journal

GOOD = 0x00
CHECK_CONDITION = 0x02
#: TEST UNIT READY as every readiness poll sends it (SPC-4 6.47: six zero bytes, no data;
#: the same bytes as ``rescue.scsi.cdb.test_unit_ready``), and how long a poll may take.
READY_POLL = bytes(6)
READY_TIMEOUT = 10.0


class Direction(StrEnum):
    NONE = "none"
    IN = "in"  # device to host
    OUT = "out"  # host to device


# collections' namedtuple, not typing's NamedTuple: a scan loads no typing at run time
_RESULT_FIELDS = ("status", "sense", "data", "residual", "duration", "host_status", "driver_status")


class Result(namedtuple("Result", _RESULT_FIELDS, defaults=(0, 0))):
    """What a command came back with; immutable, and cheap to build (one per command).

    ``status`` (int, SAM status), ``sense`` and ``data`` (bytes), ``residual``
    (int), ``duration`` (float seconds; 0.0 when no journal asked for it, on
    real backends), ``host_status`` and ``driver_status`` (int, default 0).
    """

    __slots__ = ()

    @property
    def ok(self) -> bool:
        return self.status == GOOD and self.host_status == 0


class Transport(ABC):
    """Base of the sgio, emulated and replay backends."""

    #: True when write-class commands really reach hardware (used by policy).
    real_hardware = False
    #: READY_POLL, prepared: a callable without a Python frame of its own that sends it
    #: unjournaled and returns when the drive answers GOOD; what it raises goes to
    #: ``probe_answer``. None where a backend has none, has a journal or is closed: a poll
    #: then goes through ``execute``. ``Drive.test_unit_ready`` reads it for every poll
    #: (never keeps it: a closed descriptor's number may come back for another file).
    ready_probe: Callable[[], object] | None = None

    def __init__(self, name: str, journal: Journal | None = None) -> None:
        self.name = name
        self.journal = journal

    def execute(
        self,
        cdb: bytes,
        data_out: bytes | None = None,
        data_in: int = 0,
        timeout: float = 30.0,
    ) -> Result:
        """Send CDB; the per-command callers (polls, a scan's reads) pass the arguments by
        position, which Python 3.11 calls without sorting keywords (docs/architecture.md,
        "The command path")."""
        if data_out is not None and data_in:
            raise ValueError("a command moves data in one direction only")
        if not isinstance(cdb, bytes):  # a bytearray the caller may change later
            cdb = bytes(cdb)
        journal = self.journal
        if journal is None:
            return self._execute(cdb, data_out, data_in, timeout)
        started = time.monotonic()
        try:
            result = self._execute(cdb, data_out, data_in, timeout)
        except RescueError as err:
            journal.record_error(self.name, cdb, data_out, data_in, err, time.monotonic() - started)
            raise
        journal.record(self.name, cdb, data_out, data_in, result)
        return result

    @abstractmethod
    def _execute(
        self, cdb: bytes, data_out: bytes | None, data_in: int, timeout: float
    ) -> Result: ...

    def probe_answer(self, err: Exception) -> Result:
        """What ``ready_probe``'s exception means: the drive's answer, when it is one.

        A backend with a probe returns a SCSI outcome (CHECK CONDITION, BUSY) as the
        ``Result`` ``execute`` would have given and raises a failure of the carrier as the
        ``RescueError`` it would have raised; anything else is raised as it came.
        """
        raise err

    def bulk_reader(
        self, cdb_of: Callable[[int, int], bytes], unit: int, timeout: float, fail: Callable
    ) -> Callable[[int, int], bytes] | None:
        """A scan's reads, prepared: a callable (lba, blocks) -> data, or None.

        A backend that can send a bulk read in one Python frame of its own returns one
        that builds the CDB with ``cdb_of`` (a C callable), asks for ``blocks * unit``
        bytes and returns what came back; an answer that is not GOOD goes, as the
        ``Result`` ``execute`` would have returned and with the lba, to ``fail`` (which
        raises), a failure of the carrier raises as ``execute`` raises it. None where a
        backend has none, has a journal (a journaled read goes through ``execute``) or is
        closed; the scan then reads through ``Drive.read10`` (docs/architecture.md, "The
        command path").
        """
        return None

    def reserve_buffer(self, size: int) -> None:  # noqa: B027 - a hint most backends ignore
        """Make transfers of up to ``size`` bytes cheap for the kernel, where it keeps a
        buffer per descriptor (the sg driver: ``SgioTransport``); nothing elsewhere.

        A hint, never a limit: a backend that cannot keep such a buffer still moves
        every transfer the path carries.
        """

    def sleep(self, seconds: float) -> None:
        """Wait in the device's time (virtual for in-process models)."""
        if seconds > 0:
            time.sleep(seconds)

    #: The device's clock in seconds: the host's monotonic clock itself (a scan reads it
    #: once a block, so no Python frame in between); in-process models keep virtual time.
    now: Callable[[], float] = staticmethod(time.monotonic)

    def close(self) -> None:  # noqa: B027 - most backends hold nothing to release
        """Release the device; safe to call twice."""

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the device, then the journal: on the medium before a command names it."""
        try:
            self.close()
        finally:
            if self.journal is not None:
                self.journal.close()


def direction_of(data_out: bytes | None, data_in: int) -> Direction:
    if data_out is not None:
        return Direction.OUT
    return Direction.IN if data_in else Direction.NONE
