"""Step lists built once before a bench's fork (``rescue.engine.steps``) and who may reuse them."""

from __future__ import annotations

from pathlib import Path

import pytest

import rescue.discovery
from rescue.bench.jobs import prepared
from rescue.discovery.model import DriveNode, Inventory
from rescue.emulator.images import make_btc_image
from rescue.engine.steps import DriveModel, planned, steps_for
from rescue.families import family_named
from rescue.families.btc import BtcFamily

BTC_0043 = DriveModel("BTC", "DVDRW IDE1004", "0043")


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[DriveModel]:
    """Every identity a BTC step list is built for from now on."""
    seen: list[DriveModel] = []
    real = BtcFamily.flash_steps

    def counted(self: BtcFamily, data: bytes, identity: DriveModel) -> list:
        seen.append(DriveModel(identity.vendor, identity.product, identity.revision))
        return real(self, data, identity)

    monkeypatch.setattr(BtcFamily, "flash_steps", counted)
    return seen


def test_planned_steps_go_only_to_the_same_family_image_and_model(builds: list) -> None:
    btc, data = family_named("btc"), make_btc_image("0050")
    with planned(btc, data, [BTC_0043]):
        assert builds == [BTC_0043]
        reused = steps_for(btc, data, BTC_0043)
        assert builds == [BTC_0043]  # nothing built again
        assert reused == btc.flash_steps(data, BTC_0043)
        builds.clear()
        steps_for(btc, bytes(bytearray(data)), BTC_0043)  # equal bytes, another object (prepare)
        steps_for(btc, data, DriveModel("BTC", "DVDRW IDE1004", "0040"))
        assert len(builds) == 2
    builds.clear()
    steps_for(btc, data, BTC_0043)  # outside the block: built
    assert builds == [BTC_0043]


def _node(n: int, revision: str) -> DriveNode:
    return DriveNode(n, f"9:0:{n}:0", f"/dev/sr{n}", f"/dev/sg{n}", "BTC", "DVDRW IDE1004",
                     revision, "scsi", "sr")  # fmt: skip


def test_the_bench_parent_plans_once_per_drive_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, builds: list
) -> None:
    inventory = Inventory("sysfs", [_node(0, "0043"), _node(1, "0043"), _node(2, "0040")])
    monkeypatch.setattr(rescue.discovery, "discover", lambda *a, **k: inventory)
    fw = tmp_path / "V0050.bin"
    fw.write_bytes(make_btc_image("0050"))
    with prepared(["/dev/sg0", "/dev/sg1", "/dev/sg2", "emu:generic-dvd"], str(fw)) as pin:
        assert sorted(b.revision for b in builds) == ["0040", "0043"]
        assert pin is not None and pin.image is not None
        btc = family_named("btc")
        steps_for(btc, pin.image.data, BTC_0043)
        assert len(builds) == 2  # what a worker on /dev/sg0 or /dev/sg1 does costs no build
