"""Find a drive again after it reset: same drive, maybe a new node.

A drive that rewrites its firmware resets, and behind USB the reset often
makes it re-enumerate: usb-storage gives it a new SCSI host, so ``/dev/sg2``
may come back as ``/dev/sg3`` (issue 13). What stays is the drive itself:
its INQUIRY vendor and product (not the revision: that is what the flash
changed, and a drive left in its boot loader reports another one), its unit
serial number (VPD page 80h) and, behind USB, the bridge's serial number and
the USB port it sits on.

``remember`` takes those facts before the flash, from discovery (no
command); ``find_again`` looks for them afterwards and refuses to guess
when two drives fit equally well. The unit serial comes from sysfs
(``vpd_pg80``, which the kernel reads at scan time when the device has VPD
pages) or from ``serial_of``, a callback the flash engine may pass to ask
the drive itself (INQUIRY VPD 80h is harmless on a drive that is back).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rescue import paths
from rescue.discovery.model import DriveNode, Inventory
from rescue.discovery.sysfs import clean_serial as _clean
from rescue.discovery.sysfs import sysfs_unit_serial
from rescue.errors import DeviceNotFound
from rescue.record import record, replace


@record(frozen=True)
class DriveKey:
    """What identifies a drive across a reset (taken before the flash)."""

    vendor: str | None
    model: str | None
    serial: str | None  # unit serial number (VPD 80h), when known
    node: str  # the node it had (sg, else sr)
    hctl: str
    usb_serial: str | None = None  # the bridge's iSerial
    usb_port: str | None = None  # the USB device's sysfs name, e.g. "1-1.2": bus and port path

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@record(frozen=True)
class Refound:
    """The drive found again: its node now, whether it moved, and what matched.

    ``said`` is the revision the drive itself reported once it was back (``told``).
    Discovery's revision is the kernel's copy from the scan that made the new node,
    and behind USB that scan comes while the drive still burns: it still says the
    old revision of a drive that then starts in its boot loader (seen in the guest,
    tests/guest/test_usb_faults.py). The drive's own answer wins.
    """

    drive: DriveNode
    moved: bool
    matched_by: str
    said: str | None = None

    @property
    def node(self) -> str:
        return self.drive.sg or self.drive.sr or self.drive.hctl

    @property
    def revision(self) -> str | None:
        return self.said if self.said is not None else self.drive.revision

    def told(self, revision: str) -> Refound:
        """This drive as it answers INQUIRY now (its revision, after a burn ended)."""
        return replace(self, said=revision.strip())

    def in_recovery(self, revisions: tuple[str, ...] = ("BOOT",)) -> bool:
        """Whether it came back reporting a boot-loader revision (the flash did not take)."""
        return (self.revision or "").strip().upper() in revisions

    def describe(self, revisions: tuple[str, ...] = ("BOOT",)) -> str:
        """ "came back [in its boot loader (revision BOOT)] as NODE, matched by ...": one line."""
        boot = ""
        if self.in_recovery(revisions):
            boot = f" in its boot loader (revision {self.revision})"
        return f"the drive came back{boot} as {self.node}, matched by {self.matched_by}"

    def to_dict(self) -> dict[str, object]:
        return {"node": self.node, "moved": self.moved, "matched_by": self.matched_by,
                "revision": self.revision, "hctl": self.drive.hctl}  # fmt: skip


def remember(drive: DriveNode, serial: str | None = None) -> DriveKey:
    """The key of ``drive``; ``serial`` is the unit serial the caller read (else sysfs's)."""
    bridge = drive.path.bridge if drive.path is not None else None
    return DriveKey(
        vendor=drive.vendor,
        model=drive.model,
        serial=_clean(serial) or sysfs_unit_serial(drive.sysfs_path),
        node=drive.sg or drive.sr or drive.hctl,
        hctl=drive.hctl,
        usb_serial=bridge.serial if bridge is not None else None,
        usb_port=_usb_port(drive),
    )


def remember_node(
    node: str, serial: str | None = None, inventory: Inventory | None = None
) -> DriveKey | None:
    """The key of the drive at ``node`` (``transport.path``); None when discovery does not
    know the node (an emulated drive, a replay, a container without sysfs)."""
    from rescue.discovery import resolve

    try:
        drive = resolve(node, inventory)
    except DeviceNotFound:
        return None
    return remember(drive, serial)


def find_again(
    key: DriveKey,
    *,
    discover_now: Callable[[], Inventory] | None = None,
    serial_of: Callable[[DriveNode], str | None] | None = None,
    timeout: float = 0.0,
    poll: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.monotonic,
) -> Refound:
    """The drive ``key`` names, as discovery shows it now; waits up to ``timeout`` s for it.

    Candidates must report the same vendor and product. Among them, in
    order: the same unit serial; behind USB the same bridge serial or port;
    the same H:C:T:L. A single candidate with no serial to compare is taken
    by identity alone (``matched_by`` says so). Raises DeviceNotFound when
    none fits by the deadline or several fit equally (never a guess).
    """
    if discover_now is None:
        from rescue.discovery import discover

        discover_now = discover
    deadline = now() + timeout
    while True:
        try:
            return _match(key, discover_now().drives, serial_of)
        except _NotYet as err:
            if now() >= deadline:
                raise DeviceNotFound(
                    f"the drive ({_who(key)}, was {key.node}) did not come back: {err}",
                    hint="check the cable and power, run `rescue list`; if it came back in its "
                    "boot loader, `rescue info` shows it",
                ) from None
        sleep(poll)


class _NotYet(Exception):
    pass


def _match(
    key: DriveKey, drives: list[DriveNode], serial_of: Callable[[DriveNode], str | None] | None
) -> Refound:
    same = [d for d in drives if _same_identity(key, d)]
    if not same:
        raise _NotYet(f"no drive reports {_who(key)}")

    def serial(d: DriveNode) -> str | None:
        found = sysfs_unit_serial(d.sysfs_path)
        if found is None and serial_of is not None:
            found = _clean(serial_of(d))
        return found

    if key.serial:
        by_serial = [d for d in same if serial(d) == key.serial]
        if len(by_serial) == 1:
            return _found(key, by_serial[0], "unit serial number")
        if len(by_serial) > 1:
            raise DeviceNotFound(f"{len(by_serial)} drives report serial {key.serial!r}")
        known = [d for d in same if serial(d) is not None]
        if len(known) == len(same):
            raise _NotYet(f"none of the drives reporting {_who(key)} has serial {key.serial!r}")
        same = [d for d in same if serial(d) is None]
    tests: list[tuple[str, Callable[[DriveNode], bool]]] = [
        ("USB bridge serial number", lambda d: bool(key.usb_serial)
         and _usb(d, "serial") == key.usb_serial),
        ("USB port", lambda d: bool(key.usb_port) and _usb_port(d) == key.usb_port),
        ("H:C:T:L", lambda d: d.hctl == key.hctl),
    ]  # fmt: skip
    for label, test in tests:
        fits = [d for d in same if test(d)]
        if len(fits) == 1:
            return _found(key, fits[0], label)
    if len(same) == 1:
        return _found(key, same[0], "vendor and product only (no serial to compare)")
    nodes = ", ".join(d.sg or d.sr or d.hctl for d in same)
    raise DeviceNotFound(
        f"{len(same)} drives report {_who(key)} ({nodes}) and nothing tells which one was "
        f"{key.node}",
        hint="disconnect the other drives of the same model, then run `rescue list`",
    )


def _found(key: DriveKey, drive: DriveNode, how: str) -> Refound:
    node = drive.sg or drive.sr or drive.hctl
    return Refound(drive=drive, moved=node != key.node or drive.hctl != key.hctl, matched_by=how)


def _same_identity(key: DriveKey, drive: DriveNode) -> bool:
    return _norm(drive.vendor) == _norm(key.vendor) and _norm(drive.model) == _norm(key.model)


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).upper()


def _usb(drive: DriveNode, field: str) -> str | None:
    bridge = drive.path.bridge if drive.path is not None else None
    return getattr(bridge, field, None) if bridge is not None else None


def _usb_port(drive: DriveNode) -> str | None:
    path = _usb(drive, "sysfs_path")
    return paths.name(path) if path else None


def _who(key: DriveKey) -> str:
    return f"{key.vendor or '?'} {key.model or '?'}"
