"""Captured command streams of real peer flashers, and rescue's own, in one comparable form.

A capture is the journal a ``rescue emulate --journal`` bridge wrote while a
real peer tool (btcflash, DVRFlash, pxfw, redumper) flashed a TCMU drive in
the guest (docs/peers.md says how each was made). Beside each
``NAME.jsonl`` in ``tests/data/peers/`` lies ``NAME.meta.json``: the peer, its
version and source, the command line, the emulated drive spec and how the
image was made, so rescue can be run against the same drive with the same
image and held to the same bytes.

The write phase is every command from the first write-class command (WRITE
BUFFER 3Bh, or a vendor opcode C0h-FFh that reads nothing back: pxfw's
vendor EEPROM read F1h is a read) to the last one, both included:
the part of a flash where a byte of difference can brick a drive. What a peer
does before (its INQUIRY, its reads) and after (its polling) is its own
business and is left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

PEERS = Path(__file__).resolve().parent / "data" / "peers"
WRITE_BUFFER = 0x3B
VENDOR_OPCODES = range(0xC0, 0x100)


@dataclass(frozen=True)
class Command:
    """One command as the drive received it: CDB bytes, and the data it carried out."""

    cdb: str
    out_len: int
    out_sha256: str | None
    in_len: int = field(default=0, compare=False)

    def describe(self) -> str:
        return f"{self.cdb} [{self.out_len} bytes out]"


def is_write_class(command: Command) -> bool:
    opcode = int(command.cdb[:2], 16)
    return opcode == WRITE_BUFFER or (opcode in VENDOR_OPCODES and not command.in_len)


def journal_commands(path: Path) -> list[Command]:
    commands = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        out_len = int(entry.get("out_len") or 0)
        # No data is no data, whether the carrier journaled it as None or as b"".
        sha = entry.get("out_sha256") if out_len else None
        commands.append(Command(entry["cdb"], out_len, sha, int(entry.get("in_len") or 0)))
    return commands


def write_phase(commands: list[Command]) -> list[Command]:
    """The commands from the first to the last write-class one, inclusive."""
    marks = [i for i, c in enumerate(commands) if is_write_class(c)]
    if not marks:
        return []
    return commands[marks[0] : marks[-1] + 1]


@dataclass(frozen=True)
class Capture:
    name: str
    meta: dict[str, object]
    commands: list[Command]

    @property
    def writes(self) -> list[Command]:
        return write_phase(self.commands)


def load_capture(name: str) -> Capture:
    meta = json.loads((PEERS / f"{name}.meta.json").read_text(encoding="utf-8"))
    return Capture(name, meta, journal_commands(PEERS / f"{name}.jsonl"))


def all_captures() -> list[str]:
    return sorted(p.name.removesuffix(".meta.json") for p in PEERS.glob("*.meta.json"))


def first_difference(expected: list[Command], actual: list[Command]) -> str | None:
    """None when both streams are the same bytes; else where and how they part."""
    for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
        if want != got:
            return f"command {index}: peer sent {want.describe()}, rescue sent {got.describe()}"
    if len(expected) != len(actual):
        return f"peer sent {len(expected)} write-phase commands, rescue sent {len(actual)}"
    return None
