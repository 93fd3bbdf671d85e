"""The drive table holds what drives report, each row with its source (docs/drives.md).

Rows of ``rescue/data/families.json`` and ``catalog.json`` are matched against
the INQUIRY vendor/product strings real drives send. Every family row quotes
at least one of those strings in its ``source`` as ``reports 'VENDOR' 'PRODUCT'``
(read from a peer tool's table, a quoted INQUIRY or a vendor image); these
tests hold each row to the strings it quotes, keep marketing names (aliases)
out of the match, and keep the two files and the emulated drives in step.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pytest
from raw_cdb import INQUIRY

from rescue.emulator.registry import MODELS, create
from rescue.families import all_families, family_for, family_named
from rescue.families.base import DrivePattern, squeeze
from rescue.firmware.catalog import load_catalog

REPORTS = re.compile(r"reports '([^']+)' '([^']+)'")


@dataclass(frozen=True)
class Ident:
    vendor: str
    product: str
    revision: str = "1.00"


def _families() -> dict[str, list[dict[str, Any]]]:
    text = resources.files("rescue").joinpath("data", "families.json").read_text("utf-8")
    return {name: entry["drives"] for name, entry in json.loads(text)["families"].items()}


def _catalog() -> list[dict[str, Any]]:
    text = resources.files("rescue").joinpath("data", "catalog.json").read_text("utf-8")
    drives: list[dict[str, Any]] = json.loads(text)["drives"]
    return drives


FAMILY_ROWS = [
    pytest.param(name, row, id=f"{name}:{row['vendor']}/{squeeze(row['product'])}")
    for name, rows in _families().items()
    for row in rows
]
CATALOG = [pytest.param(d, id=d["id"]) for d in _catalog()]


def _reports(row: dict[str, Any]) -> list[Ident]:
    return [Ident(v, p) for v, p in REPORTS.findall(row["source"])]


@pytest.mark.parametrize(("family", "row"), FAMILY_ROWS)
def test_family_row_is_sourced_and_matches_what_its_source_quotes(
    family: str, row: dict[str, Any]
) -> None:
    assert set(row) <= {"vendor", "product", "revision", "params", "aliases", "source"}
    assert row["source"].strip(), "every row names where its strings were read"
    pattern = DrivePattern(**row)
    quoted = _reports(row)
    assert quoted, "the source quotes no reports 'VENDOR' 'PRODUCT' string"
    for ident in quoted:
        assert len(ident.vendor) <= 8 and len(ident.product) <= 16, ident
        assert pattern.matches(ident), f"the row does not match what its source quotes: {ident}"
        # ... and the shipped table gives that drive to this row's family, no other.
        found = family_for(ident)
        assert found is not None and found.name == family, (ident, found)


@pytest.mark.parametrize(("family", "row"), FAMILY_ROWS)
def test_marketing_names_are_aliases_never_matched(family: str, row: dict[str, Any]) -> None:
    pattern = DrivePattern(**row)
    for alias in row.get("aliases", []):
        for product in (alias, alias.partition(" ")[2]):
            assert squeeze(pattern.product) != squeeze(product), alias
            assert not pattern.matches(Ident(row["vendor"], product)), alias
        for rows in _families().values():
            for other in rows:
                assert not DrivePattern(**other).matches(Ident(row["vendor"], alias)), alias


@pytest.mark.parametrize(("family", "row"), FAMILY_ROWS)
def test_reported_strings_fit_inquiry_fields(family: str, row: dict[str, Any]) -> None:
    # A pattern longer than the field could never match a real drive.
    assert len(row["vendor"]) <= 8
    assert len(row["product"].replace("*", "")) <= 16
    assert len(row.get("revision", "*").replace("*", "")) <= 4


def test_no_two_rows_claim_the_same_drive() -> None:
    rows = [(name, DrivePattern(**row), row) for name, rs in _families().items() for row in rs]
    for name, _, row in rows:
        for ident in _reports(row):
            owners = [n for n, p, _ in rows if p.matches(ident)]
            assert owners == [name], (ident, owners)


def test_protocol_parameters_still_there() -> None:
    for family in all_families():
        if family.name == "plextor":
            assert all(p.params.get("chunk") in (0x1000, 0x4000) for p in family.patterns)
        if family.name == "mt1959":
            assert all(
                p.params.get("config_id", "").startswith("MT1959 Boot ") for p in family.patterns
            )


@pytest.mark.parametrize("drive", CATALOG)
def test_catalog_drive_is_sourced_and_agrees_with_the_family_table(drive: dict[str, Any]) -> None:
    assert drive["source"].strip() and drive["name"].strip()
    rows = [DrivePattern(**r) for rs in _families().values() for r in rs]
    own = family_named(drive["family"]).patterns
    for product in drive["products"]:
        # A catalog product is one of its family's rows, never a row of another family.
        same = [p for p in own if _same(p, drive["vendor"], product)]
        assert same, f"{drive['id']}: {product!r} is in no {drive['family']} row"
        assert all(p in own for p in rows if _same(p, drive["vendor"], product)), product
        assert squeeze(product) != squeeze(drive["name"]), "the name is for people, not matched"


def _same(pattern: DrivePattern, vendor: str, product: str) -> bool:
    if squeeze(pattern.vendor) != squeeze(vendor):
        return False
    if "*" in product or "?" in product:
        return squeeze(pattern.product) == squeeze(product)
    return pattern.matches(Ident(vendor, product))


@pytest.mark.parametrize(("family", "row"), FAMILY_ROWS)
def test_catalog_finds_the_family_of_each_quoted_drive(family: str, row: dict[str, Any]) -> None:
    catalog = load_catalog()
    for ident in _reports(row):
        entry = catalog.find_drive(ident.vendor, ident.product)
        assert entry is not None, f"{ident} is in the family table but not in the catalog"
        assert entry.family == family, (ident, entry.id)


FLASHABLE = [
    pytest.param(name, id=name) for name, info in MODELS.items() if info.family in _families()
]


@pytest.mark.parametrize("model", FLASHABLE)
def test_emulated_model_answers_inquiry_with_strings_its_row_matches(model: str) -> None:
    info = MODELS[model]
    reply = create(f"{model},disc=none").submit(INQUIRY, None, 96)
    ident = Ident(
        reply.data[8:16].decode("ascii").strip(),
        reply.data[16:32].decode("ascii").strip(),
        reply.data[32:36].decode("ascii").strip(),
    )
    rows = [DrivePattern(**r) for r in _families()[info.family]]
    if not rows:  # the SPC family serves drives by feature 0104h, by no name
        return
    assert any(p.matches(ident) for p in rows), f"{model} reports {ident}, which no row matches"
    found = family_for(ident)
    assert found is not None and found.name == info.family
    # ... and the string is one a source quotes, not just one a glob lets through.
    quoted = {
        (squeeze(i.vendor), squeeze(i.product))
        for r in _families()[info.family]
        for i in _reports(r)
    }
    assert (squeeze(ident.vendor), squeeze(ident.product)) in quoted, ident
