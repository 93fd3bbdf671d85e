"""The drive catalog: known drives, their firmware revisions and upgrade rules, as data.

The catalog ships as ``rescue/data/catalog.json`` next to ``catalog.sha256.json``,
a manifest holding the sha256 of the catalog's bytes. ``load_catalog`` refuses a
catalog whose bytes do not match (BadInput, exit 5): a rule such as "0040 must
take 0050 before 0151" protects drives, so a silently edited catalog must not
be trusted. (A signature replaces the manifest once a project key exists.)
The manifest is JSON so the existing ``data/*.json`` package-data rule ships it.
After an intended edit of the catalog, write the output of this to
``rescue/data/catalog.sha256.json``::

    python -c 'import hashlib, json; d = open("rescue/data/catalog.json", "rb").read();
    print(json.dumps({"files": {"catalog.json": hashlib.sha256(d).hexdigest()}}, indent=2))'

Matching: vendor compares case-insensitively after trimming; products are glob
patterns (``fnmatch``) compared case-insensitively after collapsing runs of
spaces, because INQUIRY pads model names with spaces ("CD-R   PX-W4824A").
"""

from __future__ import annotations

import hashlib
import json
from fnmatch import fnmatchcase
from pathlib import Path

from rescue import shipped
from rescue.errors import BadInput
from rescue.firmware.layouts import BY_FAMILY
from rescue.firmware.model import FirmwareImage
from rescue.record import record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import Any

MANIFEST_SUFFIX = ".sha256.json"


class CatalogError(BadInput):
    """The catalog file is missing, tampered with or malformed."""


@record(frozen=True)
class CatalogRevision:
    rev: str
    date: str | None
    sha256: str | None


@record(frozen=True)
class UpgradeRule:
    """Drives on a revision in ``from_revs`` must pass through ``requires`` before
    any target at or above ``to_at_least`` (natural order, see plan.revision_key)."""

    from_revs: tuple[str, ...]
    to_at_least: str
    requires: str
    why: str


@record(frozen=True)
class CatalogDrive:
    """A known drive; ``name`` is what people call it, ``products`` what it reports."""

    id: str
    name: str
    vendor: str
    products: tuple[str, ...]
    family: str
    source: str
    revisions: tuple[CatalogRevision, ...]  # release order, oldest first
    rules: tuple[UpgradeRule, ...]

    def revision(self, rev: str) -> CatalogRevision | None:
        return next((r for r in self.revisions if r.rev == rev.strip()), None)

    def matches(self, vendor: str, product: str) -> bool:
        if vendor.strip().casefold() != self.vendor.casefold():
            return False
        name = _squeeze(product)
        return any(fnmatchcase(name, _squeeze(pattern)) for pattern in self.products)


@record(frozen=True)
class Catalog:
    path: str
    sha256: str
    drives: tuple[CatalogDrive, ...]

    def find_drive(self, vendor: str, product: str) -> CatalogDrive | None:
        return next((d for d in self.drives if d.matches(vendor, product)), None)


def _squeeze(text: str) -> str:
    return " ".join(text.split()).casefold()


def _read(path: Path | None, name: str) -> tuple[str, bytes]:
    """PATH's bytes, or the shipped file NAME's (rescue.shipped) where no path is given."""
    try:
        if path is None:
            return shipped.path_of(name), shipped.read_shipped(name)
        return str(path), path.read_bytes()
    except OSError as err:
        raise CatalogError(f"{path or name}: cannot be read: {err.strerror or err}") from None


def _check_manifest(where: str, raw: bytes, manifest_raw: bytes, name: str) -> str:
    digest = hashlib.sha256(raw).hexdigest()
    try:
        expected = json.loads(manifest_raw)["files"][name]
    except (ValueError, KeyError, TypeError):
        raise CatalogError(f"{where}: its manifest has no sha256 for {name}") from None
    if expected != digest:
        raise CatalogError(
            f"{where}: sha256 {digest[:16]}... does not match its manifest "
            f"({str(expected)[:16]}...): the catalog was modified or damaged",
            hint="restore the catalog shipped with rescue, or refresh the manifest if you "
            "edited it on purpose",
        )
    return digest


