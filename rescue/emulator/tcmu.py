"""Show device models to the Linux kernel as real drives (/dev/srN, /dev/sgN).

Why: the in-process emulated transport proves the tool's logic, but not
what the kernel does between us and a drive (sr's filtering, SG_IO limits,
timeouts and aborts, what udev and peer tools such as sg3_utils or Debian's
btcflash see). target_core_user (TCMU) passes every SCSI command of a
user-backed device to user space through a shared ring; tcm_loop attaches
that device to a virtual SCSI host. Together they make a model a drive the
whole system treats as real. No Python TCMU library exists, so the ring is
handled here in pure Python (see tcmu_ring for its layout, tcmu_configfs for
the kernel objects).

Serve from a process of its own (see ``run_until_signal``). One thread per
drive: each waits on its own /dev/uioN, hands each command to
its model, writes the answer back and wakes the kernel. Timing follows the
model's Reply: ``busy_seconds`` is really waited; ``hang`` leaves the
command unanswered until the kernel aborts it (an SG_IO timeout leads to
ABORT TASK, announced by a TMR entry) or its own ``cmd_time_out`` passes;
it is then completed with ABORTED COMMAND, which the kernel ignores.
``gone`` does the same and also unplugs the drive: its LUN is unlinked, so
the kernel removes /dev/srN and /dev/sgN as when a drive drops off the bus.
"""

from __future__ import annotations

import mmap
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence

from rescue.emulator.base import CHECK_CONDITION, Device, Reply
from rescue.emulator.tcmu_configfs import LoopbackLun, ensure_kernel_support
from rescue.emulator.tcmu_ring import Command, CommandRing, TaskManagement, Unknown
from rescue.record import record

# The ring says how much data a command moves, not which way. Opcodes whose
# data goes host -> device (SPC-4, SBC-3, MMC-6); everything else with data
# is treated as data-in. A model with vendor write opcodes adds its own
# through a ``data_out_opcodes`` attribute.
DATA_OUT_OPCODES = frozenset(
    {
        0x04,  # FORMAT UNIT
        0x0A,  # WRITE(6)
        0x15,  # MODE SELECT(6)
        0x1D,  # SEND DIAGNOSTIC
        0x2A,  # WRITE(10)
        0x2E,  # WRITE AND VERIFY(10)
        0x3B,  # WRITE BUFFER
        0x4C,  # LOG SELECT
        0x54,  # SEND OPC INFORMATION
        0x55,  # MODE SELECT(10)
        0x5D,  # SEND CUE SHEET
        0xA3,  # SEND KEY
        0xAA,  # WRITE(12)
        0xB5,  # SECURITY PROTOCOL OUT
        0xB6,  # SET STREAMING
        0xBF,  # SEND DISC STRUCTURE
    }
)

