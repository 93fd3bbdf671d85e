"""The catalog: integrity manifest, drive matching, upgrade plans."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_firmware_builders import btc_image

from rescue.errors import ExitCode
from rescue.firmware import FirmwareImage, load_firmware
from rescue.firmware.catalog import (
    CatalogDrive,
    CatalogError,
    find_drive,
    load_catalog,
    match_image,
)
from rescue.firmware.plan import Step, UnknownRevision, check_jump, plan_upgrade, revision_key

SHIPPED = resources.files("rescue") / "data" / "catalog.json"


def btc_1004() -> CatalogDrive:
    drive = find_drive("BTC     ", "DVDRW IDE1004   ")
    assert drive is not None
    return drive


def write_catalog(tmp_path: Path, doc: object, *, manifest_of: bytes | None = None) -> Path:
    raw = json.dumps(doc).encode()
    path = tmp_path / "catalog.json"
    path.write_bytes(raw)
    digest = hashlib.sha256(manifest_of if manifest_of is not None else raw).hexdigest()
    manifest = {"files": {"catalog.json": digest}}
    (tmp_path / "catalog.sha256.json").write_text(json.dumps(manifest))
    return path


def test_shipped_catalog_matches_its_manifest() -> None:
    catalog = load_catalog()
    assert catalog.sha256 == hashlib.sha256(SHIPPED.read_bytes()).hexdigest()
    assert {d.family for d in catalog.drives} >= {"btc", "mt1939", "plextor"}


def test_find_drive_normalises_inquiry_padding() -> None:
    assert btc_1004().family == "btc"
    assert [r.rev for r in btc_1004().revisions] == ["0040", "0043", "0050", "0151"]
    assert all(r.sha256 is None for r in btc_1004().revisions)
    px = find_drive("PLEXTOR ", "CD-R   PREMIUM2 ")
    assert px is not None and px.family == "plextor"
    assert find_drive("BTC", "DRW-9999") is None
    assert find_drive("LITEON", "DVDRW IDE1004") is None


def test_plan_0043_to_0151_goes_through_0050() -> None:
    plan = plan_upgrade(btc_1004(), "0043", "0151")
    assert [(s.from_rev, s.to_rev) for s in plan.steps] == [("0043", "0050"), ("0050", "0151")]
    assert plan.unsafe_direct is True
    assert "5/20/0" in plan.steps[0].why


def test_plan_from_0040_and_from_0050() -> None:
    assert [s.to_rev for s in plan_upgrade(btc_1004(), "0040", "0151").steps] == ["0050", "0151"]
    direct = plan_upgrade(btc_1004(), "0050", "0151")
    assert direct.steps == [Step("0050", "0151", "target revision")]
    assert direct.unsafe_direct is False


def test_plan_to_the_stepping_stone_itself_is_direct() -> None:
    plan = plan_upgrade(btc_1004(), "0040", "0050")
    assert [(s.from_rev, s.to_rev) for s in plan.steps] == [("0040", "0050")]
    assert not plan.unsafe_direct


def test_plan_same_revision_and_downgrade() -> None:
    same = plan_upgrade(btc_1004(), "0151", "0151")
    assert same.steps == [] and "already" in same.notes[0]
    down = plan_upgrade(btc_1004(), "0151", "0043")
    assert [(s.from_rev, s.to_rev) for s in down.steps] == [("0151", "0043")]
    assert "downgrade" in down.notes[0]


def test_check_jump() -> None:
    assert "0050 first" in (check_jump(btc_1004(), "0040", "0151") or "")
    assert check_jump(btc_1004(), "0050", "0151") is None
    assert check_jump(btc_1004(), "0043", "0050") is None


def test_unknown_revision_refused() -> None:
    with pytest.raises(UnknownRevision) as info:
        plan_upgrade(btc_1004(), "0042", "0151")
    assert "0042" in info.value.message and "0040, 0043, 0050, 0151" in info.value.message
    assert info.value.exit_code == ExitCode.REFUSED
    with pytest.raises(UnknownRevision):
        check_jump(btc_1004(), "0043", "0200")


def test_tampered_catalog_refused(tmp_path: Path) -> None:
    raw = SHIPPED.read_bytes()
    (tmp_path / "catalog.json").write_bytes(raw.replace(b'"0050"', b'"0043"', 1))
    manifest = (resources.files("rescue") / "data" / "catalog.sha256.json").read_bytes()
    (tmp_path / "catalog.sha256.json").write_bytes(manifest)
    with pytest.raises(CatalogError) as info:
        load_catalog(tmp_path / "catalog.json")
    assert "does not match its manifest" in info.value.message
    assert info.value.exit_code == ExitCode.BAD_INPUT


def test_untampered_copy_loads(tmp_path: Path) -> None:
    (tmp_path / "catalog.json").write_bytes(SHIPPED.read_bytes())
    manifest = (resources.files("rescue") / "data" / "catalog.sha256.json").read_bytes()
    (tmp_path / "catalog.sha256.json").write_bytes(manifest)
    assert load_catalog(tmp_path / "catalog.json").sha256 == load_catalog().sha256


def test_missing_manifest_refused(tmp_path: Path) -> None:
    (tmp_path / "catalog.json").write_bytes(SHIPPED.read_bytes())
    with pytest.raises(CatalogError, match="cannot be read"):
        load_catalog(tmp_path / "catalog.json")


def _drive(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "x",
        "vendor": "V",
        "products": ["P*"],
        "family": "btc",
        "source": "test",
        "revisions": [{"rev": "0001", "date": None, "sha256": None}],
        "rules": [],
    }
    base.update(changes)
    return base


@pytest.mark.parametrize(
    "doc,fragment",
    [
        ([], "schema-1"),
        ({"schema": 2, "drives": []}, "schema-1"),
        ({"schema": 1}, "'drives'"),
        ({"schema": 1, "drives": [7]}, "must be an object"),
        ({"schema": 1, "drives": [_drive(family="floppy")]}, "unknown family"),
        ({"schema": 1, "drives": [_drive(products=[1])]}, "list of text"),
        ({"schema": 1, "drives": [_drive(revisions=[{"rev": 1}])]}, "'rev'"),
        (
            {"schema": 1, "drives": [_drive(revisions=[{"rev": "1"}, {"rev": "1"}])]},
            "listed twice",
        ),
        (
            {
                "schema": 1,
                "drives": [
                    _drive(
                        rules=[{"from": ["0001"], "to_at_least": "2", "requires": "9", "why": "w"}]
                    )
                ],
            },
            "unlisted revisions ['9']",
        ),
    ],
)
def test_malformed_catalog(tmp_path: Path, doc: object, fragment: str) -> None:
    with pytest.raises(CatalogError) as info:
        load_catalog(write_catalog(tmp_path, doc))
    assert fragment in info.value.message


def test_invalid_json_with_matching_manifest(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_bytes(b"{nope")
    digest = hashlib.sha256(b"{nope").hexdigest()
    (tmp_path / "catalog.sha256.json").write_text(json.dumps({"files": {"catalog.json": digest}}))
    with pytest.raises(CatalogError, match="not valid JSON"):
        load_catalog(path)


def test_rule_loop_is_reported(tmp_path: Path) -> None:
    revs = [{"rev": r, "date": None, "sha256": None} for r in ("0001", "0002", "0003")]
    rules = [
        {"from": ["0001"], "to_at_least": "0003", "requires": "0002", "why": "a"},
        {"from": ["0002"], "to_at_least": "0003", "requires": "0001", "why": "b"},
    ]
    catalog = load_catalog(
        write_catalog(tmp_path, {"schema": 1, "drives": [_drive(revisions=revs, rules=rules)]})
    )
    with pytest.raises(CatalogError, match="loop"):
        plan_upgrade(catalog.drives[0], "0001", "0003")


@given(st.integers(0, 9999), st.integers(0, 9999))
def test_revision_key_orders_numbers_numerically(a: int, b: int) -> None:
    assert (revision_key(f"{a:04d}") < revision_key(f"{b:04d}")) == (a < b)
    assert (revision_key(f"TS{a}") < revision_key(f"TS{b}")) == (a < b)


def test_rule_whose_stepping_stone_is_its_threshold(tmp_path: Path) -> None:
    revs = [{"rev": r, "date": None, "sha256": None} for r in ("0001", "0002", "0003")]
    rules = [{"from": ["0001"], "to_at_least": "0002", "requires": "0002", "why": "stone"}]
    doc = {"schema": 1, "drives": [_drive(revisions=revs, rules=rules)]}
    drive = load_catalog(write_catalog(tmp_path, doc)).drives[0]
    to_stone = plan_upgrade(drive, "0001", "0002")
    assert [(s.from_rev, s.to_rev) for s in to_stone.steps] == [("0001", "0002")]
    assert not to_stone.unsafe_direct and check_jump(drive, "0001", "0002") is None
    beyond = plan_upgrade(drive, "0001", "0003")
    assert [(s.from_rev, s.to_rev) for s in beyond.steps] == [("0001", "0002"), ("0002", "0003")]


def _image(tmp_path: Path, data: bytes) -> FirmwareImage:
    path = tmp_path / "fw.bin"
    path.write_bytes(data)
    return load_firmware(path)


def test_match_image_against_shipped_catalog(tmp_path: Path) -> None:
    catalog = load_catalog()
    notes, problems = match_image(_image(tmp_path, btc_image(revision="0043")), catalog)
    assert problems == [] and "btc-drw1004im revision 0043" in notes[0]
    notes, problems = match_image(_image(tmp_path, btc_image(revision="0099")), catalog)
    assert problems == [] and "0099 is not listed" in notes[0]
    notes, problems = match_image(_image(tmp_path, btc_image(product="DRW-2000")), catalog)
    assert problems == [] and "not a known drive" in notes[0]


def test_match_image_family_contradiction(tmp_path: Path) -> None:
    image = _image(tmp_path, btc_image(vendor="TSSTcorp", product="BDDVDW SE-506CB"))
    notes, problems = match_image(image, load_catalog())
    assert notes == [] and "as a mt1939 drive" in problems[0]


def test_match_image_sha256(tmp_path: Path) -> None:
    good = _image(tmp_path, btc_image(revision="0001", vendor="V", product="P1"))
    revs = [{"rev": "0001", "date": None, "sha256": good.sha256.upper()}]
    folder = tmp_path / "cat"
    folder.mkdir()
    catalog = load_catalog(write_catalog(folder, {"schema": 1, "drives": [_drive(revisions=revs)]}))
    notes, problems = match_image(good, catalog)
    assert problems == [] and "sha256 matches" in notes[0]
    altered = bytearray(good.data)
    altered[0x9000] ^= 0x01
    notes, problems = match_image(_image(tmp_path, bytes(altered)), catalog)
    assert notes == [] and "modified or is damaged" in problems[0]


def test_shipped_catalog_is_read_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from rescue.firmware import catalog as module

    monkeypatch.setattr(module, "_shipped", None)
    first = load_catalog()
    reads: list[str] = []
    real_read = module._read

    def counting(path: Path | None, name: str) -> tuple[str, bytes]:
        reads.append(name)
        return real_read(path, name)

    monkeypatch.setattr(module, "_read", counting)
    assert load_catalog() is first
    assert find_drive("BTC", "DVDRW IDE1004") is not None
    assert reads == []
    load_catalog(Path(str(SHIPPED)))  # a file named by the caller is read on every use
    assert reads == ["catalog.json", "catalog.sha256.json"]


def test_corrupt_shipped_catalog_fails_every_use(monkeypatch: pytest.MonkeyPatch) -> None:
    from rescue.firmware import catalog as module

    real_read = module._read

    def tampered(path: Path | None, name: str) -> tuple[str, bytes]:
        where, raw = real_read(path, name)
        return where, raw.replace(b'"0050"', b'"0043"', 1) if name == "catalog.json" else raw

    monkeypatch.setattr(module, "_shipped", None)
    monkeypatch.setattr(module, "_read", tampered)
    messages = []
    for _ in range(2):
        with pytest.raises(CatalogError) as info:
            load_catalog()
        messages.append(info.value.message)
        assert info.value.exit_code == ExitCode.BAD_INPUT
    assert "does not match its manifest" in messages[0] and messages[0] == messages[1]
    assert module._shipped is None
