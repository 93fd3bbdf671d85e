"""Does the path to the drive carry what the command needs? Asked before anything is sent.

One SG_IO moves at most what the drive's block queue takes; over it the
kernel fails the ioctl with EINVAL (docs/protocols.md, "Linux facts that bite").
Behind usb-storage that is 120 KiB unless changed, and some bridges take
less. Reads can simply be made smaller (``fit``); a flash protocol cannot:
its chunk size is the drive's, so a family whose chunk does not fit is
refused before the first write (``check_path``), with the reason and the
way on (connect the drive to SATA/IDE).

``path_of`` answers for any transport: a real node through sysfs
(``rescue.discovery.path``), an emulated drive through what its model
declares (``BridgedDevice.path_info`` or a ``max_transfer`` attribute).

``bridge_or_drive`` reads a refusal with the path in mind: behind a USB
bridge, 5/20/00 for an opcode the drive's family is known to implement
came from the bridge; a failed ATA PASS-THROUGH and an EINVAL or 5/24/00
on a data transfer are weighed the same way.
"""

from __future__ import annotations

import contextlib
from _weakref import ref  # weakref.ref itself: weakref.py and _weakrefset cost 1 M instructions
from collections.abc import Iterable

from rescue.discovery import known_path
from rescue.discovery.path import (
    UNKNOWN,
    PathInfo,
    QueueLimits,
    path_of_node,
)
from rescue.errors import Refused
from rescue.record import record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import Any

SECTOR = 2048  # reads are sized in optical sectors

BRIDGE, DRIVE, EITHER = "bridge", "drive", "bridge or drive"

#: The opcode each family's write phase is built on (rescue/families/*.py): WRITE BUFFER for
#: most, the vendor opcode FFh for TSST and MT1939.
FAMILY_WRITE_OPCODE = {
    "btc": 0x3B,
    "mt1959": 0x3B,
    "pioneer": 0x3B,
    "plextor": 0x3B,
    "spc": 0x3B,
    "tsst": 0xFF,
    "mt1939": 0xFF,
}
ATA_PASS_THROUGH = (0x85, 0xA1)
WRITE_BUFFER = 0x3B


#: A real node's path per open transport: a scan asks for it for GET CONFIGURATION's
#: length, its read size and the words for a cut one, and each answer is a walk of sysfs
#: attributes (0.15 s under TCG), unless the command's pinned discovery has read it already.
#: An open node keeps its path; a drive that re-enumerates is opened again, as a new
#: transport. (An emulated drive's declared path is read afresh: it costs nothing.)
#: Keyed by a weak reference to the transport, which hashes and compares as the transport
#: while it lives; its callback drops the entry when the transport goes (what a
#: WeakKeyDictionary does, without importing weakref.py at every scan's start).
_NODE_PATHS: dict[ref[Any], PathInfo | None] = {}


def path_of(transport: Any) -> PathInfo | None:
    """How ``transport``'s drive is attached; None when nothing is known (a replay)."""
    device = getattr(transport, "device", None)
    if device is not None:  # an emulated drive: what its model declares
        declared = getattr(device, "path_info", None)
        if isinstance(declared, PathInfo):
            return declared
        cap = getattr(device, "max_transfer", None)
        return PathInfo(
            attachment="emulated",
            host=None,
            bridge=None,
            limits=QueueLimits(
                declared=cap if isinstance(cap, int) else None,
                declared_by="the emulated model's transfer cap"
                if isinstance(cap, int)
                else "no cap: the emulated model takes any size",
            ),
            vendor_commands="passes",
            vendor_commands_why="an emulated drive gets every CDB",
            ata_passthrough=UNKNOWN,
            ata_passthrough_why="up to the model",
        )
    node = getattr(transport, "path", None)
    if not (isinstance(node, str) and node.startswith("/dev/")):
        return None
    try:
        return _NODE_PATHS[ref(transport)]
    except (KeyError, TypeError):  # not asked yet, or no weak reference to it (a stub)
        pass
    path = known_path(node) or path_of_node(node)  # the command's discovery read it already
    with contextlib.suppress(TypeError):
        _NODE_PATHS[ref(transport, _forget)] = path
    return path


def _forget(gone: ref[Any]) -> None:
    """Drop a collected transport's path (a dead reference still hashes as it did)."""
    _NODE_PATHS.pop(gone, None)


def transfer_limit(transport: Any) -> tuple[int | None, str]:
    """The most bytes one command may move to or from the drive, and what decides it.

    (None, why) when the path does not say (no block queue in sysfs, a replay).
    """
    path = path_of(transport)
    asked = getattr(transport, "queue_max_bytes", None)
    if path is None or path.limits.largest_transfer()[0] is None:
        size = asked() if callable(asked) else None
        if size is not None:
            return size, "the sg driver's BLKSECTGET (no block queue in sysfs)"
    if path is None:
        return None, "the path is unknown"
    size, source = path.limits.largest_transfer()
    if size is None and path.is_usb:
        return None, f"{source}; behind usb-storage expect 120 KiB"
    return size, source


def largest_transfer(transport: Any) -> int | None:
    """``transfer_limit`` in bytes only: what bulk reads size themselves by."""
    return transfer_limit(transport)[0]


