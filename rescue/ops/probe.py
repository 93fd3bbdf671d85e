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
  (btcflash, DVRFlash and redumper use them; see PROTOCOLS.md).
- NOT READY (sense key 2): no answer to the question at all. Some drives
  check for a disc before they look at the opcode (QEMU's emulated SCSI CD
  does, hw/scsi/scsi-disk.c), so "no disc" here is not a verdict on WRITE
  BUFFER; with any disc in, the drive answers the question itself.

The drive lock is held for the probe so it never lands in the middle of
another process's download sequence. Exit code: 0 when accepted, the sense
key's category when refused (9 for sense key 5), as in ``rescue.errors``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from typing import Any

from rescue.devices import open_device
from rescue.errors import ExitCode, RescueError
from rescue.scsi import cdb as build
from rescue.scsi.advice import advise
from rescue.scsi.sense import SenseError

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


@dataclass
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def probe(drive: Any) -> ProbeResult:
    """Send the zero-length WRITE BUFFER to an open ``Drive`` and explain the answer."""
    identity = drive.identity
    drive.settle()  # a power-on unit attention would otherwise be the answer
    family = _family_title(drive)
    cdb = build.write_buffer(DATA_MODE)
    base = {
        "device": drive.name,
        "vendor": identity.vendor.strip(),
        "product": identity.product.strip(),
        "revision": identity.revision.strip(),
        "family": family,
        "command": bytes(cdb).hex(" "),
    }
    try:
        drive.command(cdb, label="WRITE BUFFER mode 02h, length 0")
    except SenseError as err:
        if err.sense is None:
            raise
        verdict, next_step = _refusal(err.sense.key, err.sense.asc, err.sense.ascq, family)
        name = f"{err.sense.triple} {err.sense.asc_name}"
        return ProbeResult(
            **base,
            accepted=False,
            sense=err.sense.to_dict(),
            verdict=f"{'not answered' if err.sense.key == NOT_READY else 'refused'} ({name}): "
            + verdict,
            next_step=next_step.replace("DEV", drive.name),
            exit_code=int(err.exit_code),
        )
    return ProbeResult(
        **base,
        accepted=True,
        sense=None,
        verdict="accepted: the drive takes WRITE BUFFER (nothing was written); "
        "its firmware update path is open",
        next_step=f"`rescue plan {drive.name}` names the firmware to go to, "
        f"`rescue flash {drive.name} FILE` sends it",
        exit_code=int(ExitCode.OK),
    )


def _family_title(drive: Any) -> str | None:
    from rescue.families import drive_family

    try:
        return drive_family(drive).title
    except RescueError:
        return None


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
        return verdict, f"`rescue flash DEV FILE` speaks {where}; `rescue plan DEV` comes first"
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
        print(f"WRITE BUFFER probe [{result.command}]: {result.verdict}")
        print(f"next: {result.next_step}")
    return result.exit_code
