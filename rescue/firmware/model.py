"""The result types of firmware inspection, shared by every layout and the CLI."""

from __future__ import annotations

from pathlib import Path

from rescue.record import field, record


@record(frozen=True)
class Identity:
    """What the image says it is. ``None`` means the layout keeps no such field
    (or its place is not publicly documented), never a guess.

    ``extra`` holds family-specific facts a flasher needs, such as the Pioneer
    part type ("Kernel"/"Normal")."""

    vendor: str | None = None
    product: str | None = None
    revision: str | None = None
    date: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@record(frozen=True)
class Checksum:
    """The family's checksum rule applied to the image.

    ``algorithm`` is None when no rule is publicly known for the family;
    ``expected`` is the value stored in the image (None when the family keeps
    none, as BTC's whose checksum travels in the flash header); ``valid`` is
    None whenever there is nothing to compare against."""

    algorithm: str | None
    value: int | None = None
    expected: int | None = None
    stored_at: int | None = None
    valid: bool | None = None


@record(frozen=True)
class Analysis:
    """What one layout found in an image: the part of FirmwareImage it owns."""

    identity: Identity
    checksum: Checksum
    problems: list[str]
    notes: list[str]


@record
class FirmwareImage:
    """A firmware file as read from disk and checked against its family's layout.

    ``problems`` are findings that make the image unfit to flash; ``notes`` are
    facts worth showing that do not block (e.g. where a fact is unknown)."""

    path: Path
    format: str  # "bin" or "hex"
    family: str
    size: int
    data: bytes = field(repr=False)
    identity: Identity
    checksum: Checksum
    sha256: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary (the image bytes themselves are left out)."""
        ident = self.identity
        ck = self.checksum
        return {
            "path": str(self.path),
            "format": self.format,
            "family": self.family,
            "size": self.size,
            "sha256": self.sha256,
            "identity": {
                "vendor": ident.vendor,
                "product": ident.product,
                "revision": ident.revision,
                "date": ident.date,
                **({"extra": dict(ident.extra)} if ident.extra else {}),
            },
            "checksum": {
                "algorithm": ck.algorithm,
                "value": ck.value,
                "expected": ck.expected,
                "stored_at": ck.stored_at,
                "valid": ck.valid,
            },
            "usable": self.usable,
            "problems": list(self.problems),
            "notes": list(self.notes),
        }
