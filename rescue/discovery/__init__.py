"""Find the optical drives on this machine without sending them any command.

``discover()`` lists them (through udev when the system has it, else by
walking sysfs); ``resolve()`` turns what a user typed as DEV into one of
them. Discovery is read-only on purpose: on a rescue bench a drive may be
half-flashed, and even an INQUIRY can wedge one, so commands are left to
the operations that need them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from rescue.discovery import sysfs, udev
from rescue.discovery.model import DriveNode, Inventory, Media, SkippedDevice
from rescue.discovery.named import by_node, drive_node, is_node_name
from rescue.discovery.path import PathInfo
from rescue.discovery.sysfs import decimal, describe_type, hctl_key
from rescue.discovery.udev import UdevContext, UdevDevice
from rescue.errors import DeviceNotFound

__all__ = [
    "DriveNode",
    "Inventory",
    "Media",
    "PathInfo",
    "SkippedDevice",
    "UdevContext",
    "UdevDevice",
    "discover",
    "pinned",
    "resolve",
]


def discover(
    include_all: bool = False,
    sysfs_root: str = "/sys",
    dev_root: str = "/dev",
    use_udev: bool | None = None,
    *,
    udev_context: UdevContext | None = None,
) -> Inventory:
    """Every optical drive, indexed 0..n-1 in H:C:T:L order.

    ``use_udev``: None picks udev when its database and libudev exist (and
    ``sysfs_root`` is the real /sys), True insists (UsageError otherwise),
    False walks sysfs only. ``udev_context`` supplies a pyudev-like context
    directly (tests, or a caller that already holds one). ``dev_root`` is
    where sysfs-derived node paths are built; udev gives its own node paths.

    ``skipped`` always lists devices that could not be read (a vanished
    device, a broken link); with ``include_all`` it also lists every
    non-optical SCSI device with its peripheral type.
    """
    reason = None
    if udev_context is None:
        udev_context, reason = udev.open_context(use_udev, sysfs_root)
    if udev_context is not None:
        candidates, skipped = udev.scan(udev_context, sysfs_root)
        source = "udev"
    else:
        candidates, skipped = sysfs.scan(sysfs_root, dev_root)
        source = "sysfs"
    candidates.sort(key=lambda c: hctl_key(c.scsi.hctl))
    optical = [c for c in candidates if c.optical]
    if include_all:
        skipped += [
            SkippedDevice(c.scsi.hctl, describe_type(c.scsi.peripheral_type), c.scsi.path)
            for c in candidates
            if not c.optical
        ]
    return Inventory(
        source=source,
        drives=[drive_node(index, c, sysfs_root) for index, c in enumerate(optical)],
        skipped=skipped,
        fallback_reason=reason,
    )


_pinned: list[Inventory | None] = []  # None: discover at the first resolve() that needs it
_named: list[dict[str, DriveNode]] = []  # per discovered_once block: drives found by their node


@contextlib.contextmanager
def pinned(inventory: Inventory) -> Iterator[Inventory]:
    """Within the block, ``resolve()`` without an inventory reads INVENTORY, not sysfs again.

    For a caller that has just discovered and is about to start many jobs
    (the bench forks one worker per drive): each job resolves its DEV three
    times before it sends a command, and a full walk costs about 1.5 s under
    QEMU's TCG, paid by every worker at once. ``discover()`` itself, which
    finding a drive again after a flash uses, always reads afresh.
    """
    _pinned.append(inventory)
    try:
        yield inventory
    finally:
        _pinned.pop()


@contextlib.contextmanager
def discovered_once() -> Iterator[None]:
    """Within the block, the first ``resolve()`` that needs the drives discovers; the rest reuse it.

    One command on one drive names it more than once: ``rescue scan`` opens
    the node (``devices.node_path``) and names its report after the drive
    (``report.report_name``), and a full walk costs about 1.5 s under QEMU's
    TCG (``pinned``). An emulated or replayed drive, never resolved, costs none.
    Inside ``pinned`` (a bench worker) the pinned inventory serves.
    """
    _pinned.append(_pinned[-1] if _pinned else None)
    _named.append({})
    try:
        yield
    finally:
        _pinned.pop()
        _named.pop()


def known_path(node: str) -> PathInfo | None:
    """The path of the drive at ``node`` as the pinned discovery read it; None when no
    discovery is pinned or has been made, or it does not list the node. Never walks."""
    inventory = _pinned[-1] if _pinned else None
    drives = inventory.drives if inventory is not None else _named[-1].values() if _named else ()
    return next((d.path for d in drives if node in (d.sg, d.sr)), None)


def resolve(spec: str, inventory: Inventory | None = None) -> DriveNode:
    """The drive DEV names: an index ("0"), a node ("/dev/sr0", "/dev/sg1",
    a link to one such as /dev/cdrom), a bare node name ("sr0") or H:C:T:L.

    Raises DeviceNotFound with a one-line message naming what does exist.
    A node is read from its own sysfs entries (``named.by_node``) unless an
    inventory is given or pinned; every other form, and a node that way does
    not settle, walks every drive.
    """
    if inventory is None and (not _pinned or _pinned[-1] is None):
        drive = _by_node(spec)
        if drive is not None:
            return drive
    if inventory is None:
        if not _pinned:
            inventory = discover()
        else:
            if _pinned[-1] is None:
                _pinned[-1] = discover()
            inventory = _pinned[-1]
    drives = inventory.drives
    text = spec.strip()
    if decimal(text):  # ASCII digits only: int() refuses some that isdigit() takes
        index = int(text)
        if index < len(drives):
            return drives[index]
        raise DeviceNotFound(
            f"no optical drive at index {index}; `rescue list` shows {_count(drives)}",
            hint="run `rescue list` to see the drives and their indexes",
        )
    for drive in drives:
        if _matches(text, drive):
            return drive
    raise DeviceNotFound(
        f"no optical drive {text if text.isprintable() and text else repr(spec)}; "
        f"{_existing(drives)}",
        hint="run `rescue list` to see the drives; as root if nodes are missing",
    )


def _by_node(spec: str) -> DriveNode | None:
    """``named.by_node``, once per spec within a ``discovered_once`` block."""
    if not _named:
        return by_node(spec)
    if spec not in _named[-1]:
        drive = by_node(spec)
        if drive is None:
            return None
        _named[-1][spec] = drive
    return _named[-1][spec]


def _matches(text: str, drive: DriveNode) -> bool:
    nodes = [node for node in (drive.sr, drive.sg) if node]
    if is_node_name(text):
        return any(os.path.basename(node) == text for node in nodes)
    if text == drive.hctl:
        return True
    if text.startswith("/"):  # a NUL is in no path (realpath would raise ValueError)
        return text in nodes or ("\0" not in text and os.path.realpath(text) in nodes)
    return False


def _count(drives: list[DriveNode]) -> str:
    if not drives:
        return "no drives"
    return "1 drive" if len(drives) == 1 else f"{len(drives)} drives"


def _existing(drives: list[DriveNode]) -> str:
    if not drives:
        return "no optical drives were found"
    names = ", ".join(f"{d.index}: {d.name}" for d in drives)
    return f"found {_count(drives)}: {names}"
