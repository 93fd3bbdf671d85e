"""An emulated drive behind an emulated USB bridge: a transfer cap and the opcodes it drops.

What a USB-to-ATAPI bridge does to a drive's commands, as far as ``rescue``
can see it from the host (issue 13; docs/testbed.md "A real USB path"):

- **a transfer cap**: usb-storage holds a device to ``max_sectors`` (240
  sectors, 120 KiB, by default); one SG_IO over the queue's limit fails in
  the kernel with EINVAL before anything reaches the bus. The wrapper does
  the same: a command moving more than ``max_transfer`` bytes raises the
  ``TransportError`` the real transport raises for EINVAL, and never reaches
  the drive.
- **commands it does not forward**: many bridges (and the kernel's own
  mass-storage gadget) answer opcodes they do not know with 5/20/00 INVALID
  COMMAND OPERATION CODE themselves; the drive never sees them. ``refuse``
  is that set (default: WRITE BUFFER, READ BUFFER, ATA PASS-THROUGH and the
  vendor range C0h-FFh, as the kernel's f_mass_storage does).

``path_info`` describes the path the way discovery describes a real one,
so ``rescue.ops.pathcheck`` treats both alike.
"""

from __future__ import annotations

from rescue.discovery.path import PathInfo, QueueLimits, UsbBridge
from rescue.emulator.base import CHECK_CONDITION, Device, Reply
from rescue.emulator.sense import INVALID_OPCODE, fixed_sense
from rescue.errors import TransportError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import Any

USB_STORAGE_MAX_TRANSFER = 240 * 512  # usb-storage's default max_sectors
WRITE_BUFFER, READ_BUFFER, ATA_PASS_THROUGH_12, ATA_PASS_THROUGH_16 = 0x3B, 0x3C, 0xA1, 0x85
VENDOR_OPCODES = frozenset(range(0xC0, 0x100))
#: What the kernel's mass-storage gadget refuses among the commands flashing needs.
GADGET_REFUSES = frozenset({WRITE_BUFFER, READ_BUFFER, ATA_PASS_THROUGH_16}) | VENDOR_OPCODES


BRIDGES = ("none", "usb", "usb-novendor")


def bridged(device: Device, bridge: str, maxxfer: str | None) -> BridgedDevice:
    """``device`` behind the path the ``bridge=`` and ``maxxfer=`` spec keys describe."""
    if bridge not in BRIDGES:
        raise ValueError(f"bridge={bridge!r}: want one of {', '.join(BRIDGES)}")
    cap = None
    if maxxfer is not None:
        if not (maxxfer.isascii() and maxxfer.isdigit()) or not 0 < int(maxxfer) <= 1 << 30:
            raise ValueError(f"maxxfer={maxxfer!r}: want a byte count from 1 to 2^30")
        cap = int(maxxfer)
    if bridge == "none":
        return BridgedDevice(device, max_transfer=cap, refuse=frozenset(), attachment="emulated")
    return BridgedDevice(
        device,
        max_transfer=USB_STORAGE_MAX_TRANSFER if cap is None else cap,
        refuse=GADGET_REFUSES if bridge == "usb-novendor" else frozenset(),
    )


class BridgedDevice:
    """``device`` as seen through a USB bridge; a ``Device`` itself."""

    def __init__(
        self,
        device: Device,
        *,
        max_transfer: int | None = USB_STORAGE_MAX_TRANSFER,
        refuse: frozenset[int] = GADGET_REFUSES,
        attachment: str = "usb-bot",
        usb_id: str = "152d:2339",
        manufacturer: str = "JMicron",
        product: str = "USB to ATA/ATAPI Bridge",
    ) -> None:
        self.device = device
        self.max_transfer = max_transfer
        self.refuse = refuse
        self.largest_seen = 0
        self.refused: list[int] = []  # opcodes the bridge answered itself
        vid, _, pid = usb_id.partition(":")
        self.bridge = UsbBridge(
            vendor_id=vid,
            product_id=pid,
            manufacturer=manufacturer,
            product=product,
            serial=None,
            speed="480",
            driver="uas" if attachment == "uas" else "usb-storage",
        )
        self.attachment = attachment

    @property
    def clock(self) -> Any:
        return self.device.clock

    @property
    def path_info(self) -> PathInfo:
        if self.attachment == "emulated":
            return PathInfo(
                attachment="emulated",
                host=None,
                bridge=None,
                limits=QueueLimits(
                    declared=self.max_transfer,
                    declared_by="the emulated model's transfer cap (maxxfer=)",
                ),
                vendor_commands="passes",
                vendor_commands_why="an emulated drive gets every CDB",
                ata_passthrough="unknown",
                ata_passthrough_why="up to the model",
            )
        who = self.bridge.name
        return PathInfo(
            attachment=self.attachment,
            host="uas" if self.attachment == "uas" else "usb-storage",
            bridge=self.bridge,
            limits=QueueLimits(
                declared=self.max_transfer, declared_by="the emulated bridge's transfer cap"
            ),
            vendor_commands="unknown",
            vendor_commands_why=f"not probed: {who} may refuse vendor commands; "
            "`rescue probe DEV` asks without writing anything",
            ata_passthrough="unknown",
            ata_passthrough_why=f"not probed: {who} may not translate ATA PASS-THROUGH (SAT)",
        )

    def submit(self, cdb: bytes, data_out: bytes | None, data_in_len: int) -> Reply:
        size = len(data_out) if data_out is not None else data_in_len
        if self.max_transfer is not None and size > self.max_transfer:
            raise TransportError(
                f"a {size}-byte transfer for command {cdb[0]:02X}h exceeds what the kernel "
                f"queue accepts ({self.max_transfer} bytes behind this USB bridge)",
                hint="use smaller chunks (see /sys/block/srN/queue/max_sectors_kb)",
            )
        self.largest_seen = max(self.largest_seen, size)
        if cdb and cdb[0] in self.refuse:
            self.refused.append(cdb[0])
            return Reply(status=CHECK_CONDITION, sense=fixed_sense(INVALID_OPCODE))
        return self.device.submit(cdb, data_out, data_in_len)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.device, name)
