"""The drives a menu session offers: the ones named on its command line, else discovery's.

Named devices (``emu:`` specs in tests and demos, or nodes) are asked their
identity with one INQUIRY each time the list is drawn, so a flash that just
changed the revision shows on the next screen. Discovered drives are read
from udev/sysfs, which sends no command at all (safe beside a busy drive).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rescue.errors import RescueError


@dataclass(frozen=True)
class DriveEntry:
    device: str  # what the CLI takes as DEV
    vendor: str
    product: str
    revision: str
    problem: str = ""  # why the identity could not be read, when it could not

    @property
    def label(self) -> str:
        who = f"{self.vendor} {self.product} {self.revision}".strip() or self.problem
        return f"{who}  ({self.device})"


def list_drives(devices: Sequence[str]) -> list[DriveEntry]:
    if devices:
        return [_ask_identity(device) for device in devices]
    from rescue.discovery import discover

    return [
        DriveEntry(node.name, node.vendor or "", node.model or "", node.revision or "")
        for node in discover().drives
    ]


def _ask_identity(device: str) -> DriveEntry:
    from rescue.devices import open_device
    from rescue.drive import Drive

    try:
        with open_device(device) as transport:
            identity = Drive(transport).identity
    except RescueError as err:
        return DriveEntry(device, "", "", "", problem=f"unreadable: {err.message}")
    return DriveEntry(
        device, identity.vendor.strip(), identity.product.strip(), identity.revision.strip()
    )
