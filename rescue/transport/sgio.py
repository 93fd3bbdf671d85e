"""Linux SG_IO on /dev/sgN or /dev/srN, through py-sg.

Facts this module leans on (Linux block/scsi_ioctl.c, sg(4)):
- /dev/srN without a disc opens only with O_NONBLOCK;
- write-class and vendor opcodes need a read-write descriptor and, on srN,
  CAP_SYS_RAWIO; otherwise the ioctl fails with EPERM/EACCES;
- a transfer larger than the queue allows fails with EINVAL, not with sense;
- a command the kernel timed out comes back with host status DID_TIME_OUT;
- through /dev/srN, SG_IO passes a CDB outside the kernel's read/write
  "safe" lists (WRITE BUFFER and every vendor opcode among them) only from a
  process holding CAP_SYS_RAWIO (scsi_cmd_allowed, drivers/scsi/scsi_ioctl.c);
  /dev/sgN applies that list to read-only opens only (sg_new_write,
  drivers/scsi/sg.c), so whoever may open it read-write can send anything
  (seen on a real kernel: tests/guest/test_permissions.py).
"""

from __future__ import annotations

import errno
import os
import time
from functools import partial

from py_sg import SCSIError
from py_sg import read as _sg_read
from py_sg import write as _sg_write

from rescue.errors import (
    CommandTimeout,
    DeviceNotFound,
    PermissionDenied,
    Refused,
    TransportError,
)
from rescue.transport.base import GOOD, READY_POLL, READY_TIMEOUT, Result, Transport

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from collections.abc import Callable

#: Builds a Result from all seven fields in C, without the Python-level ``__new__`` a
#: NamedTuple adds: one call less for every GOOD command (docs/architecture.md,
#: "The command path").
_new = tuple.__new__
#: What every GOOD command without data in and without a journal returns (a poll's
#: answer): one shared immutable Result, nothing built per command.
_GOOD_NO_DATA = Result(GOOD, b"", b"", 0, 0.0)

BLKSECTGET = 0x1267  # linux/fs.h _IO(0x12, 103)
SG_GET_RESERVED_SIZE = 0x2272  # scsi/sg.h
SG_SET_RESERVED_SIZE = 0x2275  # scsi/sg.h
DID_NO_CONNECT = 0x01
DID_BUS_BUSY = 0x02
DID_TIME_OUT = 0x03
DID_BAD_TARGET = 0x04

_GONE = {errno.ENODEV, errno.ENXIO, errno.ENOENT}
_DENIED = {errno.EACCES, errno.EPERM}

PERMISSION_HINT = "run as root (write-class commands need CAP_SYS_RAWIO and a read-write /dev/sgN)"
CAP_SYS_RAWIO = 17  # bit number in the capability sets (linux/capability.h)
PROC_STATUS = "/proc/self/status"  # text, not a Path: a scan does not import pathlib


def _milliseconds(timeout: float) -> int:
    """A timeout in py-sg's unit: at least 1 ms, since py-sg takes it unsigned and unchecked."""
    return max(1, int(timeout * 1000))


def holds_raw_io(status: str | os.PathLike[str] | None = None) -> bool:
    """Whether this process has CAP_SYS_RAWIO in its effective set (CapEff in proc(5)).

    A status file that cannot be read or has no readable CapEff line answers
    True: the check is there to explain a refusal early, and where it cannot
    tell, the kernel's own refusal (mapped in ``_os_error``) still applies.
    """
    try:
        with open(status or PROC_STATUS) as file:
            lines = file.read().splitlines()
    except OSError:
        return True
    for line in lines:
        key, _, value = line.partition(":")
        if key == "CapEff":
            try:
                return bool(int(value.strip(), 16) >> CAP_SYS_RAWIO & 1)
            except ValueError:
                return True
    return True


