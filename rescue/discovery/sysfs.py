"""Read what the kernel shows about one SCSI device under /sys, and nothing more.

Both discovery sources end here: udev tells *which* devices exist and adds
its own properties, but identity, drivers and the path to the host adapter
are always read from sysfs, so the two sources cannot disagree about them.

Shapes relied on (Linux ``Documentation/ABI/`` and drivers/scsi/scsi_sysfs.c,
read for facts): a SCSI device directory is named ``H:C:T:L`` and holds the
attributes ``type`` (the INQUIRY peripheral device type), ``vendor``,
``model``, ``rev``; a ``driver`` link; child directories ``block/<name>`` and
``scsi_generic/sgN`` when sr/sd and sg are bound. The host adapter's driver
name is ``/sys/class/scsi_host/hostH/proc_name``; libata ports appear as an
``ataN`` directory in the device path; a USB device directory carries
``idVendor``/``idProduct``/``product``.

Every read may fail (a device unplugged mid-walk, a broken link, a
permission): failures become a ``SkippedDevice`` or a None field, never an
exception. Paths are strings joined with ``os.path``: pathlib would bring
urllib.parse, ipaddress, ntpath and fnmatch into `rescue list`
(docs/performance.md, "Start-up of a scan").
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from rescue.discovery.model import SkippedDevice
from rescue.record import record

MMC_PERIPHERAL_TYPE = 5  # SPC "CD/DVD device": the type MMC drives report

# SPC peripheral device type names, as the T10 table and the kernel's
# scsi_device_types[] list them; only used to say why a device was skipped.
PERIPHERAL_TYPE_NAMES = {
    0x00: "disk",
    0x01: "tape",
    0x02: "printer",
    0x03: "processor",
    0x04: "write-once",
    0x05: "cd/dvd",
    0x06: "scanner",
    0x07: "optical memory",
    0x08: "medium changer",
    0x09: "communications",
    0x0C: "storage array",
    0x0D: "enclosure",
    0x0E: "simplified disk",
    0x0F: "optical card",
    0x11: "object storage",
    0x12: "automation/drive interface",
    0x14: "zoned block",
    0x1E: "well-known LU",
    0x1F: "no device type",
}

# Host adapter proc_name -> transport, for hosts not recognised by their path.
HOST_TRANSPORTS = {
    "tcm_loopback": "tcm_loop",
    "virtio_scsi": "virtio",
    "usb-storage": "usb",
    "uas": "usb",
}

# The names below are told by str methods, not regexes compiled at import: a scan imports
# discovery before its first READ (issue 15); tests/test_discovery.py compares each with the
# pattern it replaces.


def decimal(text: str) -> bool:
    """``[0-9]+``, the whole text: ASCII digits only (``str.isdigit`` alone also takes "²",
    which ``int`` refuses)."""
    return text.isascii() and text.isdigit()


def is_hctl(text: str) -> bool:
    """``\\d+:\\d+:\\d+:\\d+``, the whole text: a SCSI device's H:C:T:L name (``\\d`` is
    any script's decimal digit, as ``str.isdecimal`` is)."""
    parts = text.split(":")
    return len(parts) == 4 and all(part.isdecimal() for part in parts)


def is_ata_port(text: str) -> bool:
    """``ata\\d+``, the whole text: a libata port's directory (``ata3``)."""
    return text.startswith("ata") and text[3:].isdecimal()


@record(frozen=True)
class ScsiDevice:
    """Facts about one H:C:T:L read from its sysfs directory."""

    hctl: str
    path: str  # the H:C:T:L directory, links resolved
    peripheral_type: int
    vendor: str | None
    model: str | None
    revision: str | None
    block: str | None  # kernel name of the block device (srN for a bound sr), if any
    generic: str | None  # kernel name of the sg device, if any
    driver: str | None
    host: str | None
    transport: str
    usb_id: str | None
    usb_product: str | None

    @property
    def is_optical(self) -> bool:
        return self.peripheral_type == MMC_PERIPHERAL_TYPE


def hctl_key(hctl: str) -> tuple[int, ...]:
    """Sort key giving numeric H:C:T:L order (so 10:0:0:0 comes after 2:0:0:0)."""
    return tuple(int(part) for part in hctl.split(":"))


def describe_type(peripheral_type: int) -> str:
    name = PERIPHERAL_TYPE_NAMES.get(peripheral_type, "unassigned")
    return f"peripheral type {peripheral_type} ({name}), not an optical drive"


def device_dirs(sysfs_root: str) -> list[str]:
    """Every SCSI device directory the kernel lists, unresolved (links may be broken).

    ``class/scsi_device`` holds one entry per device; where it is missing
    (older or trimmed trees) ``bus/scsi/devices`` is used, which also lists
    hosts and targets, hence the H:C:T:L name filter.
    """
    by_class = os.path.join(sysfs_root, "class", "scsi_device")
    if os.path.isdir(by_class):
        return [os.path.join(entry, "device") for entry in _list_dir(by_class)]
    by_bus = os.path.join(sysfs_root, "bus", "scsi", "devices")
    return [entry for entry in _list_dir(by_bus) if is_hctl(os.path.basename(entry))]


def device_label(link: str) -> str:
    """The H:C:T:L a ``device_dirs`` entry names: its own name, or its folder's for a
    ``class/scsi_device/H:C:T:L/device`` link."""
    folder, name = os.path.split(link)
    return os.path.basename(folder) if name == "device" else name


