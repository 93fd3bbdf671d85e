"""`rescue plan DEV --to REV`: the revisions a drive must pass through to reach REV.

The catalog (``rescue.firmware.catalog``) records upgrade rules such as "a
BTC DRW-1004IM on 0040/0043 must take 0050 before 0151" (field reports: the
direct jump ends in 5/20/00). This command reads the drive's identity and
prints the steps; ``rescue flash`` uses the same helpers to refuse a jump the
catalog calls unsafe and to explain a 5/20/00 when it happens anyway.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping

from rescue.devices import open_device
from rescue.errors import Refused
from rescue.families import UnknownDrive, family_for, match_drive, unknown_evidence
from rescue.firmware.catalog import CatalogDrive, load_catalog
from rescue.firmware.plan import Plan, UnknownRevision, plan_upgrade

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import NoReturn

    from rescue.drive import Drive


def catalog_entry(identity: Mapping[str, str]) -> CatalogDrive | None:
    """The catalog's drive for a trimmed identity dict (vendor, product)."""
    return load_catalog().find_drive(identity.get("vendor", ""), identity.get("product", ""))


def upgrade_plan(entry: CatalogDrive | None, current: str, target: str) -> tuple[Plan | None, str]:
    """(plan, "") or (None, why no plan applies): unknown drives and revisions have no rules."""
    if entry is None:
        return None, "the drive is not in the catalog: no upgrade rules are known for it"
    if not target:
        return None, "the image does not carry a revision: no catalog rule can apply"
    try:
        return plan_upgrade(entry, current, target), ""
    except UnknownRevision as err:
        return None, err.message


def plan_text(plan: Plan) -> str:
    """ "0043 -> 0050 -> 0151"."""
    if not plan.steps:
        return "nothing to do"
    return " -> ".join([plan.steps[0].from_rev, *(step.to_rev for step in plan.steps)])


NOT_IN_CATALOG = "the drive is not in the catalog, so no plan can be made; "


def _not_in_catalog(drive: Drive, have: Mapping[str, str]) -> NoReturn:
    """No plan without catalog rules; a drive no family serves also gets its evidence."""
    match = match_drive(drive.identity) or match_drive(drive.identity, drive.features)
    if match is None:
        raise UnknownDrive(unknown_evidence(drive), drive.name, NOT_IN_CATALOG)
    raise Refused(
        f"{have['vendor']} {have['product']} is not in the catalog: no plan can be made "
        f"(its protocol is {match.describe()})",
        hint="check the vendor's release notes for required intermediate versions",
    )


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser(
        "plan",
        parents=[common],
        help="list the firmware revisions a drive must take to reach a target",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("device", metavar="DEV", help="the drive (see `rescue --help`)")
    parser.add_argument("--to", required=True, metavar="REV", help="target firmware revision")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rescue.drive import Drive

    with open_device(args.device, args.journal) as transport:
        drive = Drive(transport)
        identity = drive.identity
        have = {
            "vendor": identity.vendor.strip(),
            "product": identity.product.strip(),
            "revision": identity.revision.strip(),
        }
        entry = catalog_entry(have)
        if entry is None:
            _not_in_catalog(drive, have)
    target = args.to.strip()
    family = family_for(identity)
    if family is not None and family.in_recovery(identity):
        steps = [{"from": have["revision"], "to": target, "why": "drive is in recovery mode"}]
        notes = ["the running revision is unknown (recovery mode): flash the target directly"]
    else:
        plan = plan_upgrade(entry, have["revision"], target)
        steps = [{"from": s.from_rev, "to": s.to_rev, "why": s.why} for s in plan.steps]
        notes = list(plan.notes)
    if args.json:
        doc = {
            "drive": have,
            "catalog_id": entry.id,
            "catalog_name": entry.name,
            "target": target,
            "steps": steps,
        }
        print(json.dumps(doc | {"notes": notes}, indent=2))
        return 0
    print(f"{have['vendor']} {have['product']} ({entry.name}) on {have['revision']} -> {target}:")
    for number, step in enumerate(steps, 1):
        print(f"  {number}. flash {step['to']}  ({step['why']})")
    for note in notes:
        print(f"  note: {note}")
    return 0