class SgioTransport(Transport):
    real_hardware = True

    def __init__(self, path: str, journal=None, exclusive: bool = False) -> None:  # noqa: ANN001
        super().__init__(path, journal)
        self.path = path
        self.read_only = False
        self._timeout, self._timeout_ms = 0.0, 1  # the last timeout asked, in py-sg's unit
        self._fd = self._open(path, exclusive)
        if journal is None:  # a journaled poll goes through execute, which records it
            # py-sg's write with every argument bound: C calling C, no frame, nothing to parse
            self.ready_probe = partial(
                _sg_write, self._fd, READY_POLL, b"", _milliseconds(READY_TIMEOUT)
            )

    def _open(self, path: str, exclusive: bool) -> int:
        """Read-write when allowed; ``exclusive`` (for flashing) also shuts others out.

        O_EXCL on an sg node refuses while another process has it open, and
        makes later opens wait or fail (sg(4)); a flash must never share.
        An exclusive open is asked for by flash and backup. They need root
        for what surrounds their commands (media polling, udev's tray lock,
        the lock directory), and on srN the kernel wants CAP_SYS_RAWIO for
        the commands themselves, while on a writable sgN it would let an
        ordinary user start a flash. One rule for both nodes, checked before
        the node is opened: without CAP_SYS_RAWIO nothing is sent, and the
        user reads why instead of meeting a refusal halfway through.
        """
        if exclusive and not holds_raw_io():
            raise PermissionDenied(
                f"{path}: flashing and backup need root (CAP_SYS_RAWIO); nothing was sent",
                hint="run the same command as root (e.g. with sudo)",
            )
        flags = os.O_RDWR | os.O_NONBLOCK | (os.O_EXCL if exclusive else 0)
        try:
            return os.open(path, flags)
        except OSError as err:
            if err.errno in _GONE:
                raise DeviceNotFound(f"{path}: no such device") from None
            if exclusive and err.errno == errno.EBUSY:
                raise Refused(
                    f"{path}: another process has the drive open",
                    hint="close other programs using the drive (burners, players), then retry",
                ) from None
            if exclusive:
                raise PermissionDenied(
                    f"{path}: cannot open read-write and exclusive: {err.strerror}",
                    hint=PERMISSION_HINT,
                ) from None
            if err.errno not in _DENIED | {errno.EROFS}:
                raise TransportError(f"{path}: cannot open: {err.strerror}") from None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as err:
            if err.errno in _DENIED:
                raise PermissionDenied(
                    f"{path}: permission denied", hint="run as root or join the cdrom group"
                ) from None
            raise TransportError(f"{path}: cannot open: {err.strerror}") from None
        self.read_only = True
        return fd

    def execute(
        self,
        cdb: bytes,
        data_out: bytes | None = None,
        data_in: int = 0,
        timeout: float = 30.0,
        recorded: bool = False,
    ) -> Result:
        """``Transport.execute`` and the SG_IO in one Python frame, the common case's only one.

        Without a journal a command is checked (as ``Transport.execute`` checks it) and sent
        from here, so a READ costs one frame between ``Drive`` and py-sg, not two. With a
        journal it takes the general path, which times and records it and comes back
        through ``_execute`` with ``recorded`` set (docs/architecture.md, "The command path";
        ``recorded`` is for that call alone, and positional because Python 3.11 calls a
        function with a keyword-only argument through its slower general path).

        py-sg raises SCSIError for any other outcome than GOOD (its SG_INFO_OK
        check), so a call that returns is GOOD: nothing is left to decode. Its
        arguments go positionally (the C side parses keywords more slowly), the
        timeout is converted to milliseconds only when it differs from the last
        one, the clock is read only when a journal will keep the duration, and a
        GOOD command without data or journal returns one shared Result.
        """
        if recorded:
            started = time.monotonic()
        elif self.journal is not None:
            return Transport.execute(self, cdb, data_out, data_in, timeout)
        else:
            started = 0.0
        if data_out is not None and data_in:
            raise ValueError("a command moves data in one direction only")
        # a bytearray the caller may change later is copied; exact bytes (a poll's, a
        # scan's READ) are known by their class alone, without the isinstance call
        if cdb.__class__ is not bytes and not isinstance(cdb, bytes):
            cdb = bytes(cdb)
        if timeout != self._timeout:  # converted when it changes, not for every command
            self._timeout_ms = _milliseconds(timeout)
            self._timeout = timeout
        try:
            if data_in:
                data = _sg_read(self._fd, cdb, data_in, self._timeout_ms)
            else:
                _sg_write(self._fd, cdb, data_out or b"", self._timeout_ms)
                if not recorded:
                    return _GOOD_NO_DATA
                data = b""
        except SCSIError as err:
            return self._not_good(err, cdb, data_in, timeout, started)
        except OSError as err:
            raise self._os_error(err, cdb, data_out, data_in) from None
        duration = time.monotonic() - started if recorded else 0.0
        return _new(Result, (GOOD, b"", data, data_in - len(data), duration, 0, 0))

    def _execute(self, cdb: bytes, data_out: bytes | None, data_in: int, timeout: float) -> Result:
        """The carrier under ``Transport.execute``'s journal: the same SG_IO, timed."""
        return self.execute(cdb, data_out, data_in, timeout, True)

    def bulk_reader(
        self, cdb_of: Callable[[int, int], bytes], unit: int, timeout: float, fail: Callable
    ) -> Callable[[int, int], bytes] | None:
        """``Transport.bulk_reader``: a GOOD block is this reader's frame and C calls alone.

        The CDB is built by ``cdb_of`` (C) as bytes: py-sg parses it with "y#", which takes
        read-only bytes only, so a reused bytearray would have to be copied first. The
        data is the bytes object py-sg allocates for each read: its read has no form that
        fills a caller's buffer (py-sg 0.17), so there is none to reuse. The timeout is
        converted once; the descriptor is read per block, so a closed transport's reader
        gets -1, which the kernel refuses (EBADF), never another file's number. Sense is
        looked at only when py-sg raises, by ``_not_good`` as for ``execute``.
        """
        if self.journal is not None or self._fd < 0:
            return None
        milliseconds, not_good, os_error = _milliseconds(timeout), self._not_good, self._os_error

        def read(lba: int, blocks: int) -> bytes:
            cdb = cdb_of(lba, blocks)
            try:
                return _sg_read(self._fd, cdb, blocks * unit, milliseconds)
            except SCSIError as err:
                answer = not_good(err, cdb, blocks * unit, timeout, 0.0)
            except OSError as err:
                raise os_error(err, cdb, None, blocks * unit) from None
            return fail(answer, lba)  # out of the handler: the SenseError chains no SCSIError

        return read

    def probe_answer(self, err: Exception) -> Result:
        """py-sg's SCSIError from ``ready_probe`` as its Result, an OSError as execute maps it."""
        if isinstance(err, SCSIError):
            return self._not_good(err, READY_POLL, 0, READY_TIMEOUT, 0.0)
        if isinstance(err, OSError):
            raise self._os_error(err, READY_POLL, None, 0) from None
        raise err

    def _not_good(
        self, err: SCSIError, cdb: bytes, data_in: int, timeout: float, started: float
    ) -> Result:
        """A CHECK CONDITION (or BUSY) as a Result; the carrier's own failures raise."""
        masked, host, driver, sense_raw, payload = err.args
        duration = time.monotonic() - started if started else 0.0
        if host == DID_TIME_OUT:
            raise CommandTimeout(
                f"{self.path}: command {cdb[0]:02X}h timed out after {timeout:g} s"
            )
        if host in (DID_NO_CONNECT, DID_BAD_TARGET):
            raise DeviceNotFound(f"{self.path}: the drive no longer answers (host status {host})")
        sense = bytes(sense_raw or b"")
        if host and not sense:
            raise TransportError(
                f"{self.path}: command {cdb[0]:02X}h failed in transport (host status {host:#x})"
            )
        data = bytes(payload or b"") if data_in else b""
        return Result(
            status=(masked << 1) & 0xFF,
            sense=sense,
            data=data,
            residual=max(0, data_in - len(data)),
            duration=duration,
            host_status=host,
            driver_status=driver,
        )

    def _os_error(
        self, err: OSError, cdb: bytes, data_out: bytes | None, data_in: int
    ) -> Exception:
        op = f"{cdb[0]:02X}h"
        if err.errno in _DENIED:
            mode = "read-only" if self.read_only else "read-write"
            return PermissionDenied(
                f"{self.path}: the kernel refused command {op} on a {mode} descriptor",
                hint=PERMISSION_HINT,
            )
        if err.errno == errno.EINVAL:
            size = len(data_out) if data_out is not None else data_in
            return TransportError(
                f"{self.path}: a {size}-byte transfer for command {op} exceeds what the "
                "kernel queue accepts",
                hint="use smaller chunks (see /sys/block/srN/queue/max_sectors_kb)",
            )
        if err.errno in _GONE:
            return DeviceNotFound(f"{self.path}: the drive vanished during command {op}")
        return TransportError(f"{self.path}: SG_IO failed for {op}: {err.strerror}")

    def queue_max_bytes(self) -> int | None:
        """The queue's max_sectors in bytes, asked of an sg node (BLKSECTGET, sg(4)).

        For a drive without an sr node sysfs shows no block queue; the sg
        driver answers BLKSECTGET with the limit in bytes. None on an sr node
        (there the ioctl means sectors) or when the kernel does not answer.
        """
        import fcntl
        import struct

        if not self._open_sg_node():
            return None
        try:
            raw = fcntl.ioctl(self._fd, BLKSECTGET, struct.pack("i", 0))
        except OSError:
            return None
        value = struct.unpack("i", raw)[0]
        return value if value > 0 else None

    def reserve_buffer(self, size: int) -> None:
        """Grow an sg node's reserved buffer to ``size`` bytes, as ``sg_dd`` does before it reads.

        The sg driver keeps one buffer per open descriptor, ``def_reserved_size``
        (32 KiB) unless asked otherwise. A transfer that fits it moves through it; a
        larger one gets kernel pages allocated and zeroed for that command alone and
        freed after it (drivers/scsi/sg.c, sg_start_req and sg_build_indirect).
        SG_SET_RESERVED_SIZE resizes it, capped by the kernel at the queue's largest
        transfer (sg_ioctl_common); sg3_utils' ``sg_dd`` asks for its bs * bpt on
        every sg input. Measured in the TCG guest on scsi_debug, 256 MiB of READ(10)
        through bare py-sg: 0.55 s at 64 KiB a READ with the default buffer, 0.42 s
        with one of 64 KiB; at 1 MiB 0.26 s and 0.21 s (docs/performance.md, "The sg
        driver's reserved buffer"). An sr node has no such buffer, and a refusal (an
        outstanding command: EBUSY) leaves the transfers as they were, only slower.
        """
        import fcntl
        import struct

        if not self._open_sg_node():
            return
        try:
            held = struct.unpack("i", fcntl.ioctl(self._fd, SG_GET_RESERVED_SIZE, b"\0" * 4))[0]
            if held < size:
                fcntl.ioctl(self._fd, SG_SET_RESERVED_SIZE, struct.pack("i", size))
        except OSError:
            return

    def _open_sg_node(self) -> bool:
        """An open /dev/sgN: where the sg driver's own ioctls apply (BLKSECTGET in bytes, the
        reserved buffer); on srN the same numbers mean other things or nothing."""
        return os.path.basename(self.path).startswith("sg") and self._fd >= 0

    def close(self) -> None:
        self.ready_probe = None  # before the descriptor's number is free for another file
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
