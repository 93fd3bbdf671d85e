"""`rescue probe DEV`: is the drive's WRITE BUFFER path open? Asked without writing anything.

The question is the one every firmware updater meets first, asked in the
one form that cannot change the drive: WRITE BUFFER (SPC-4 6.49) in mode
02h (data), buffer ID 0, offset 0, with a parameter list length of zero.
SPC says a zero length transfers no data and is not an error, so a drive
that implements the command answers GOOD. A refusal is worth as much as an
acceptance, once it is read correctly:

- 5/20/00 INVALID COMMAND OPERATION CODE: the running firmware has no WRITE
  BUFFER at all. It is the "5/20/0" a vendor updater stops on; the way on is
  the drive family's own commands, or a stepping-stone revision first.
- 5/24/00 INVALID FIELD IN CDB: WRITE BUFFER exists, only not in mode 02h;
  optical drives give the reserved and vendor modes their own meaning
  (btcflash, DVRFlash and redumper use them; see docs/protocols.md).
- NOT READY (sense key 2): no answer to the question at all. Some drives
  check for a disc before they look at the opcode (QEMU's emulated SCSI CD
  does, hw/scsi/scsi-disk.c), so "no disc" here is not a verdict on WRITE
  BUFFER; with any disc in, the drive answers the question itself.

Behind a USB bridge the answer may not be the drive's: many bridges answer
opcodes they do not forward with 5/20/00 themselves. When the drive's family
is known to implement the refused opcode (``rescue.ops.pathcheck``), the
refusal is the bridge's and the probe says so; when the evidence cannot tell,
it says that too, and how to find out (the drive on a SATA/IDE port).

The drive lock is held for the probe so it never lands in the middle of
another process's download sequence. Exit code: 0 when accepted, the sense
key's category when refused (9 for sense key 5), as in ``rescue.errors``.
"""

from __future__ import annotations

import argparse
import json
from shlex import quote

from rescue.devices import open_device
from rescue.errors import ExitCode, RescueError
from rescue.ops.pathcheck import BRIDGE, EITHER, Origin, bridge_or_drive
from rescue.record import asdict, record
from rescue.scsi import cdb as build
from rescue.scsi.advice import advise
from rescue.scsi.sense import SenseError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import Any

DATA_MODE = 0x02
INVALID_OPCODE = (0x5, 0x20, 0x00)
INVALID_FIELD_IN_CDB = (0x5, 0x24, 0x00)
NOT_READY = 0x2


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "probe",
        parents=[common],
        help="ask whether DEV accepts WRITE BUFFER (zero-length, writes nothing); explain a no",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("device", metavar="DEV", help="the drive (see `rescue --help`)")
    parser.set_defaults(func=run)


@record
class ProbeResult:
    device: str
    vendor: str
    product: str
    revision: str
    family: str | None  # the flashing protocol `rescue flash` would use, if one is known
    command: str  # the CDB sent, in hex
    accepted: bool
    sense: dict[str, Any] | None
    verdict: str
    next_step: str
    exit_code: int
    path: dict[str, Any] | None = None  # how the drive is attached (rescue.discovery.path)
    refused_by: dict[str, str] | None = None  # who answered a refusal: bridge, drive, or either

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def probe(drive: Any) -> ProbeResult:
    """Send the zero-length WRITE BUFFER to an open ``Drive`` and explain the answer."""
    from rescue.ops.pathcheck import path_of

    identity = drive.identity
    drive.settle()  # a power-on unit attention would otherwise be the answer
    family_name, family = _family(drive)
    path = path_of(getattr(drive, "transport", None))
    cdb = build.write_buffer(DATA_MODE)
    base = {
        "device": drive.name,
        "vendor": identity.vendor.strip(),
        "product": identity.product.strip(),
        "revision": identity.revision.strip(),
        "family": family,
        "command": bytes(cdb).hex(" "),
        "path": path.to_dict() if path is not None else None,
    }
    try:
        drive.command(cdb, label="WRITE BUFFER mode 02h, length 0")
    except SenseError as err:
        if err.sense is None:
            raise
        verdict, next_step = _refusal(err.sense.key, err.sense.asc, err.sense.ascq, family)
        origin = None
        if path is not None and path.is_usb and err.sense.key != NOT_READY:
            origin = bridge_or_drive(path, cdb[0], err.sense.triple, family_name)
            verdict, next_step = _behind_bridge(origin, verdict, next_step, path)
        name = f"{err.sense.triple} {err.sense.asc_name}"
        return ProbeResult(
            **base,
            accepted=False,
            sense=err.sense.to_dict(),
            verdict=f"{'not answered' if err.sense.key == NOT_READY else 'refused'} ({name}): "
            + verdict,
            next_step=next_step.replace("DEV", quote(drive.name)),  # pasted into a shell
            exit_code=int(err.exit_code),
            refused_by=origin.to_dict() if origin is not None else None,
        )
    return ProbeResult(
        **base,
        accepted=True,
        sense=None,
        verdict="accepted: the drive takes WRITE BUFFER (nothing was written); "
        "its firmware update path is open",
        next_step=f"`rescue plan {quote(drive.name)} --to REV` names the steps to a revision, "
        f"`rescue flash {quote(drive.name)} FILE` sends it",
        exit_code=int(ExitCode.OK),
    )