def fit(transport: Any, wanted: int, unit: int = SECTOR) -> int:
    """``wanted`` bytes, cut down to the path's limit in whole ``unit``s (at least one unit).

    Scan and doctor call this with their read size (sectors x 2048) before
    the first READ; an unknown limit leaves ``wanted`` as it is.
    """
    limit = largest_transfer(transport)
    if limit is None or wanted <= limit:
        return wanted
    return max(unit, limit // unit * unit)


def fit_sectors(transport: Any, sectors: int, sector_size: int = SECTOR) -> int:
    """``fit`` in sectors: how many ``sector_size`` sectors one READ may ask for."""
    return fit(transport, sectors * sector_size, sector_size) // sector_size


def needed_transfer(steps: Iterable[Any]) -> int:
    """The largest data transfer among ``steps`` (family ``Step``s), out or in."""
    return max(
        (max(getattr(s, "payload", 0) or 0, getattr(s, "data_in", 0) or 0) for s in steps),
        default=0,
    )


@record(frozen=True)
class PathVerdict:
    ok: bool
    needed: int
    limit: int | None
    detail: str


def judge(transport: Any, steps: Iterable[Any], family: str | None = None) -> PathVerdict:
    """Whether every step's data fits the path (no command is sent)."""
    needed = needed_transfer(list(steps))
    limit, source = transfer_limit(transport)
    path = path_of(transport)
    where = path.label if path is not None else "the path"
    if path is not None and path.bridge is not None:
        where += f", bridge {path.bridge.name}"
    if limit is None:
        return PathVerdict(
            True, needed, None, f"largest chunk {_size(needed)}; path limit unknown ({source})"
        )
    if needed <= limit:
        return PathVerdict(
            True,
            needed,
            limit,
            f"largest chunk {_size(needed)} fits {where} ({_size(limit)}, {source})",
        )
    who = f"the {family} protocol" if family else "this protocol"
    return PathVerdict(
        False,
        needed,
        limit,
        f"{who} sends {_size(needed)} in one command, but {where} carries at most "
        f"{_size(limit)} ({source})",
    )


def check_path(transport: Any, steps: Iterable[Any], family: str | None = None) -> str:
    """Refuse (``Refused``, nothing sent) when a step moves more than the path carries.

    Returns the pre-flight line when it fits. Flash calls it right after the
    family built its steps: ``report.preflight.add("path", "ok", check_path(transport, steps,
    family.title))``.
    """
    verdict = judge(transport, steps, family)
    if verdict.ok:
        return verdict.detail
    path = path_of(transport)
    if path is not None and path.is_usb:
        hint = (
            "connect the drive to a SATA or IDE port (inside a PC, or with a SATA cable), "
            "not through the USB bridge, then run the same command again"
        )
    else:
        hint = (
            "connect the drive to a SATA or IDE port, or raise the queue's limit "
            "(/sys/block/srN/queue/max_sectors_kb) if the adapter allows it, then run the "
            "same command again"
        )
    raise Refused(f"{verdict.detail}: the chunk size is the drive's; nothing was sent", hint=hint)


# --- whose refusal is it -------------------------------------------------------------------


@record(frozen=True)
class Origin:
    """Who most likely answered: ``bridge``, ``drive`` or ``bridge or drive``, and why."""

    who: str
    why: str

    def to_dict(self) -> dict[str, str]:
        return {"who": self.who, "why": self.why}


def bridge_or_drive(
    path: PathInfo | None,
    opcode: int,
    triple: str | None,
    family: str | None = None,
    *,
    transferred: int = 0,
    accepted_before: bool = False,
) -> Origin:
    """Who refused ``opcode`` with ``triple`` ("5/20/00"; None for a transport failure).

    ``family`` is the drive family's name (``FAMILY_WRITE_OPCODE`` keys);
    ``transferred`` the command's data length; ``accepted_before`` whether
    the same command shape already went through earlier in the sequence.
    """
    if path is None or not path.is_usb:
        if triple is None:
            return Origin(EITHER, "the command failed in the transport, not with sense data")
        return Origin(DRIVE, "no bridge on the path: the drive answered")
    bridge = path.bridge.name if path.bridge else "the USB bridge"
    implements = family is not None and FAMILY_WRITE_OPCODE.get(family) == opcode
    if triple is None:
        limit = path.largest_transfer
        if limit is not None and transferred > limit:
            return Origin(
                BRIDGE,
                f"{transferred} bytes exceed the {limit} the path carries: the kernel refused "
                "before the drive saw it",
            )
        return Origin(BRIDGE, f"the transport failed behind {bridge}; the drive sent no sense")
    if triple == "5/20/00":
        if implements:
            return Origin(
                BRIDGE,
                f"the drive's family implements opcode {opcode:02X}h, yet the answer is "
                f"INVALID COMMAND OPERATION CODE: {bridge} did not pass it on",
            )
        if opcode in ATA_PASS_THROUGH:
            return Origin(
                BRIDGE,
                f"ATA PASS-THROUGH is translated (or not) by {bridge}, not by an ATAPI drive",
            )
        return Origin(
            EITHER,
            f"{bridge} may have refused it, or the drive lacks it; on a SATA/IDE port the "
            "drive answers for itself",
        )
    if triple == "5/24/00" and accepted_before and transferred:
        return Origin(
            BRIDGE,
            f"commands of the same shape were accepted earlier in this sequence, so a "
            f"5/24/00 mid-transfer points at {bridge} (USB enclosures are reported to fail "
            "flashes this way near the end)",
        )
    return Origin(EITHER, f"sense {triple} behind {bridge}: the bridge may have made it up")


def _size(n: int) -> str:
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB ({n:#x} bytes)"
    return f"{n} bytes"
