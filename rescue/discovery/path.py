"""How a drive is attached, and what that path lets through: read from sysfs, no command sent.

Most drives in a home, and many on a bench, sit behind a USB bridge, and the
bridge decides things the drive never sees (issue 13):

- **how it is attached**: libata (SATA/PATA, the ATAPI drive gets every CDB
  unchanged), USB bulk-only transport (``usb-storage``), USB Attached SCSI
  (``uas``), or a virtual host (virtio-scsi, tcm_loop). The USB device that
  carries the drive is the *bridge*; its ``idVendor``/``idProduct``,
  ``manufacturer``, ``product`` and ``serial`` name it.
- **the largest transfer**: one SG_IO command moves at most what the block
  queue takes. The kernel holds pass-through requests to
  ``queue/max_hw_sectors_kb`` and its own I/O to ``queue/max_sectors_kb``;
  a user buffer may need one segment per page, so ``max_segments`` pages is
  a bound too. Over the limit the ioctl fails with EINVAL, no SCSI error
  (docs/protocols.md, "Linux facts that bite"). usb-storage caps a device at 240
  sectors (120 KiB) unless told otherwise and shows its cap as the SCSI
  device's ``max_sectors`` attribute (drivers/usb/storage/scsiglue.c).
  The sg driver's reserved buffer (``def_reserved_size``) is not a cap:
  larger transfers are built from fresh pages (sg(4)); it is shown because
  tools from other eras treated it as one.
- **what gets through**: libata relays every CDB to an ATAPI drive and
  answers ATA PASS-THROUGH(16) itself, so both are known to pass the path
  (the drive may still refuse). Behind a USB bridge neither is known until
  something asks: some bridges refuse vendor opcodes or ATA pass-through
  (``rescue probe`` asks with a command that writes nothing).

Everything here reads files; a missing file leaves a field None.
"""

from __future__ import annotations

import os

from rescue.discovery.sysfs import is_ata_port, is_hctl, read_attr, usb_device_dir
from rescue.record import record

SECTOR = 512
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
USB_STORAGE_DEFAULT_SECTORS = 240  # 120 KiB: usb-storage's host template max_sectors

# attachment -> words a person reads
ATTACHMENTS = {
    "ata": "SATA/PATA via libata",
    "usb-bot": "USB bulk-only transport (usb-storage)",
    "uas": "USB Attached SCSI (uas)",
    "usb": "USB",
    "virtio": "virtio-scsi (virtual)",
    "tcm_loop": "tcm_loop (kernel target, virtual)",
    "scsi": "SCSI host adapter",
    "emulated": "emulated in-process (no bus)",
    "unknown": "unknown",
}
USB_ATTACHMENTS = ("usb-bot", "uas", "usb")

UNKNOWN = "unknown"
PASSES = "passes"
REFUSED = "refused"


@record(frozen=True)
class UsbBridge:
    """The USB device that carries the drive (its sysfs directory has idVendor/idProduct)."""

    vendor_id: str | None
    product_id: str | None
    manufacturer: str | None
    product: str | None
    serial: str | None
    speed: str | None  # Mb/s as sysfs says it ("480", "5000")
    driver: str | None  # the USB interface's driver: usb-storage or uas
    sysfs_path: str | None = None

    @property
    def usb_id(self) -> str | None:
        if self.vendor_id and self.product_id:
            return f"{self.vendor_id}:{self.product_id}"
        return None

    @property
    def name(self) -> str:
        words = " ".join(w for w in (self.manufacturer, self.product) if w)
        return " ".join(w for w in (self.usb_id, words and f"({words})") if w) or "unnamed bridge"

    def to_dict(self) -> dict[str, object]:
        return {
            "usb_id": self.usb_id,
            "vendor_id": self.vendor_id,
            "product_id": self.product_id,
            "manufacturer": self.manufacturer,
            "product": self.product,
            "serial": self.serial,
            "speed_mbps": self.speed,
            "driver": self.driver,
            "sysfs_path": self.sysfs_path,
        }