def _field(obj: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(obj, dict):
        raise CatalogError(f"{where}: expected an object holding {key!r}")
    value = obj.get(key)
    if not isinstance(value, kind):
        raise CatalogError(f"{where}: field {key!r} missing or not a {kind.__name__}")
    return value


def _text_list(obj: Any, key: str, where: str) -> tuple[str, ...]:
    items = _field(obj, key, list, where)
    if not all(isinstance(item, str) for item in items):
        raise CatalogError(f"{where}: field {key!r} must be a list of text")
    return tuple(items)


def _optional_text(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise CatalogError(f"{where}: field {key!r} must be text or null")
    return value


def _drive(obj: Any, where: str) -> CatalogDrive:
    if not isinstance(obj, dict):
        raise CatalogError(f"{where}: a drive entry must be an object")
    where = f"{where} ({obj.get('id', '?')})"
    family = _field(obj, "family", str, where)
    if family not in BY_FAMILY:
        raise CatalogError(f"{where}: unknown family {family!r}")
    revisions = tuple(
        CatalogRevision(
            _field(r, "rev", str, where),
            _optional_text(r, "date", where),
            _optional_text(r, "sha256", where),
        )
        for r in _field(obj, "revisions", list, where)
    )
    known = {r.rev for r in revisions}
    if len(known) != len(revisions):
        raise CatalogError(f"{where}: a revision is listed twice")
    rules = tuple(
        UpgradeRule(
            _text_list(r, "from", where),
            _field(r, "to_at_least", str, where),
            _field(r, "requires", str, where),
            _field(r, "why", str, where),
        )
        for r in _field(obj, "rules", list, where)
    )
    for rule in rules:
        unknown = (set(rule.from_revs) | {rule.requires}) - known
        if unknown:
            raise CatalogError(f"{where}: rule names unlisted revisions {sorted(unknown)}")
    return CatalogDrive(
        id=_field(obj, "id", str, where),
        name=_optional_text(obj, "name", where) or _field(obj, "id", str, where),
        vendor=_field(obj, "vendor", str, where),
        products=_text_list(obj, "products", where),
        family=family,
        source=_field(obj, "source", str, where),
        revisions=revisions,
        rules=rules,
    )


_shipped: Catalog | None = None  # the shipped catalog once it has been read and verified


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load and integrity-check the catalog (the shipped one when ``path`` is None).

    The manifest is the file next to it named ``<catalog name>.sha256.json``
    with the shape ``{"files": {"<catalog name>": "<sha256 hex>"}}``.
    The shipped catalog is part of the installed package and does not change
    while a process runs, so it is read and verified once per process (a bench
    worker or the menu asks for it per drive); a catalog that fails its check
    is not kept, so every later use fails the same way. A catalog named by
    ``path`` is a user's file and is read on every call.
    """
    global _shipped
    if path is None:
        if _shipped is None:
            _shipped = _load(None)
        return _shipped
    return _load(Path(path))


def _load(catalog_path: Path | None) -> Catalog:
    """Read, verify and parse one catalog (``None``: the shipped one)."""
    name = catalog_path.name if catalog_path else "catalog.json"
    manifest_name = Path(name).stem + MANIFEST_SUFFIX
    where, raw = _read(catalog_path, name)
    manifest_path = catalog_path.with_name(manifest_name) if catalog_path else None
    _, manifest_raw = _read(manifest_path, manifest_name)
    digest = _check_manifest(where, raw, manifest_raw, name)
    try:
        doc = json.loads(raw)
    except ValueError as err:
        raise CatalogError(f"{where}: not valid JSON ({err})") from None
    if not isinstance(doc, dict) or doc.get("schema") != 1:
        raise CatalogError(f"{where}: not a schema-1 rescue catalog")
    drives = tuple(
        _drive(entry, f"{where}: drive {n}")
        for n, entry in enumerate(_field(doc, "drives", list, where))
    )
    return Catalog(path=where, sha256=digest, drives=drives)


def find_drive(vendor: str, product: str, catalog: Catalog | None = None) -> CatalogDrive | None:
    """The catalog entry for an INQUIRY vendor/product, or None for an unknown drive."""
    return (catalog or load_catalog()).find_drive(vendor, product)


def match_image(image: FirmwareImage, catalog: Catalog) -> tuple[list[str], list[str]]:
    """(notes, problems) from comparing an image with what the catalog knows.

    A problem arises only when the catalog contradicts the image: the drive it
    names belongs to another family, or the catalog's sha256 for the image's
    revision differs (a modified or damaged file). Gaps in the catalog are notes.
    """
    ident = image.identity
    if not (ident.vendor and ident.product):
        return ["catalog: the image names no drive"], []
    drive = catalog.find_drive(ident.vendor, ident.product)
    if drive is None:
        return [f"catalog: {ident.vendor} {ident.product} is not a known drive"], []
    if drive.family != image.family:
        return [], [
            f"catalog lists {ident.vendor} {ident.product} as a {drive.family} drive, "
            f"but the image is laid out as {image.family}"
        ]
    if not ident.revision:
        return [f"catalog: {drive.id}; the image carries no revision"], []
    entry = drive.revision(ident.revision)
    if entry is None:
        return [f"catalog: {drive.id}; revision {ident.revision} is not listed"], []
    if entry.sha256 is None:
        return [f"catalog: {drive.id} revision {entry.rev} (its sha256 is not known)"], []
    if entry.sha256.casefold() != image.sha256:
        return [], [
            f"sha256 differs from the catalog's for {drive.id} revision {entry.rev}: "
            "the file was modified or is damaged"
        ]
    return [f"catalog: {drive.id} revision {entry.rev}, sha256 matches"], []
