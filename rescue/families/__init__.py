"""Drive families: one module per flashing protocol, chosen by the drive's identity.

Which drives a family serves is data (``rescue/data/families.json``), so a new
drive of a known protocol is one line there, not code. The generic SPC family
serves no drive by name: it is the fallback for drives that advertise MMC
feature 0x0104 (Microcode Upgrade) and match no vendor protocol.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from rescue.errors import Refused
from rescue.families.base import Family, Identity, Step
from rescue.families.btc import BtcFamily
from rescue.families.mt1939 import Mt1939Family
from rescue.families.mt1959 import Mt1959Family
from rescue.families.pioneer import PioneerFamily
from rescue.families.plextor import PlextorFamily
from rescue.families.spc import SpcFamily
from rescue.families.tsst import TsstFamily

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
MICROCODE_UPGRADE_FEATURE = 0x0104


def all_families() -> list[Family]:
    return [cls() for cls in FAMILY_CLASSES]


def family_named(name: str) -> Family:
    for cls in FAMILY_CLASSES:
        if cls.name == name:
            return cls()
    raise KeyError(name)


def family_for(identity: Identity, features: Iterable[int] = ()) -> Family | None:
    """The family serving this drive; the SPC fallback when it advertises 0x0104."""
    for family in all_families():
        if family.match(identity) is not None:
            return family
    if MICROCODE_UPGRADE_FEATURE in set(features):
        return next((f for f in all_families() if f.name == "spc"), None)
    return None


def drive_family(drive: Drive) -> Family:
    """The family for an open drive; GET CONFIGURATION is asked only when no name matches."""
    identity = drive.identity
    family = family_for(identity)
    if family is None:
        family = family_for(identity, drive.features)
    if family is None:
        raise Refused(
            f"no flashing protocol is known for {identity.vendor.strip()} "
            f"{identity.product.strip()} (revision {identity.revision.strip()}), and it does "
            "not advertise the Microcode Upgrade feature (0x0104)",
            hint="nothing was sent; `rescue info DEV` shows what the drive reports",
        )
    return family


__all__ = [
    "Family",
    "Identity",
    "Step",
    "all_families",
    "drive_family",
    "family_for",
    "family_named",
]
