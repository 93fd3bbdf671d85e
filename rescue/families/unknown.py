"""A drive no table row serves: what it reports, which families it could be, how to go on.

Evidence is only what a drive says to read-only questions: the exact INQUIRY
strings (one more INQUIRY, read raw so the padding shows, since a table row
must match what the drive sends) and the feature list of GET CONFIGURATION,
which the family choice asks anyway. No other probe is sent: every vendor
command that could tell chipsets apart is a download or a memory access
(docs/protocols.md), and a guess is not worth a write-class command.

A candidate is a family plus the reasons that point at it:

- its INQUIRY vendor is one a family serves by name (``BTC`` -> btc);
- its product is one a family serves under another vendor (a rebadged drive);
- a vendor known to sell other makers' drives (``VENDOR_HINTS``);
- it advertises Microcode Upgrade (feature 0x0104) -> the generic SPC download.

Candidates are never acted on: ``--family NAME`` or a row in a user table
(``rescue.families.table``) is how the user goes on.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping, Sequence
from fnmatch import fnmatchcase

from rescue.errors import Refused, RescueError
from rescue.families.base import Family, Identity, squeeze
from rescue.record import field, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import Any

    from rescue.drive import Drive

MICROCODE_UPGRADE_FEATURE = 0x0104

#: Vendors whose drives carry another maker's chipset: family names and why.
VENDOR_HINTS: dict[str, tuple[tuple[str, ...], str]] = {
    "HP": (
        ("tsst", "mt1939"),
        "HP sells Toshiba Samsung (TSST) drives under its own name",
    ),
    "HL-DT-ST": (
        ("mt1959",),
        "Hitachi-LG Blu-ray drives are built on MediaTek MT1959, as the ASUS rows are",
    ),
}
#: INQUIRY field widths (SPC-4 6.6.2): vendor 8, product 16, revision 4 bytes.
FIELDS = (("vendor", 8, 16), ("product", 16, 32), ("revision", 32, 36))


def quote(text: str) -> str:
    """'text' with its padding kept and anything unprintable as \\xNN."""
    shown = "".join(c if " " <= c <= "~" else f"\\x{ord(c):02x}" for c in text)
    return f"'{shown}'"


@record
class Candidate:
    family: str
    title: str
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.family, "title": self.title, "reasons": list(self.reasons)}

    def text(self) -> str:
        return f"{self.family} ({'; '.join(self.reasons)})"


@record
class Evidence:
    """What an unknown drive reports, and the families it could belong to."""

    reports: dict[str, str]  # the INQUIRY fields exactly as sent, padding included
    features: tuple[int, ...]
    candidates: list[Candidate]
    families: list[str]  # every family name, for the next steps

    @property
    def who(self) -> str:
        return " ".join(self.reports[k].strip() for k in ("vendor", "product")).strip() or "?"

    def reports_text(self) -> str:
        return ", ".join(f"{key} {quote(self.reports[key])}" for key, _, _ in FIELDS)

    def candidates_text(self) -> str:
        if not self.candidates:
            return (
                "no evidence points at a family (no family serves its vendor or product, "
                "and it does not advertise Microcode Upgrade, feature 0x0104)"
            )
        return "it could be: " + ", ".join(c.text() for c in self.candidates)

    def next_steps(self, device: str = "DEV") -> list[str]:
        names = [c.family for c in self.candidates] or self.families
        which = "candidates" if self.candidates else "families"
        return [
            "if you know its protocol, "
            f"`rescue flash {shlex.quote(device)} FILE --family NAME` uses it "
            f"({which}: {', '.join(names)}); the image's own identity is still checked, "
            "and a wrong protocol can leave the drive unusable",
            f"or add a row (vendor {quote(self.reports['vendor'].strip())}, product "
            f"{quote(self.reports['product'].strip())}) to a drive table file and pass "
            "--drives FILE, or put the file in drives.d/ on the stick's data partition",
        ]

    def to_dict(self, device: str = "DEV") -> dict[str, Any]:
        return {
            "reports": dict(self.reports),
            "features": [f"{code:04X}h" for code in self.features],
            "candidates": [c.to_dict() for c in self.candidates],
            "next_steps": self.next_steps(device),
        }


def candidates(
    identity: Identity, features: Iterable[int], families: Sequence[Family]
) -> list[Candidate]:
    """Every family the evidence points at, each with its reasons, strongest first."""
    found: dict[str, Candidate] = {}
    titles = {f.name: f.title for f in families}

    def add(name: str, reason: str) -> None:
        if name in titles:
            found.setdefault(name, Candidate(name, titles[name])).reasons.append(reason)

    vendor, product = squeeze(identity.vendor), squeeze(identity.product)
    for family in families:
        by_vendor = [p for p in family.patterns if fnmatchcase(vendor, squeeze(p.vendor))]
        if by_vendor:
            served = ", ".join(sorted({p.product for p in by_vendor})[:3])
            add(
                family.name,
                f"its vendor {quote(identity.vendor.strip())} is one {family.name} serves "
                f"(products {served})",
            )
        rebadged = [
            p
            for p in family.patterns
            if fnmatchcase(product, squeeze(p.product)) and p not in by_vendor
        ]
        if rebadged:
            add(
                family.name,
                f"its product is one {family.name} serves under vendor "
                f"{quote(rebadged[0].vendor)} (a rebadged drive?)",
            )
    hint = VENDOR_HINTS.get(vendor)
    if hint is not None:
        for name in hint[0]:
            add(name, hint[1])
    if MICROCODE_UPGRADE_FEATURE in set(features):
        add("spc", "it advertises Microcode Upgrade (feature 0x0104): the SPC download")
    return list(found.values())


def exact_fields(drive: Drive) -> dict[str, str]:
    """The INQUIRY strings as sent (one read-only INQUIRY); trimmed ones if that fails."""
    from rescue.scsi import cdb as build

    c = build.inquiry()
    try:
        data = drive.command(c, data_in=c.data_in, label="INQUIRY (the exact strings)").data
    except RescueError:
        data = b""
    if len(data) >= FIELDS[-1][2]:
        return {key: data[start:end].decode("latin-1") for key, start, end in FIELDS}
    identity = drive.identity
    return {key: getattr(identity, key).ljust(end - start) for key, start, end in FIELDS}


def evidence(
    reports: Mapping[str, str], identity: Identity, features: Iterable[int], families: list[Family]
) -> Evidence:
    features = tuple(features)
    return Evidence(
        reports=dict(reports),
        features=features,
        candidates=candidates(identity, features, families),
        families=[f.name for f in families],
    )


class UnknownDrive(Refused):
    """No table row serves the drive and it does not advertise 0x0104: say what is known."""

    def __init__(self, found: Evidence, device: str, doing: str = "") -> None:
        super().__init__(
            f"{doing}{found.who} is not in rescue's drive table: the drive reports "
            f"{found.reports_text()}; {found.candidates_text()}; nothing was written to it",
            hint="; ".join(found.next_steps(device)),
        )
        self.evidence = found
        self.device = device

    def to_dict(self) -> dict[str, object]:
        return super().to_dict() | {"unknown_drive": self.evidence.to_dict(self.device)}
