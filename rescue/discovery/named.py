"""The one drive a user named by its node, read from that node's own sysfs entries.

A command on one drive (``rescue scan /dev/sg3``) needs that drive's facts,
not every drive's: a full walk reads each drive's attributes and its path
(about 0.8 s under QEMU's TCG with a test bed's drives), most of the
command's start-up. The kernel links each class device to its SCSI device
directory (``/sys/class/scsi_generic/sgN/device``, ``/sys/class/block/srN/device``;
docs/protocols.md, "Finding one drive by its node"), so the node leads
straight to the directory ``discover()`` would read for it.

Anything this does not settle (not a node, no such sysfs entry, not a CD/DVD
device) returns None and ``resolve()`` walks as before, so its answers and its
error messages stay those of the walk. The one fact that needs the others is
the drive's index: it is counted from the peripheral types of the devices
before it in H:C:T:L order (one attribute each), which is the walk's order;
with udev, a drive udev tags as a CD though its type is not 5 is not counted.

udev's facts about the drive (its disc, its capabilities, whether its sr
node is a CD drive's) come from the one block device's entry in udev's
database (``rescue.discovery.udevdb``), read where the walk would use udev
(``udev.database``): pyudev, ctypes and libudev are not loaded for one drive.
Where the database exists but pyudev or libudev does not, the walk falls back
to sysfs while this still reads udev's entry (the boot image has both).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from rescue.discovery import sysfs, udev, udevdb
from rescue.discovery.model import DriveNode
from rescue.discovery.path import device_dir_of_node, read_path
from rescue.discovery.sysfs import (
    Candidate,
    ScsiDevice,
    decimal,
    hctl_key,
    is_hctl,
    node_at,
    read_attr,
)


def is_node_name(text: str) -> bool:
    """``s[rg][0-9]+``, the whole text: the kernel's sr and sg node names (``sg3``)."""
    return text[:2] in ("sr", "sg") and decimal(text[2:])


def node_name(spec: str, dev_root: str = "/dev") -> str | None:
    """The kernel name (``sg3``) of the node SPEC names: bare, a path, or a link to one."""
    text = spec.strip()
    if is_node_name(text):
        return text
    if not text.startswith("/") or "\0" in text:  # a NUL is in no path (realpath raises)
        return None
    real = os.path.realpath(text)
    name = os.path.basename(real)
    if os.path.dirname(real) == dev_root and is_node_name(name):
        return name
    return None


def by_node(spec: str, sysfs_root: str = "/sys", dev_root: str = "/dev") -> DriveNode | None:
    """The optical drive at the node SPEC names, as ``discover()`` would describe it.

    None when SPEC is not a node or its sysfs entries do not show an optical
    drive there; the caller then walks every drive.
    """
    name = node_name(spec, dev_root)
    if name is None:
        return None
    device_dir = device_dir_of_node(name, sysfs_root)
    if device_dir is None:
        return None
    scsi = sysfs.read_device(device_dir, sysfs_root)
    if not isinstance(scsi, ScsiDevice) or not scsi.is_optical:
        return None
    if name not in (scsi.block, scsi.generic):  # the class link led elsewhere: let the walk say
        return None
    database = udev.database(sysfs_root)
    props: Mapping[str, str] | None = None
    sr = node_at(dev_root, scsi.block)
    if database is not None and scsi.block is not None:
        props = udevdb.block_properties(os.path.join(scsi.path, "block", scsi.block), database)
        if not udev.is_cd(props):
            props, sr = None, None  # the udev walk pairs an sr node only with a tagged CD
    found = Candidate(scsi, sr, node_at(dev_root, scsi.generic), True, props)
    return drive_node(_index(scsi.hctl, sysfs_root), found, sysfs_root)


def drive_node(index: int, found: Candidate, sysfs_root: str) -> DriveNode:
    """Merge the sysfs facts with udev's; sysfs wins for identity (it is the
    kernel's copy of the drive's INQUIRY data), udev fills what sysfs lacks."""
    scsi, props = found.scsi, found.properties or {}
    udev_vendor, udev_model, udev_revision = udev.identity(props)
    return DriveNode(
        index=index,
        hctl=scsi.hctl,
        sr=found.sr,
        sg=found.sg,
        vendor=scsi.vendor or udev_vendor,
        model=scsi.model or udev_model,
        revision=scsi.revision or udev_revision,
        transport=scsi.transport,
        driver=scsi.driver,
        host=scsi.host,
        usb_id=scsi.usb_id,
        usb_product=scsi.usb_product,
        media=udev.media(props),
        capabilities=udev.capabilities(props),
        sysfs_path=scsi.path,
        path=read_path(scsi.path, sysfs_root, scsi.host, scsi.block),
    )


def _index(hctl: str, root: str) -> int:
    """How many optical drives come before HCTL in H:C:T:L order (``rescue list``'s index)."""
    key = hctl_key(hctl)
    count = 0
    for link in sysfs.device_dirs(root):
        label = sysfs.device_label(link)
        if is_hctl(label) and hctl_key(label) < key:
            count += read_attr(link, "type") == str(sysfs.MMC_PERIPHERAL_TYPE)
    return count