@record(frozen=True)
class QueueLimits:
    """The numbers that bound one command's data, as sysfs shows them (None: not shown)."""

    max_hw_sectors_kb: int | None = None
    max_sectors_kb: int | None = None
    max_segments: int | None = None
    max_segment_size: int | None = None
    device_max_sectors: int | None = None  # usb-storage's per-device cap, 512-byte sectors
    sg_reserved_size: int | None = None
    declared: int | None = None  # a cap a model declares (emulated paths), in bytes
    declared_by: str | None = None

    def largest_transfer(self) -> tuple[int | None, str]:
        """The most bytes one command may move, and which limit decides it.

        The smallest of the known bounds: staying under all of them is safe on
        every kernel. None when sysfs shows none of them (no block queue: the
        drive has only an sg node) and no cap was declared.
        """
        bounds: list[tuple[int, str]] = []
        if self.declared is not None:
            bounds.append((self.declared, self.declared_by or "declared by the model"))
        if self.max_hw_sectors_kb is not None:
            bounds.append((self.max_hw_sectors_kb * 1024, "queue max_hw_sectors_kb"))
        if self.max_sectors_kb is not None:
            bounds.append((self.max_sectors_kb * 1024, "queue max_sectors_kb"))
        if self.device_max_sectors is not None:
            bounds.append((self.device_max_sectors * SECTOR, "usb-storage max_sectors"))
        if self.max_segments is not None:
            per = min(PAGE_SIZE, self.max_segment_size or PAGE_SIZE)
            bounds.append((self.max_segments * per, "queue max_segments (one page each)"))
        if not bounds:
            return None, self.declared_by or "no block queue limits in sysfs"
        size, source = min(bounds, key=lambda bound: bound[0])
        return size, source

    def to_dict(self) -> dict[str, object]:
        size, source = self.largest_transfer()
        return {
            "largest_transfer": size,
            "decided_by": source,
            "max_hw_sectors_kb": self.max_hw_sectors_kb,
            "max_sectors_kb": self.max_sectors_kb,
            "max_segments": self.max_segments,
            "max_segment_size": self.max_segment_size,
            "device_max_sectors": self.device_max_sectors,
            "sg_reserved_size": self.sg_reserved_size,
            "declared": self.declared,
        }


@record(frozen=True)
class PathInfo:
    """How one drive is attached and what the path lets through.

    ``vendor_commands`` and ``ata_passthrough`` are ``passes``, ``refused``
    or ``unknown``, with the reason beside each: discovery sends no command,
    so behind a bridge they stay unknown until a probe asks.
    """

    attachment: str
    host: str | None
    bridge: UsbBridge | None
    limits: QueueLimits
    vendor_commands: str
    vendor_commands_why: str
    ata_passthrough: str
    ata_passthrough_why: str

    @property
    def label(self) -> str:
        return ATTACHMENTS.get(self.attachment, self.attachment)

    @property
    def is_usb(self) -> bool:
        return self.attachment in USB_ATTACHMENTS

    @property
    def largest_transfer(self) -> int | None:
        return self.limits.largest_transfer()[0]

    def short(self) -> str:
        """One cell for ``rescue list``: "usb-bot 152d:2339" or "ata"."""
        if self.bridge is not None and self.bridge.usb_id:
            return f"{self.attachment} {self.bridge.usb_id}"
        return self.attachment

    def to_dict(self) -> dict[str, object]:
        return {
            "attachment": self.attachment,
            "label": self.label,
            "host": self.host,
            "bridge": self.bridge.to_dict() if self.bridge else None,
            "limits": self.limits.to_dict(),
            "vendor_commands": {"status": self.vendor_commands, "why": self.vendor_commands_why},
            "ata_passthrough": {"status": self.ata_passthrough, "why": self.ata_passthrough_why},
        }


def read_path(
    device_dir: str, sysfs_root: str, host: str | None = None, block: str | None = None
) -> PathInfo:
    """The path of the SCSI device at ``device_dir`` (an H:C:T:L directory, resolved)."""
    hctl = os.path.basename(device_dir)
    if host is None and is_hctl(hctl):
        host = read_attr(
            os.path.join(sysfs_root, "class", "scsi_host", f"host{hctl.split(':')[0]}"),
            "proc_name",
        )
    usb_dir = usb_device_dir(device_dir, sysfs_root)
    bridge = _bridge(usb_dir, device_dir) if usb_dir is not None else None
    attachment = _attachment(device_dir, host, bridge)
    limits = read_limits(device_dir, sysfs_root, block)
    vendor, vendor_why, sat, sat_why = _passes(attachment, bridge)
    return PathInfo(
        attachment=attachment,
        host=host,
        bridge=bridge,
        limits=limits,
        vendor_commands=vendor,
        vendor_commands_why=vendor_why,
        ata_passthrough=sat,
        ata_passthrough_why=sat_why,
    )


def _attachment(device_dir: str, host: str | None, bridge: UsbBridge | None) -> str:
    if any(is_ata_port(part) for part in device_dir.split(os.sep)):
        return "ata"
    if host == "uas" or (bridge is not None and bridge.driver == "uas"):
        return "uas"
    if host == "usb-storage" or (bridge is not None and bridge.driver == "usb-storage"):
        return "usb-bot"
    if bridge is not None:
        return "usb"
    return {"virtio_scsi": "virtio", "tcm_loopback": "tcm_loop", None: "unknown"}.get(host, "scsi")


