"""An emulated drive behind a USB bridge the kernel believes: a FunctionFS bulk-only gadget.

``python -m rescue.emulator.usb_bot SPEC [--max-transfer N] [--refuse vendor|none]
[--reset-after OP[:MODE]]`` builds a USB gadget on dummy_hcd (configfs +
FunctionFS, ``usb_f_fs``) and serves the USB Mass Storage Bulk-Only Transport
(USB MSC BOT 1.0) itself: it reads each 31-byte Command Block Wrapper, runs
the CDB on the emulated model ``SPEC`` (``rescue.emulator.registry``), moves
the data and answers with a 13-byte Command Status Wrapper. usb-storage binds
to it as to any USB CD-ROM, so the drive gets an sr and an sg node and every
command goes through the kernel's SCSI and USB stacks (issue 13;
docs/testbed.md "A real USB path in the guest").

What the bridge does, as a real one might:

- ``--max-transfer N``: a command asking more than N bytes is refused with
  5/24/00 INVALID FIELD IN CDB by the bridge (the drive never sees it), and
  the largest length seen is reported on exit; the host side should be told
  the cap (the SCSI device's ``max_sectors``), as a quirk would;
- ``--refuse vendor``: WRITE BUFFER, READ BUFFER, ATA PASS-THROUGH and the
  vendor opcodes C0h-FFh are answered 5/20/00 by the bridge
  (``usb_bridge.GADGET_REFUSES``);
- ``--reset-after 3b:07``: after the CSW of a command with that opcode (and
  mode, the low 5 bits of byte 1), the gadget unplugs and plugs itself back
  in: usb-storage enumerates it again on a new SCSI host, the way a drive
  that resets after its commit does.

Sense is carried as BOT carries it: a failed command ends with CSW status 1,
and the host asks REQUEST SENSE; the bridge keeps the last sense for that.

A model that hangs (``fault=hang@...``) leaves its command without data or
CSW until the host gives up on it: after the abort usb-storage resets the
USB port, in some guest runs with the class's Bulk-Only Mass Storage Reset
(BOT 1.0, 3.1) as well; the function sees a disable event or the class
request. The bridge then drops the command, sends nothing for it and reads
the next CBW, as a bridge whose drive stalled does once reset; the stats
count it (``abandoned``, ``bot_resets``).

Prints ``READY <H:C:T:L> <sgN> <srN>`` when the host side has its nodes, and
``RESET <H:C:T:L> <sgN> <srN>`` after each re-enumeration; runs until
SIGTERM/SIGINT, then tears the gadget down and prints ``STATS <json>``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from rescue.emulator.base import CHECK_CONDITION, WallClock
from rescue.emulator.sense import INVALID_FIELD_IN_CDB, INVALID_OPCODE, fixed_sense
from rescue.emulator.usb_bridge import GADGET_REFUSES
from rescue.emulator.usb_gadget import CONFIGFS, LANG, NODE_WAIT_SECONDS, _scsi_devices, free_udc

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import Any

CBW_SIGNATURE = 0x43425355  # "USBC"
CSW_SIGNATURE = 0x53425355  # "USBS"
CBW_LEN, CSW_LEN = 31, 13
STATUS_PASSED, STATUS_FAILED, STATUS_PHASE_ERROR = 0, 1, 2
REQUEST_SENSE = 0x03
GET_MAX_LUN, BOT_RESET = 0xFE, 0xFF

# linux/usb/functionfs.h
DESCRIPTORS_MAGIC_V2, STRINGS_MAGIC = 3, 2
HAS_FS_DESC, HAS_HS_DESC = 1, 2
EVENT_BIND, EVENT_UNBIND, EVENT_ENABLE, EVENT_DISABLE, EVENT_SETUP = 0, 1, 2, 3, 4
EVENT_SIZE = 12


def descriptors() -> bytes:
    """One interface (mass storage, SCSI transparent, bulk-only) with a bulk IN and OUT."""

    def interface() -> bytes:
        return struct.pack("<BBBBBBBBB", 9, 4, 0, 0, 2, 0x08, 0x06, 0x50, 1)

    def endpoint(address: int, packet: int) -> bytes:
        return struct.pack("<BBBBHB", 7, 5, address, 2, packet, 0)

    full = interface() + endpoint(0x81, 64) + endpoint(0x02, 64)
    high = interface() + endpoint(0x81, 512) + endpoint(0x02, 512)
    body = struct.pack("<II", 3, 3) + full + high
    return (
        struct.pack("<III", DESCRIPTORS_MAGIC_V2, 12 + len(body), HAS_FS_DESC | HAS_HS_DESC) + body
    )


def strings(interface_name: str) -> bytes:
    body = struct.pack("<H", 0x0409) + interface_name.encode() + b"\0"
    return struct.pack("<IIII", STRINGS_MAGIC, 16 + len(body), 1, 1) + body


class BotGadget:
    """The gadget, its FunctionFS endpoints and the BOT loop around one emulated model."""

    def __init__(
        self,
        spec: str,
        *,
        name: str = "rescue_bot",
        max_transfer: int | None = None,
        refuse: frozenset[int] = frozenset(),
        reset_after: tuple[int, int | None] | None = None,
        id_vendor: int = 0x1209,
        id_product: int = 0x0002,
        manufacturer: str = "rescue emulated bridge",
        product: str = "BOT bridge",
        serial: str = "RESCUEBOT0001",
    ) -> None:
        from rescue.emulator.registry import create

        self.device = create(spec, clock=WallClock())
        self.name = name
        self.max_transfer = max_transfer
        self.refuse = refuse
        self.reset_after = reset_after
        self.ids = (id_vendor, id_product)
        self.texts = (manufacturer, product, serial)
        self.root = CONFIGFS / "usb_gadget" / name
        self.mount = Path(os.environ.get("TMPDIR", "/run")) / f"ffs-{name}"
        self.sense = b""
        self.stats: dict[str, Any] = {
            "commands": 0,
            "largest": 0,
            "largest_by_opcode": {},  # "28": the longest transfer seen for READ(10), ...
            "over_cap": 0,
            "refused": [],
            "resets": 0,
            "bot_resets": 0,
            "abandoned": 0,
        }
        self.stop = threading.Event()
        self.host_reset = threading.Event()  # the host gave up on the command in hand
        self.sysfs_device: Path | None = None
        self._ep0 = self._in = self._out = -1

    # --- set-up -------------------------------------------------------------------------

    def start(self) -> Path:
        root = self.root
        root.mkdir()
        (root / "idVendor").write_text(f"{self.ids[0]:#06x}")
        (root / "idProduct").write_text(f"{self.ids[1]:#06x}")
        texts = root / "strings" / LANG
        texts.mkdir(parents=True)
        for attr, value in zip(
            ("manufacturer", "product", "serialnumber"), self.texts, strict=True
        ):
            (texts / attr).write_text(value)
        function = root / "functions" / f"ffs.{self.name}"
        function.mkdir(parents=True)
        config = root / "configs" / "c.1"
        (config / "strings" / LANG).mkdir(parents=True)
        (config / "strings" / LANG / "configuration").write_text("bulk-only")
        os.symlink(function, config / f"ffs.{self.name}")
        self.mount.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "functionfs", self.name, str(self.mount)], check=True)
        self._ep0 = os.open(self.mount / "ep0", os.O_RDWR)
        os.write(self._ep0, descriptors())
        os.write(self._ep0, strings("rescue bulk-only"))
        self._in = os.open(self.mount / "ep1", os.O_RDWR)
        self._out = os.open(self.mount / "ep2", os.O_RDWR)
        threading.Thread(target=self._control, daemon=True).start()
        threading.Thread(target=self._serve, daemon=True).start()
        return self._plug()

    def _plug(self) -> Path:
        """Bind to a free controller; the SCSI device behind its host side is this drive's.

        Other gadgets may be plugging in at the same moment (one process each):
        dummy_hcd pairs ``dummy_udc.N`` with ``dummy_hcd.N``, so only a device
        below that host controller can be ours.
        """
        udc = self._bind()
        host = f"/dummy_hcd.{udc.rpartition('.')[2]}/"
        deadline = time.monotonic() + NODE_WAIT_SECONDS
        while time.monotonic() < deadline:
            for device in sorted(d for d in _scsi_devices() if host in str(d)):
                if (device / "scsi_generic").is_dir():
                    self.sysfs_device = device
                    self._tell_host_the_cap(device)
                    return device
            time.sleep(0.25)
        raise RuntimeError("no SCSI device appeared behind usb-storage")

    def _bind(self) -> str:
        """Write a free UDC's name; another process may take the same one first (EBUSY)."""
        for _ in range(10):
            udc = free_udc()
            try:
                (self.root / "UDC").write_text(udc)
                return udc
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("no USB device controller could be bound")

    def _tell_host_the_cap(self, device: Path) -> None:
        """Set the SCSI device's ``max_sectors`` to the cap, as a usb-storage quirk would
        (again after every re-enumeration: the new device starts at 240)."""
        if self.max_transfer is not None:
            sectors = max(1, min(self.max_transfer, 240 * 512) // 512)
            (device / "max_sectors").write_text(f"{sectors}\n")

    def _unplug(self) -> None:
        try:
            (self.root / "UDC").write_text("\n")
        except OSError:
            pass

    def reconnect(self) -> Path:
        old = self.sysfs_device
        self._unplug()
        deadline = time.monotonic() + NODE_WAIT_SECONDS
        while old is not None and old.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        return self._plug()

    def close(self) -> None:
        self.stop.set()
        self._unplug()
        for fd in (self._in, self._out, self._ep0):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        subprocess.run(["umount", str(self.mount)], check=False)
        config = self.root / "configs" / "c.1"
        link = config / f"ffs.{self.name}"
        if link.is_symlink():
            link.unlink()
        for directory in (
            config / "strings" / LANG,
            config,
            self.root / "functions" / f"ffs.{self.name}",
            self.root / "strings" / LANG,
            self.root,
        ):
            try:
                directory.rmdir()
            except OSError:
                pass

    # --- ep0: class requests ------------------------------------------------------------

    def _control(self) -> None:
        while not self.stop.is_set():
            try:
                chunk = os.read(self._ep0, EVENT_SIZE * 4)
            except OSError:
                if self.stop.is_set():
                    return
                time.sleep(0.1)
                continue
            for at in range(0, len(chunk) - EVENT_SIZE + 1, EVENT_SIZE):
                setup, kind = chunk[at : at + 8], chunk[at + 8]
                if kind == EVENT_SETUP:
                    self._setup(setup)
                elif kind in (EVENT_DISABLE, EVENT_UNBIND):  # a port reset or an unplug
                    self.host_reset.set()

    def _setup(self, setup: bytes) -> None:
        request_type, request, _value, _index, length = struct.unpack("<BBHHH", setup)
        try:
            if request == GET_MAX_LUN and request_type == 0xA1:
                os.write(self._ep0, b"\x00")  # one LUN
            elif request == BOT_RESET and request_type == 0x21:
                self.sense = b""
                self.stats["bot_resets"] += 1
                self.host_reset.set()
                os.read(self._ep0, 0)  # status stage: acknowledged
            elif request_type & 0x80:
                os.read(self._ep0, 0)  # stall: an IN request answered with a read
            else:
                os.write(self._ep0, b"")  # stall: an OUT request answered with a write
        except OSError:
            pass

    # --- bulk endpoints: the transport --------------------------------------------------

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                cbw = os.read(self._out, 512)
            except OSError:
                if self.stop.is_set():
                    return
                time.sleep(0.05)  # disabled while (re-)enumerating
                continue
            if len(cbw) != CBW_LEN or struct.unpack_from("<I", cbw)[0] != CBW_SIGNATURE:
                continue  # not a CBW: wait for the host's reset recovery
            try:
                self._command(cbw)
            except (OSError, _Abandoned):
                continue

    def _command(self, cbw: bytes) -> None:
        _sig, tag, length, flags, _lun, cb_len = struct.unpack_from("<IIIBBB", cbw)
        cdb = bytes(cbw[15 : 15 + (cb_len & 0x1F)])
        data_in = bool(flags & 0x80)
        self.host_reset.clear()
        data_out = self._receive(length) if length and not data_in else None
        self._count(cdb, length)
        status, data = self._run(cdb, data_out, length if data_in else 0)
        residue = 0
        if data_in and length:
            residue = length - len(data)
            self._send(data + bytes(residue))  # padded: the residue in the CSW says so
        os.write(self._in, struct.pack("<IIIB", CSW_SIGNATURE, tag, residue, status))
        if self.reset_after is not None and cdb and status == STATUS_PASSED:
            opcode, mode = self.reset_after
            if cdb[0] == opcode and (mode is None or (len(cdb) > 1 and cdb[1] & 0x1F == mode)):
                threading.Thread(target=self._reset, daemon=True).start()

    def _run(self, cdb: bytes, data_out: bytes | None, data_in: int) -> tuple[int, bytes]:
        """Run one CDB through the bridge's rules and the model: (CSW status, data-in)."""
        if not cdb:
            return STATUS_PHASE_ERROR, b""
        if cdb[0] == REQUEST_SENSE and self.sense:
            sense, self.sense = self.sense, b""
            return STATUS_PASSED, sense[:data_in]
        size = len(data_out) if data_out is not None else data_in
        if self.max_transfer is not None and size > self.max_transfer:
            self.stats["over_cap"] += 1
            self.sense = fixed_sense(INVALID_FIELD_IN_CDB)
            return STATUS_FAILED, b""
        if cdb[0] in self.refuse:
            self.stats["refused"].append(cdb[0])
            self.sense = fixed_sense(INVALID_OPCODE)
            return STATUS_FAILED, b""
        reply = self.device.submit(cdb, data_out, data_in)
        if reply.gone:  # the drive dropped off: so does the bridge
            self.stats["gone"] = True
            threading.Thread(target=self._unplug, daemon=True).start()
            self.stop.wait()
        if reply.hang:  # never answers: the host times out and resets
            while not (self.host_reset.wait(0.2) or self.stop.is_set()):
                pass
            self.stats["abandoned"] += 1
            print(f"ABANDONED {cdb.hex()}", flush=True)
            raise _Abandoned
        if reply.busy_seconds > 0:
            self.device.clock.sleep(reply.busy_seconds)
        if reply.status == CHECK_CONDITION:
            self.sense = reply.sense
            return STATUS_FAILED, reply.data[:data_in]
        self.sense = b""
        return STATUS_PASSED, reply.data[:data_in]

    def _count(self, cdb: bytes, length: int) -> None:
        """The gadget's own log of transfer lengths: what a cap test holds rescue to."""
        stats = self.stats
        stats["commands"] += 1
        stats["largest"] = max(stats["largest"], length)
        if cdb:
            by_opcode = stats["largest_by_opcode"]
            key = f"{cdb[0]:02x}"
            by_opcode[key] = max(by_opcode.get(key, 0), length)

    def _receive(self, length: int) -> bytes:
        parts, got = [], 0
        while got < length:
            part = os.read(self._out, length - got)
            if not part:
                break
            parts.append(part)
            got += len(part)
        return b"".join(parts)

    def _send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            sent = os.write(self._in, view)
            view = view[sent:]

    def _reset(self) -> None:
        time.sleep(0.2)  # let the host take the CSW first
        self.stats["resets"] += 1
        device = self.reconnect()
        print(f"RESET {_nodes(device)}", flush=True)


class _Abandoned(Exception):
    """The host reset the transport while the model hung: no data, no CSW for it."""


def _nodes(device: Path) -> str:
    def first(sub: str) -> str:
        try:
            return sorted(p.name for p in (device / sub).iterdir())[0]
        except (OSError, IndexError):
            return "-"

    return f"{device.name} {first('scsi_generic')} {first('block')}"


def _reset_rule(text: str | None) -> tuple[int, int | None] | None:
    if not text:
        return None
    opcode, _, mode = text.partition(":")
    return int(opcode, 16), int(mode, 16) if mode else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", help="emulated model spec, as after emu:")
    parser.add_argument("--max-transfer", type=int, help="bytes one command may move")
    parser.add_argument("--refuse", choices=("vendor", "none"), default="none")
    parser.add_argument("--reset-after", help="OPCODE[:MODE] in hex, e.g. 3b:07")
    parser.add_argument("--name", default="rescue_bot")
    parser.add_argument("--serial", default="RESCUEBOT0001", help="the bridge's iSerial")
    args = parser.parse_args(argv)
    gadget = BotGadget(
        args.spec,
        name=args.name,
        max_transfer=args.max_transfer,
        refuse=GADGET_REFUSES if args.refuse == "vendor" else frozenset(),
        reset_after=_reset_rule(args.reset_after),
        serial=args.serial,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    try:
        device = gadget.start()
        print(f"READY {_nodes(device)}", flush=True)
        while not done.wait(0.5):
            pass
    finally:
        gadget.close()
        print(f"STATS {json.dumps(gadget.stats)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