# Fixed-format sense: ABORTED COMMAND (0Bh), and HARDWARE ERROR 44h/00h
# "internal target failure" for a model that raised instead of answering.
_ABORTED = bytes([0x70, 0, 0x0B, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
_INTERNAL_FAILURE = bytes([0x70, 0, 0x04, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x44, 0, 0, 0, 0, 0])
KERNEL_CMD_TIME_OUT = 30.0  # target_core_user's default attrib/cmd_time_out
IDLE_WAKE = 0.5  # seconds between checks of a stalled command and of stop requests

Log = Callable[[str], None]
# Called after each answered command: drive label, CDB, data-out, data-in
# length, the model's reply, seconds spent. Runs on the drive's thread.
Observer = Callable[[str, bytes, bytes | None, int, Reply, float], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def is_data_out(device: Device, cdb: bytes) -> bool:
    extra = getattr(device, "data_out_opcodes", frozenset())
    return bool(cdb) and (cdb[0] in DATA_OUT_OPCODES or cdb[0] in extra)


def full_cdb(device: Device, cdb: bytes) -> bytes:
    """The CDB as the host sent it, as far as the kernel let it through.

    The target core sizes CDBs by opcode group (COMMAND_SIZE), so a vendor
    CDB of group 6/7 (C0h-FFh) reaches the ring cut to 10 bytes whatever
    the host sent. A model that takes longer vendor CDBs names their
    lengths in ``vendor_cdb_lengths``; the missing tail is filled with the
    zeros every known flasher puts there (docs/protocols.md: the MediaTek 0xFF
    download uses bytes 0-5 only). A host that put anything else in those
    bytes cannot be seen on this path; on a real bus the drive gets them.
    """
    want = getattr(device, "vendor_cdb_lengths", {}).get(cdb[0]) if cdb else None
    return cdb.ljust(want, b"\0") if want else cdb


@record
class Stats:
    """What a drive's handler did; ``seconds`` is time spent in the model and ring."""

    commands: int = 0
    aborts: int = 0
    seconds: float = 0.0


class RingServer:
    """Answers a ring's pending entries with a model: the bridge minus threads and fds."""

    def __init__(
        self,
        name: str,
        device: Device,
        ring: CommandRing,
        log: Log,
        wait: Callable[[float], None] = time.sleep,
        observer: Observer | None = None,
        on_gone: Callable[[], None] | None = None,
    ) -> None:
        self.drive = name
        self.device = device
        self.ring = ring
        self.log = log
        self.wait = wait
        self.observer = observer
        self.on_gone = on_gone
        self.gone = False
        self.stats = Stats()
        self._stalled: tuple[int, float] | None = None  # (cmd_id, since)

    def service(self) -> bool:
        """Answer what is pending; True when the tail moved (the kernel must be woken)."""
        moved = False
        self.ring.skip_pads()
        entries = self.ring.pending()
        for index, entry in enumerate(entries):
            if isinstance(entry, Command):
                if not self._answer(entry, entries, index):
                    break  # a stalled command holds up the ones behind it, in ring order
            elif isinstance(entry, TaskManagement):
                self.log(f"{self.drive}: kernel {entry.name} for commands {list(entry.cmd_ids)}")
            else:
                assert isinstance(entry, Unknown)
                self.ring.mark_unknown(entry)
            self.ring.advance(entry)
            moved = True
        return moved

    def _answer(self, command: Command, entries: Sequence[object], index: int) -> bool:
        """Answer COMMAND (ENTRIES[INDEX]), or leave it pending (False) while its model hangs.

        Only a stalled command looks at the entries behind it (for the kernel's abort).
        """
        if self._stalled is not None and self._stalled[0] == command.cmd_id:
            aborted = any(
                isinstance(e, TaskManagement) and command.cmd_id in e.cmd_ids
                for e in entries[index + 1 :]
            )
            expired = time.monotonic() - self._stalled[1] > KERNEL_CMD_TIME_OUT
            if not (aborted or expired):
                return False
            self._stalled = None
            self.stats.aborts += 1
            self.ring.respond(command, CHECK_CONDITION, _ABORTED, None)
            return True
        started = time.monotonic()
        cdb = full_cdb(self.device, command.cdb)
        if is_data_out(self.device, cdb):
            data_out, data_in_len = self.ring.read_data(command), 0
        else:
            data_out, data_in_len = None, command.data_length
        reply = self._submit(cdb, data_out, data_in_len)
        if reply.gone and not self.gone:
            self.gone = True
            self.log(f"{self.drive}: the model dropped off the bus")
            if self.on_gone is not None:
                self.on_gone()
        if reply.hang or reply.gone:
            self._stalled = (command.cmd_id, started)
            return False
        if reply.busy_seconds > 0:
            self.wait(reply.busy_seconds)
        data_in = None if data_out is not None else reply.data
        self.ring.respond(command, reply.status, reply.sense, data_in)
        seconds = time.monotonic() - started
        self.stats.commands += 1
        self.stats.seconds += seconds
        if self.observer is not None:
            self.observer(self.drive, cdb, data_out, data_in_len, reply, seconds)
        return True

    def _submit(self, cdb: bytes, data_out: bytes | None, data_in_len: int) -> Reply:
        try:
            return self.device.submit(cdb, data_out, data_in_len)
        except Exception as err:  # a model bug must not leave the kernel waiting
            self.log(f"{self.drive}: model failed on {cdb.hex()}: {err!r}")
            return Reply(status=CHECK_CONDITION, sense=_INTERNAL_FAILURE)


class DriveHandler(threading.Thread):
    """Serves one drive's /dev/uioN until stopped."""

    def __init__(
        self,
        name: str,
        device: Device,
        uio: str,
        map_size: int,
        log: Log,
        observer: Observer | None = None,
        on_gone: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(name=f"tcmu-{name}", daemon=True)
        self.log = log
        self._stop_requested = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self._fd = os.open(uio, os.O_RDWR)
        self._map = mmap.mmap(self._fd, map_size, mmap.MAP_SHARED)
        self.server = RingServer(
            name,
            device,
            CommandRing(self._map),
            log,
            wait=self._stop_requested.wait,
            observer=observer,
            on_gone=on_gone,
        )
        self.error: BaseException | None = None

    @property
    def stats(self) -> Stats:
        return self.server.stats

    def run(self) -> None:
        try:
            while not self._stop_requested.is_set():
                if self.server.service():
                    os.write(self._fd, bytes(4))  # the kernel now collects the answers
                ready, _, _ = select.select([self._fd, self._wake_r], [], [], IDLE_WAKE)
                if self._fd in ready:
                    os.read(self._fd, 4)  # an event count; the ring itself says what is new
        except BaseException as err:  # kept for the caller and logged, never lost
            self.error = err
            self.log(f"{self.name}: handler stopped: {err}")

    def stop(self) -> None:
        self._stop_requested.set()
        os.write(self._wake_w, b"x")
        self.join()
        self._map.close()
        for fd in (self._fd, self._wake_r, self._wake_w):
            os.close(fd)


@record
class ExposedDrive:
    """A model the kernel now sees as a drive."""

    label: str  # what the user called it (a model spec)
    sr: str
    sg: str
    lun: LoopbackLun
    handler: DriveHandler


class TcmuBridge:
    """Exposes several models at once; ``stop`` removes every trace again.

    Use as a context manager, or call ``start``/``stop``. ``start`` returns
    once every drive has its /dev/srN and /dev/sgN.
    """

    def __init__(
        self,
        devices: Sequence[tuple[str, Device]],
        log: Log = _stderr,
        observer: Observer | None = None,
    ) -> None:
        self.devices = list(devices)
        self.log = log
        self.observer = observer
        self.drives: list[ExposedDrive] = []
        self._pending: list[tuple[LoopbackLun, DriveHandler | None]] = []
        self._unplugs: list[threading.Thread] = []

    def start(self) -> list[ExposedDrive]:
        ensure_kernel_support()
        try:
            for index, (label, device) in enumerate(self.devices):
                self.drives.append(self._expose(index, label, device))
        except BaseException:
            self.stop()
            raise
        return self.drives

    def _expose(self, index: int, label: str, device: Device) -> ExposedDrive:
        lun = LoopbackLun(f"rescue{os.getpid()}_{index}")
        self._pending.append((lun, None))
        uio = lun.create_backstore()
        handler = DriveHandler(
            label, device, uio, lun.map_size(), self.log, self.observer, lambda: self._unplug(lun)
        )
        self._pending[-1] = (lun, handler)
        handler.start()
        lun.link()
        sr, sg = lun.nodes()
        return ExposedDrive(label, sr, sg, lun, handler)

    def _unplug(self, lun: LoopbackLun) -> None:
        """Remove a drive whose model went away, from another thread: the kernel's
        removal waits for the drive's outstanding commands, which its handler
        must still be free to answer."""

        def unlink() -> None:
            try:
                lun.unlink()
            except OSError as err:
                self.log(f"unplug {lun.name}: {err}")

        thread = threading.Thread(target=unlink, name=f"unplug-{lun.name}", daemon=True)
        self._unplugs.append(thread)
        thread.start()

    def stop(self) -> None:
        """Detach every LUN (handlers still answering), then stop handlers, then backstores."""
        pending, self._pending = self._pending, []
        self.drives = []
        for thread in self._unplugs:
            thread.join()
        steps: list[Callable[[], None]] = [lun.unlink for lun, _ in reversed(pending)]
        for lun, handler in reversed(pending):
            if handler is not None:
                steps.append(handler.stop)
            steps.append(lun.remove_backstore)
        for step in steps:  # best effort: one stuck object must not leave the others behind
            try:
                step()
            except OSError as err:
                self.log(f"teardown: {err}")

    def __enter__(self) -> list[ExposedDrive]:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run_until_signal(self, on_ready: Callable[[list[ExposedDrive]], None]) -> list[Stats]:
        """Expose the drives, call ON_READY, serve until SIGINT/SIGTERM, remove them.

        Must run in the main thread (signal handlers). Returns each drive's
        statistics. Serve from a process of its own: an SG_IO sent from the
        same process through a binding that keeps the GIL during the ioctl
        (py-sg does) would stop the handler threads and deadlock.
        """
        stop = threading.Event()
        signals = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in signals}
        drives: list[ExposedDrive] = []
        try:
            drives = self.start()
            on_ready(drives)
            stop.wait()
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return [drive.handler.stats for drive in drives]