def _passes(attachment: str, bridge: UsbBridge | None) -> tuple[str, str, str, str]:
    if attachment == "ata":
        return (
            PASSES,
            "libata hands every CDB to an ATAPI drive unchanged (the drive may still refuse)",
            PASSES,
            "libata answers ATA PASS-THROUGH(16) itself (SAT)",
        )
    if attachment in USB_ATTACHMENTS:
        who = bridge.name if bridge is not None else "the USB bridge"
        return (
            UNKNOWN,
            f"not probed: {who} may refuse vendor commands; `rescue probe DEV` asks "
            "without writing anything",
            UNKNOWN,
            f"not probed: {who} may not translate ATA PASS-THROUGH (SAT)",
        )
    if attachment in ("virtio", "tcm_loop"):
        return (
            PASSES,
            "a virtual host passes every CDB to its backend",
            UNKNOWN,
            "up to the backend",
        )
    return (UNKNOWN, "not probed", UNKNOWN, "not probed")


def read_limits(device_dir: str, sysfs_root: str, block: str | None = None) -> QueueLimits:
    """Queue limits from ``block/<name>/queue`` (sr bound), the device's own ``max_sectors``
    (usb-storage) and the sg driver's reserved size."""
    queue = None
    names = [block] if block else _children(os.path.join(device_dir, "block"))
    for name in names:
        candidate = os.path.join(device_dir, "block", name, "queue")
        if os.path.isdir(candidate):
            queue = candidate
            break
    parameters = os.path.join(sysfs_root, "module", "sg", "parameters")
    reserved = _int(read_attr(parameters, "def_reserved_size"))
    if reserved is None and os.path.normpath(sysfs_root) == "/sys":
        reserved = _int(_read_file("/proc/scsi/sg/def_reserved_size"))
    return QueueLimits(
        max_hw_sectors_kb=_int(read_attr(queue, "max_hw_sectors_kb")) if queue else None,
        max_sectors_kb=_int(read_attr(queue, "max_sectors_kb")) if queue else None,
        max_segments=_int(read_attr(queue, "max_segments")) if queue else None,
        max_segment_size=_int(read_attr(queue, "max_segment_size")) if queue else None,
        device_max_sectors=_int(read_attr(device_dir, "max_sectors")),
        sg_reserved_size=reserved,
    )


def _bridge(usb_dir: str, device_dir: str) -> UsbBridge:
    return UsbBridge(
        vendor_id=read_attr(usb_dir, "idVendor"),
        product_id=read_attr(usb_dir, "idProduct"),
        manufacturer=read_attr(usb_dir, "manufacturer"),
        product=read_attr(usb_dir, "product"),
        serial=read_attr(usb_dir, "serial"),
        speed=read_attr(usb_dir, "speed"),
        driver=_interface_driver(usb_dir, device_dir),
        sysfs_path=usb_dir,
    )


def _interface_driver(usb_dir: str, device_dir: str) -> str | None:
    """The driver of the USB interface between the USB device and the SCSI host."""
    parent = os.path.dirname(device_dir)
    while parent != usb_dir:
        above = os.path.dirname(parent)
        if above == usb_dir:  # the interface directory, e.g. 1-1:1.0
            try:
                return os.path.basename(os.readlink(os.path.join(parent, "driver")))
            except OSError:
                return None
        if above == parent:  # the top: USB_DIR is not above the device
            return None
        parent = above
    return None


def device_dir_of_node(node: str, sysfs_root: str = "/sys") -> str | None:
    """The SCSI device directory behind ``/dev/sgN`` or ``/dev/srN`` (links followed)."""
    name = os.path.basename(os.path.realpath(node)) if node.startswith("/") else node
    for klass in ("scsi_generic", "block"):
        link = os.path.join(sysfs_root, "class", klass, name, "device")
        try:
            resolved = os.path.realpath(link, strict=True)
        except (OSError, RuntimeError):
            continue
        if is_hctl(os.path.basename(resolved)):
            return resolved
    return None


def path_of_node(node: str, sysfs_root: str = "/sys") -> PathInfo | None:
    """The path of the drive at ``node``; None when sysfs does not know the node."""
    device_dir = device_dir_of_node(node, sysfs_root)
    if device_dir is None:
        return None
    return read_path(device_dir, sysfs_root)


def _children(directory: str) -> list[str]:
    try:
        return sorted(os.listdir(directory))
    except OSError:
        return []


def _read_file(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read().strip() or None
    except OSError:
        return None


def _int(text: str | None) -> int | None:
    if text is None or not (text.isascii() and text.isdigit()):
        return None
    return int(text)
