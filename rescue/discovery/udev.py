"""Discovery through the udev database (pyudev), when the system has one.

udev adds what sysfs cannot give without sending commands: ``cdrom_id``'s
view of the drive's capabilities and of the disc in it. The device list and
identity still come from sysfs (``rescue.discovery.sysfs``) so both sources
describe a device the same way.

Which devices count (systemd's 60-cdrom_id.rules and 60-persistent-storage
rules, read for the property names): a block device with ``ID_CDROM=1``
(set by cdrom_id) or ``ID_TYPE=cd`` (set by scsi_id/ata_id); and any SCSI
device of peripheral type 5 even without one, because a drive whose sr
driver is not bound can still be reached through sg. sg nodes are paired
with drives through the ``scsi_device`` parent they share.

The seam for tests is ``UdevContext``: anything with pyudev's
``list_devices(subsystem=...)`` whose devices have ``sys_path``,
``sys_name``, ``device_node``, ``device_type``, ``properties`` and
``find_parent(subsystem, device_type)``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

from rescue.discovery.model import Media, SkippedDevice
from rescue.discovery.sysfs import Candidate, read_device
from rescue.errors import UsageError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import Protocol
else:
    Protocol = object  # a Protocol is for the type checker; at run time a plain base will do

UDEV_DATABASE = "/run/udev/data"
DEFAULT_SYSFS = "/sys"
#: udev's escape of a byte in an ``_ENC`` property; compiled (and cached by re) on the first
#: property decoded, not at import (a scan imports discovery before its first READ)
_ESCAPE = r"\\x([0-9a-fA-F]{2})"


class UdevDevice(Protocol):
    @property
    def sys_path(self) -> str: ...
    @property
    def sys_name(self) -> str: ...
    @property
    def device_node(self) -> str | None: ...
    @property
    def device_type(self) -> str | None: ...
    @property
    def properties(self) -> Mapping[str, str]: ...
    def find_parent(self, subsystem: str, device_type: str | None = None) -> UdevDevice | None: ...


class UdevContext(Protocol):
    def list_devices(self, **kwargs: str) -> Iterable[UdevDevice]: ...


def open_context(use_udev: bool | None, sysfs_root: str) -> tuple[UdevContext | None, str | None]:
    """A pyudev context when udev should and can be used, else (None, why not).

    Automatic mode only uses udev for the real /sys: udev describes the
    running system, so a caller pointing at another tree wants that tree.
    ``use_udev=True`` with no usable udev is a usage error, not a silent
    fallback, since the caller asked for udev's facts explicitly.
    """
    if use_udev is False:
        return None, "udev disabled by the caller"
    foreign = _foreign(sysfs_root)
    if use_udev is None and foreign:
        return None, foreign
    context, reason = _context()
    if context is None and use_udev:
        raise UsageError(f"udev was requested but is unavailable: {reason}")
    return context, reason


def database(sysfs_root: str) -> str | None:
    """udev's database folder when automatic mode would use udev for SYSFS_ROOT, else None.

    The tests ``open_context`` makes before it loads pyudev (the real /sys,
    a database folder), for a reader of the database itself
    (``rescue.discovery.udevdb``), which needs neither pyudev nor libudev.
    """
    return None if _foreign(sysfs_root) or _no_database() else UDEV_DATABASE


def _foreign(sysfs_root: str) -> str | None:
    """Why SYSFS_ROOT is not the running system's /sys; None when it is."""
    if os.path.normpath(sysfs_root) != DEFAULT_SYSFS:
        return f"sysfs root {sysfs_root} is not the running system's"
    return None


def _no_database() -> str | None:
    """Why there is no udev database to read; None when its folder exists."""
    if not os.path.isdir(UDEV_DATABASE):
        return f"no udev database at {UDEV_DATABASE}"
    return None


def _context() -> tuple[UdevContext | None, str | None]:
    """One pyudev context (loading libudev is the test that udev is usable), or why none."""
    missing = _no_database()
    if missing:
        return None, missing
    try:
        import pyudev

        return pyudev.Context(), None
    except ImportError as err:  # pyudev missing, or it cannot find libudev
        return None, f"pyudev unusable: {err}"


