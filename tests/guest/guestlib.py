"""Finding the guest's drives through plain sysfs, and reading their sense data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ScsiNode:
    """One SCSI device as sysfs shows it: its sg node, sr node and identity."""

    sg: str
    sr: str | None
    vendor: str
    model: str
    rev: str
    type: int


def _attr(device: Path, name: str) -> str:
    return (device / name).read_text().strip()


def scsi_nodes() -> list[ScsiNode]:
    nodes = []
    for sg in sorted(Path("/sys/class/scsi_generic").iterdir()):
        device = sg / "device"
        blocks = sorted(p.name for p in (device / "block").glob("*"))
        nodes.append(
            ScsiNode(
                sg=f"/dev/{sg.name}",
                sr=f"/dev/{blocks[0]}" if blocks else None,
                vendor=_attr(device, "vendor"),
                model=_attr(device, "model"),
                rev=_attr(device, "rev"),
                type=int(_attr(device, "type")),
            )
        )
    return nodes


def node_by_vendor(vendor: str) -> ScsiNode:
    found = [n for n in scsi_nodes() if n.vendor == vendor]
    assert len(found) == 1, f"expected one device from {vendor!r}, sysfs shows {scsi_nodes()}"
    return found[0]


def sense_triple(sense: bytes) -> tuple[int, int, int]:
    """(key, asc, ascq) from fixed (70h/71h) or descriptor (72h/73h) sense."""
    assert len(sense) >= 8, f"sense too short: {sense.hex()}"
    if sense[0] & 0x7F in (0x72, 0x73):
        return sense[1] & 0x0F, sense[2], sense[3]
    assert len(sense) >= 14, f"fixed sense too short: {sense.hex()}"
    return sense[2] & 0x0F, sense[12], sense[13]