def read_device(link: str, sysfs_root: str) -> ScsiDevice | SkippedDevice:
    """Read one SCSI device directory (``link`` may be a symlink to it)."""
    label = device_label(link)
    try:
        path = os.path.realpath(link, strict=True)
    except (OSError, RuntimeError):
        return SkippedDevice(label, "broken link in sysfs (device gone?)", str(link))
    hctl = os.path.basename(path)
    if not is_hctl(hctl):
        return SkippedDevice(label, f"{hctl} is not an H:C:T:L device directory", path)
    type_text = read_attr(path, "type")
    if type_text is None or not decimal(type_text):
        return SkippedDevice(hctl, "peripheral type unreadable in sysfs", path)
    host = read_attr(
        os.path.join(sysfs_root, "class", "scsi_host", f"host{hctl.split(':')[0]}"), "proc_name"
    )
    usb_dir = usb_device_dir(path, sysfs_root)
    usb_id = usb_product = None
    if usb_dir is not None:
        vid, pid = read_attr(usb_dir, "idVendor"), read_attr(usb_dir, "idProduct")
        usb_id = f"{vid}:{pid}" if vid and pid else None
        usb_product = read_attr(usb_dir, "product")
    return ScsiDevice(
        hctl=hctl,
        path=path,
        peripheral_type=int(type_text),
        vendor=read_attr(path, "vendor"),
        model=read_attr(path, "model"),
        revision=read_attr(path, "rev"),
        block=_first_child(os.path.join(path, "block")),
        generic=_first_child(os.path.join(path, "scsi_generic")),
        driver=_link_name(os.path.join(path, "driver")),
        host=host,
        transport=_transport(path, host, usb_dir is not None),
        usb_id=usb_id,
        usb_product=usb_product,
    )


def read_attr(directory: str, name: str) -> str | None:
    """A sysfs attribute without its padding, or None when absent/unreadable/empty.

    INQUIRY strings are space-padded ASCII; undecodable bytes are replaced
    rather than failing, since a drive with junk in its identity is exactly
    the kind a rescue tool must still list.
    """
    try:
        with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as fh:
            text = fh.read().strip()
    except OSError:
        return None
    return text or None


def _transport(path: str, host: str | None, under_usb: bool) -> str:
    if any(is_ata_port(part) for part in path.split(os.sep)):
        return "ata"
    if under_usb:
        return "usb"
    if host is None:
        return "unknown"
    return HOST_TRANSPORTS.get(host, "scsi")


def usb_device_dir(path: str, sysfs_root: str) -> str | None:
    """The nearest ancestor of PATH (resolved) below the sysfs root that is a USB device (it
    has idVendor and idProduct)."""
    root = os.path.realpath(sysfs_root)
    below = os.path.join(root, "")  # the root with one trailing separator
    parent = os.path.dirname(path)
    while parent != root and parent.startswith(below):
        # os.path.isfile, unlike pathlib's is_file, also swallows EACCES.
        if os.path.isfile(os.path.join(parent, "idVendor")) and os.path.isfile(
            os.path.join(parent, "idProduct")
        ):
            return parent
        parent = os.path.dirname(parent)
    return None


def _first_child(directory: str) -> str | None:
    entries = _list_dir(directory)
    return os.path.basename(entries[0]) if entries else None


def _link_name(link: str) -> str | None:
    try:
        return os.path.basename(os.readlink(link))
    except OSError:
        return None


def _list_dir(directory: str) -> list[str]:
    try:
        return sorted(os.path.join(directory, name) for name in os.listdir(directory))
    except OSError:
        return []


@record(frozen=True)
class Candidate:
    """A readable SCSI device plus what the source knows beyond sysfs.

    ``optical`` is decided by the source: sysfs goes by peripheral type,
    udev also accepts a block device it tagged as a CD. ``properties`` are
    the udev properties of the drive's block device (None from sysfs).
    """

    scsi: ScsiDevice
    sr: str | None
    sg: str | None
    optical: bool
    properties: Mapping[str, str] | None = None


def scan(sysfs_root: str, dev_root: str) -> tuple[list[Candidate], list[SkippedDevice]]:
    """Every SCSI device under ``sysfs_root``; node paths are built under ``dev_root``.

    Node names are the kernel names (``srN``, ``sgN``): devtmpfs creates the
    nodes with exactly these names, which is why no udev is needed for them.
    """
    found: list[Candidate] = []
    problems: list[SkippedDevice] = []
    for link in device_dirs(sysfs_root):
        scsi = read_device(link, sysfs_root)
        if isinstance(scsi, SkippedDevice):
            problems.append(scsi)
            continue
        found.append(
            Candidate(
                scsi=scsi,
                sr=node_at(dev_root, scsi.block),
                sg=node_at(dev_root, scsi.generic),
                optical=scsi.is_optical,
            )
        )
    return found, problems


def node_at(dev_root: str, name: str | None) -> str | None:
    return os.path.join(dev_root, name) if name else None


def sysfs_unit_serial(sysfs_path: str | None) -> str | None:
    """The unit serial number from the kernel's copy of VPD page 80h, if it kept one.

    Here, with the rest of sysfs's reading, not in ``rescue.discovery.refind``: a scan's
    report names the drive by it, and need not load the refinding of drives for that."""
    if not sysfs_path:
        return None
    try:
        with open(os.path.join(sysfs_path, "vpd_pg80"), "rb") as file:
            page = file.read()
    except OSError:
        return None
    if len(page) < 4 or page[1] != 0x80:
        return None
    length = int.from_bytes(page[2:4], "big")
    return clean_serial(page[4 : 4 + length].decode("ascii", errors="replace"))


def clean_serial(text: str | None) -> str | None:
    """A serial as drives pad it (spaces, NULs) trimmed; None when nothing is left."""
    if text is None:
        return None
    text = text.strip(" \x00")
    return text or None