def scan(context: UdevContext, sysfs_root: str) -> tuple[list[Candidate], list[SkippedDevice]]:
    """Every SCSI device udev knows, as candidates; problems as skipped devices."""
    problems: list[SkippedDevice] = []
    cd_blocks: dict[str, UdevDevice] = {}
    for block in context.list_devices(subsystem="block"):
        if not is_cd(block.properties):
            continue
        parent = block.find_parent("scsi", "scsi_device")
        if parent is None:
            problems.append(
                SkippedDevice(
                    block.sys_name, "optical block device with no SCSI parent", block.sys_path
                )
            )
            continue
        cd_blocks[parent.sys_path] = block
    generic: dict[str, str] = {}
    for sg in context.list_devices(subsystem="scsi_generic"):
        parent = sg.find_parent("scsi", "scsi_device")
        if parent is not None and sg.device_node:
            generic[parent.sys_path] = sg.device_node
    found: list[Candidate] = []
    for dev in context.list_devices(subsystem="scsi"):
        if dev.device_type != "scsi_device":
            continue
        scsi = read_device(dev.sys_path, sysfs_root)
        if isinstance(scsi, SkippedDevice):
            problems.append(scsi)
            continue
        block = cd_blocks.get(dev.sys_path)
        found.append(
            Candidate(
                scsi=scsi,
                sr=block.device_node if block is not None else None,
                sg=generic.get(dev.sys_path),
                optical=block is not None or scsi.is_optical,
                properties=block.properties if block is not None else None,
            )
        )
    return found, problems


def is_cd(props: Mapping[str, str]) -> bool:
    """Whether udev tagged a block device as a CD/DVD drive (cdrom_id, or scsi_id/ata_id)."""
    return props.get("ID_CDROM") == "1" or props.get("ID_TYPE") == "cd"


def identity(props: Mapping[str, str]) -> tuple[str | None, str | None, str | None]:
    """Vendor, model, revision as udev recorded them.

    The ``_ENC`` forms are preferred: plain ``ID_VENDOR``/``ID_MODEL`` have
    spaces replaced by underscores, which would not match the drive's own
    INQUIRY strings.
    """
    return (
        _decoded(props, "ID_VENDOR"),
        _decoded(props, "ID_MODEL"),
        props.get("ID_REVISION") or None,
    )


def _decoded(props: Mapping[str, str], key: str) -> str | None:
    encoded = props.get(f"{key}_ENC")
    if encoded:
        return re.sub(_ESCAPE, lambda m: chr(int(m.group(1), 16)), encoded).strip() or None
    return props.get(key) or None


_MEDIA_PREFIX = "ID_CDROM_MEDIA_"
_CAPABILITY_PREFIX = "ID_CDROM_"
# ID_CDROM_MEDIA_* keys that carry a value, not a "this kind of disc" flag.
_MEDIA_VALUE_KEYS = ("STATE", "SESSION_", "TRACK_")


def media(props: Mapping[str, str]) -> Media | None:
    """The disc state cdrom_id recorded; None when cdrom_id never ran on the drive.

    cdrom_id sets ``ID_CDROM=1`` whenever it probes a drive and
    ``ID_CDROM_MEDIA=1`` only when a disc is in, so ``ID_CDROM`` without
    ``ID_CDROM_MEDIA`` means an empty drive, not an unknown one.
    """
    if props.get("ID_CDROM") != "1":
        return None
    if props.get("ID_CDROM_MEDIA") != "1":
        return Media(present=False)
    kinds = tuple(
        sorted(
            key[len(_MEDIA_PREFIX) :].lower()
            for key, value in props.items()
            if key.startswith(_MEDIA_PREFIX)
            and value == "1"
            and not key[len(_MEDIA_PREFIX) :].startswith(_MEDIA_VALUE_KEYS)
        )
    )
    return Media(present=True, kinds=kinds, state=props.get("ID_CDROM_MEDIA_STATE") or None)


def capabilities(props: Mapping[str, str]) -> tuple[str, ...]:
    """What the drive can read or write, from cdrom_id's ``ID_CDROM_<KIND>=1`` flags."""
    return tuple(
        sorted(
            key[len(_CAPABILITY_PREFIX) :].lower()
            for key, value in props.items()
            if key.startswith(_CAPABILITY_PREFIX)
            and not key.startswith("ID_CDROM_MEDIA")
            and value == "1"
        )
    )