def _family(drive: Any) -> tuple[str | None, str | None]:
    """The family's name and title, (None, None) when no family serves the drive."""
    from rescue.families import drive_family

    try:
        family = drive_family(drive)
    except RescueError:
        return None, None
    return family.name, family.title


def _behind_bridge(origin: Origin, verdict: str, next_step: str, path: Any) -> tuple[str, str]:
    """The refusal read again with a USB bridge on the path (``bridge_or_drive``)."""
    bridge = path.bridge.name if path.bridge is not None else "the USB bridge"
    if origin.who == BRIDGE:
        return (
            f"the USB bridge refused it, not the drive: {origin.why}",
            f"connect the drive to a SATA or IDE port (not through {bridge}) and probe again; "
            "nothing that needs this command can work through this bridge",
        )
    if origin.who == EITHER:
        return (
            f"{verdict}; or the USB bridge refused it for the drive: {origin.why}",
            f"{next_step}; to rule the bridge out, connect the drive to a SATA or IDE port "
            "and probe again",
        )
    return verdict, next_step


def _refusal(key: int, asc: int, ascq: int, family: str | None) -> tuple[str, str]:
    """Plain words for a refusal, and the next step, for what this probe can meet."""
    if (key, asc, ascq) == INVALID_OPCODE:
        verdict = (
            "this drive refuses WRITE BUFFER: its running firmware does not implement the "
            "command at all (the same 5/20/0 a vendor updater stops on)"
        )
        if family:
            return verdict, (
                f"it is a {family} drive: `rescue flash` uses that family's own commands; "
                "`rescue plan DEV --to REV` shows whether a stepping-stone revision must go first"
            )
        return verdict, (
            "no update protocol is known for this drive, so nothing here can flash it; "
            "`rescue info DEV` shows what it reports (look for the Microcode Upgrade feature)"
        )
    if key == NOT_READY:
        reason = advise(key, asc, ascq).meaning
        return (
            f"no answer about WRITE BUFFER: the drive said '{reason}' before looking at the "
            "command",
            "put any readable disc in and probe again (take it out before flashing)",
        )
    if (key, asc, ascq) == INVALID_FIELD_IN_CDB:
        verdict = (
            "the drive has WRITE BUFFER but not its data mode 02h: the update path is there, "
            "in the drive's own vendor modes"
        )
        where = f"the {family} protocol" if family else "its family's protocol (none known here)"
        return verdict, (
            f"`rescue flash DEV FILE` speaks {where}; `rescue plan DEV --to REV` comes first"
        )
    advice = advise(key, asc, ascq)
    return advice.meaning, advice.next_step


def run(args: argparse.Namespace) -> int:
    from rescue.drive import Drive
    from rescue.ops.safety import drive_key, exclusive_lock

    with open_device(args.device, args.journal, exclusive=True) as transport:
        with exclusive_lock(drive_key(transport)):
            result = probe(Drive(transport))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(f"{result.vendor} {result.product} {result.revision} ({result.device})")
        if result.path is not None:
            bridge = result.path["bridge"]
            print(
                f"path: {result.path['label']}"
                + (f", bridge {bridge['usb_id']}" if bridge and bridge["usb_id"] else "")
            )
        print(f"WRITE BUFFER probe [{result.command}]: {result.verdict}")
        if result.refused_by is not None:
            print(f"refused by: {result.refused_by['who']}")
        print(f"next: {result.next_step}")
    return result.exit_code
