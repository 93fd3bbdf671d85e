"""The drives a menu session offers: the ones named on its command line, else discovery's.

Named devices (``emu:`` specs in tests and demos, or nodes) are asked their
identity with one INQUIRY each time the list is drawn, so a flash that just
changed the revision shows on the next screen. Discovered drives are read
from udev/sysfs, which sends no command at all (safe beside a busy drive).
"""

from __future__ import annotations

from collections.abc import Sequence

from rescue.errors import RescueError
from rescue.record import record


@record(frozen=True)
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
        return [_ask_identity(one_name(device)) for device in devices]
    from rescue.discovery import discover

    return [
        DriveEntry(node.sg or node.name, node.vendor or "", node.model or "", node.revision or "")
        for node in discover().drives
    ]


def one_name(device: str) -> str:
    """The one name the menu uses for a drive: the node every command opens and names.

    A command opens a drive through its sg node when discovery knows one
    (``rescue.devices.node_path``) and names that node in what it prints, so the
    menu lists, passes and echoes the same node rather than the sr node beside it.
    ``emu:`` and ``replay:`` specs, and a node discovery does not know, stay as given.
    """
    from rescue.devices import EMULATED_PREFIX, REPLAY_PREFIX, node_path

    if device.startswith((EMULATED_PREFIX, REPLAY_PREFIX)):
        return device
    try:
        return node_path(device)
    except RescueError:
        return device


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
