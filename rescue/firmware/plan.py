"""Turning the catalog's upgrade rules into the steps a drive must take.

Why a plan and not a single flash: field reports for the BTC DRW-1004IM say
BTC's 0151 updater fails (5/20/0) on drives still on 0040/0043, and that
flashing 0050 first works. The catalog records that as a rule; this module
walks the rules from the drive's current revision to the target and inserts
every required stepping stone, so the flasher never attempts a jump the
catalog calls unsafe.

Rule thresholds (``to_at_least``) need not be listed revisions, so revisions are
compared in natural order: runs of digits as numbers, the rest as text.
"""

from __future__ import annotations

import re

from rescue.errors import Refused, UsageError
from rescue.firmware.catalog import CatalogDrive, CatalogError, UpgradeRule
from rescue.record import field, record


class UnknownRevision(Refused):
    """The catalog does not know the drive's revision: no plan is made for it (exit 6)."""


class UnknownTarget(UsageError, UnknownRevision):
    """The revision asked for (``--to``) is not one the catalog lists: a usage error (exit 2)."""

    exit_code = UsageError.exit_code


@record(frozen=True)
class Step:
    from_rev: str
    to_rev: str
    why: str


@record(frozen=True)
class Plan:
    steps: list[Step]
    unsafe_direct: bool  # the direct jump current -> target breaks a catalog rule
    notes: list[str] = field(default_factory=list)


def revision_key(rev: str) -> tuple[tuple[int, int | str], ...]:
    """Natural-order key: "0151" > "0100" > "0050"; "TS10" > "TS9"."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part.casefold())
        for part in re.findall(r"\d+|\D+", rev.strip())
    )


def _known(drive: CatalogDrive, rev: str, role: str) -> str:
    entry = drive.revision(rev)
    if entry is None:
        listed = ", ".join(r.rev for r in drive.revisions) or "none"
        raise (UnknownTarget if role == "target" else UnknownRevision)(
            f"{drive.id}: {role} revision {rev.strip()!r} is not in the catalog (listed: {listed})",
            hint="update the catalog, or flash by hand at your own risk",
        )
    return entry.rev


def _blocking_rule(drive: CatalogDrive, current: str, target: str) -> UpgradeRule | None:
    """The first rule that forbids going straight from ``current`` to ``target``."""
    for rule in drive.rules:
        if (
            current in rule.from_revs
            and rule.requires != target
            and revision_key(target) >= revision_key(rule.to_at_least)
        ):
            return rule
    return None


def check_jump(drive: CatalogDrive, current: str, target: str) -> str | None:
    """Why flashing ``target`` directly onto a drive at ``current`` is unsafe, or None."""
    rule = _blocking_rule(drive, _known(drive, current, "current"), _known(drive, target, "target"))
    return rule.why if rule else None


def plan_upgrade(drive: CatalogDrive, current_rev: str, target_rev: str) -> Plan:
    """The steps from ``current_rev`` to ``target_rev``, stepping stones included."""
    current = _known(drive, current_rev, "current")
    target = _known(drive, target_rev, "target")
    notes: list[str] = []
    if current == target:
        return Plan([], False, [f"the drive already runs {target}"])
    order = [r.rev for r in drive.revisions]
    if order.index(target) < order.index(current):
        notes.append(f"{target} is older than {current}: a downgrade the catalog has no rule for")
    steps: list[Step] = []
    rev = current
    while (rule := _blocking_rule(drive, rev, target)) is not None:
        if any(step.from_rev == rule.requires for step in steps) or rule.requires == current:
            raise CatalogError(f"{drive.id}: upgrade rules loop through {rule.requires}")
        steps.append(Step(rev, rule.requires, rule.why))
        rev = rule.requires
    steps.append(Step(rev, target, "target revision"))
    return Plan(steps, len(steps) > 1, notes)
