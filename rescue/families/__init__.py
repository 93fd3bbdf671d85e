"""Drive families: one module per flashing protocol, chosen by the drive's identity.

Which drives a family serves is data (``rescue/data/families.json``), so a new
drive of a known protocol is one line there, not code. The generic SPC family
serves no drive by name: it is the fallback for drives that advertise MMC
feature 0x0104 (Microcode Upgrade) and match no vendor protocol. The table
(shipped rows plus the user's ``--drives`` files and ``drives.d/``) is loaded
and checked in ``rescue.families.table``; a drive nothing serves is described
by ``rescue.families.unknown`` (what it reports, candidate families, next steps).
"""

from __future__ import annotations

from collections.abc import Iterable

from rescue.errors import Refused, UsageError
from rescue.families.base import DrivePattern, Family, Identity, Step
from rescue.families.btc import BtcFamily
from rescue.families.mt1939 import Mt1939Family
from rescue.families.mt1959 import Mt1959Family
from rescue.families.pioneer import PioneerFamily
from rescue.families.plextor import PlextorFamily
from rescue.families.spc import SpcFamily
from rescue.families.table import required_params
from rescue.families.tsst import TsstFamily
from rescue.families.unknown import (
    MICROCODE_UPGRADE_FEATURE,
    Evidence,
    UnknownDrive,
    evidence,
    exact_fields,
)
from rescue.record import record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.drive import Drive

FAMILY_CLASSES: tuple[type[Family], ...] = (
    BtcFamily,
    Mt1959Family,
    TsstFamily,
    Mt1939Family,
    PlextorFamily,
    PioneerFamily,
    SpcFamily,
)


def all_families() -> list[Family]:
    return [cls() for cls in FAMILY_CLASSES]


def family_named(name: str) -> Family:
    for cls in FAMILY_CLASSES:
        if cls.name == name:
            return cls()
    raise KeyError(name)


@record(frozen=True)
class Match:
    """The family serving a drive and why: a table row, feature 0x0104, or --family."""

    family: Family
    row: DrivePattern | None = None
    via: str = "table"  # "table", "feature 0x0104" or "--family"
    overridden: str = ""  # the table row --force family overrode (Match.describe())

    @property
    def chosen(self) -> bool:
        """The user named the protocol (``--family``): no table row vouches for it."""
        return self.via == "--family"

    def describe(self) -> str:
        if self.row is None:
            why = {"feature 0x0104": "it advertises Microcode Upgrade (feature 0x0104)"}
            return f"{self.family.name}: {why.get(self.via, 'chosen with --family')}"
        row = f"vendor {self.row.vendor!r} product {self.row.product!r}"
        where = f"user table {self.row.origin}" if self.row.origin else "rescue's table"
        return f"{self.family.name}: row {row} of {where}"

    def to_dict(self) -> dict[str, object]:
        row = self.row
        return {
            "family": self.family.name,
            "title": self.family.title,
            "via": self.via,
            "row": None
            if row is None
            else {
                "vendor": row.vendor,
                "product": row.product,
                "revision": row.revision,
                "aliases": list(row.aliases),
                "source": row.source,
            },  # fmt: skip
            "user_file": None if row is None else row.origin,
            "overridden": self.overridden or None,
        }


def match_drive(identity: Identity, features: Iterable[int] = ()) -> Match | None:
    """The row serving this drive: every shipped row before any user row; else 0x0104 -> spc."""
    families = all_families()
    for user in (False, True):
        for family in families:
            row = next(
                (
                    p
                    for p in family.patterns
                    if (p.origin is not None) == user and p.matches(identity)
                ),
                None,
            )
            if row is not None:
                return Match(family, row)
    if MICROCODE_UPGRADE_FEATURE in set(features):
        return Match(family_named("spc"), via="feature 0x0104")
    return None


def family_for(identity: Identity, features: Iterable[int] = ()) -> Family | None:
    """The family serving this drive; the SPC fallback when it advertises 0x0104."""
    match = match_drive(identity, features)
    return match.family if match is not None else None


def unknown_evidence(drive: Drive) -> Evidence:
    """What an unknown drive reports and the families it could be (read-only questions)."""
    return evidence(exact_fields(drive), drive.identity, drive.features, all_families())


def resolve_family(drive: Drive, requested: str | None = None, *, force: bool = False) -> Match:
    """The protocol for an open drive: its table row, or the one ``--family`` names.

    GET CONFIGURATION is asked only when no row matches. An unknown drive without
    ``--family`` is ``UnknownDrive`` (what it reports, candidates, next steps). A
    ``--family`` other than the row's is refused unless ``force``; a family that
    needs a row's parameters (Plextor's chunk size) cannot be chosen without a row.
    """
    identity = drive.identity
    match = match_drive(identity) or match_drive(identity, drive.features)
    if requested is None or (match is not None and match.family.name == requested):
        if match is None:
            raise UnknownDrive(unknown_evidence(drive), drive.name)
        return match
    try:
        chosen = family_named(requested)
    except KeyError:
        names = ", ".join(cls.name for cls in FAMILY_CLASSES)
        raise UsageError(f"--family {requested}: no such family ({names})") from None
    who = f"{identity.vendor.strip()} {identity.product.strip()}"
    if match is not None and match.row is not None and not force:
        raise Refused(
            f"{who} is a {match.family.name} drive ({match.describe()}); --family {requested} "
            "would use another protocol, which can leave the drive unusable; nothing was sent",
            hint=f"drop --family to use {match.family.name}; --force family overrides the table",
        )
    missing = [name for name in required_params(requested) if name not in chosen.params(identity)]
    if missing:
        raise Refused(
            f"the {requested} protocol needs per-drive parameters ({', '.join(missing)}) that "
            f"only a drive table row gives, and no {requested} row matches {who}; nothing was sent",
            hint=f"add a {requested} row for this drive with its params to a file and pass "
            "--drives FILE",
        )
    overridden = match.describe() if match is not None and match.row is not None else ""
    return Match(chosen, via="--family", overridden=overridden)


def drive_family(drive: Drive) -> Family:
    """The family for an open drive; ``UnknownDrive`` (a Refused) when none serves it."""
    return resolve_family(drive).family


__all__ = [
    "Family",
    "Identity",
    "Match",
    "Step",
    "UnknownDrive",
    "all_families",
    "drive_family",
    "family_for",
    "family_named",
    "match_drive",
    "resolve_family",
]
