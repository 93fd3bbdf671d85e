"""A drive found again after a reset that gave it a new node (usb-storage re-enumeration)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_discovery import ATA_HOST, SysfsTree
from test_discovery_path import USB_PORT, queue, usb_bridge

from rescue.discovery import discover
from rescue.discovery.model import Inventory
from rescue.discovery.refind import find_again, remember, remember_node, sysfs_unit_serial
from rescue.errors import DeviceNotFound

PLEXTOR = ("PLEXTOR", "DVDR   PX-716UF")


def usb_drive(base: Path, host: str, sg: str, rev: str = "1.11", serial: str = "BRIDGE01",
              vpd: str | None = None) -> SysfsTree:  # fmt: skip
    base.mkdir(parents=True, exist_ok=True)
    t = SysfsTree(base)
    usb_bridge(t, USB_PORT, "usb-storage", serial=serial)
    dev = t.device(f"{USB_PORT}/2-1:1.0/{host}", f"{host[4:]}:0:0:0", 5, *PLEXTOR, rev,
                   sg.replace("sg", "sr"), sg, proc_name="usb-storage")  # fmt: skip
    queue(dev, sg.replace("sg", "sr"), 120, 120, 2048)
    if vpd is not None:
        body = vpd.encode()
        (dev / "vpd_pg80").write_bytes(bytes([5, 0x80, 0, len(body)]) + body)
    return t


def inventory(t: SysfsTree) -> Inventory:
    return discover(sysfs_root=str(t.root), dev_root=str(t.dev), use_udev=False)


def test_a_re_enumerated_usb_drive_is_found_by_its_bridge(tmp_path: Path) -> None:
    before = usb_drive(tmp_path / "a", "host6", "sg2")
    key = remember(inventory(before).drives[0])
    assert (key.node, key.usb_serial, key.usb_port) == (str(before.dev / "sg2"), "BRIDGE01", "2-1")
    after = usb_drive(tmp_path / "b", "host9", "sg3", rev="1.12")
    found = find_again(key, discover_now=lambda: inventory(after))
    assert found.moved and found.node == str(after.dev / "sg3")
    assert found.matched_by == "USB bridge serial number"
    assert found.drive.revision == "1.12" and not found.in_recovery()


def test_the_unit_serial_decides_among_drives_of_one_model(tmp_path: Path) -> None:
    t = usb_drive(tmp_path / "a", "host6", "sg2", vpd="PX716-0001")
    twin = t.device(ATA_HOST, "2:0:0:0", 5, *PLEXTOR, "1.11", "sr0", "sg1")
    (twin / "vpd_pg80").write_bytes(bytes([5, 0x80, 0, 10]) + b"PX716-0002")
    drives = {d.hctl: d for d in inventory(t).drives}
    assert sysfs_unit_serial(drives["6:0:0:0"].sysfs_path) == "PX716-0001"
    key = remember(drives["2:0:0:0"])
    assert key.serial == "PX716-0002"
    found = find_again(key, discover_now=lambda: inventory(t))
    assert (found.drive.hctl, found.matched_by, found.moved) == ("2:0:0:0", "unit serial number",
                                                                  False)  # fmt: skip


def test_a_serial_from_the_drive_itself_is_used_when_sysfs_has_none(tmp_path: Path) -> None:
    t = usb_drive(tmp_path / "a", "host6", "sg2")
    t.device(ATA_HOST, "2:0:0:0", 5, *PLEXTOR, "1.11", "sr0", "sg1")
    drives = {d.hctl: d for d in inventory(t).drives}
    key = remember(drives["2:0:0:0"], serial="SATA-ONE")
    serials = {"2:0:0:0": "SATA-ONE", "6:0:0:0": "USB-ONE"}
    found = find_again(key, discover_now=lambda: inventory(t),
                       serial_of=lambda d: serials[d.hctl])  # fmt: skip
    assert found.drive.hctl == "2:0:0:0" and found.matched_by == "unit serial number"


def test_twins_with_nothing_to_tell_them_apart_are_never_guessed(tmp_path: Path) -> None:
    t = SysfsTree(tmp_path)
    t.device(ATA_HOST, "2:0:0:0", 5, *PLEXTOR, "1.11", "sr0", "sg1")
    t.device("pci0000:00/0000:00:1f.2/ata4/host3", "3:0:0:0", 5, *PLEXTOR, "1.11", "sr1", "sg2")
    key = remember(inventory(t).drives[0])
    (tmp_path / "b").mkdir()
    moved = SysfsTree(tmp_path / "b")
    moved.device("pci0000:00/0000:00:1f.2/ata5/host4", "4:0:0:0", 5, *PLEXTOR, "1.11", "sr2", "sg3")
    moved.device("pci0000:00/0000:00:1f.2/ata6/host5", "5:0:0:0", 5, *PLEXTOR, "1.11", "sr3", "sg4")
    with pytest.raises(
        DeviceNotFound, match="2 drives report PLEXTOR DVDR   PX-716UF .* nothing tells which one"
    ):
        find_again(key, discover_now=lambda: inventory(moved))


def test_waits_for_the_drive_and_says_when_it_never_came(tmp_path: Path) -> None:
    back = usb_drive(tmp_path / "a", "host6", "sg2")
    key = remember(inventory(back).drives[0])
    (tmp_path / "empty").mkdir()
    empty = SysfsTree(tmp_path / "empty")
    clock = [0.0]
    answers = [inventory(empty), inventory(empty), inventory(back)]
    found = find_again(key, discover_now=lambda: answers.pop(0), timeout=10, poll=1,
                       sleep=lambda s: clock.__setitem__(0, clock[0] + s),
                       now=lambda: clock[0])  # fmt: skip
    assert found.matched_by == "USB bridge serial number" and clock[0] == 2

    def tick(seconds: float) -> None:
        clock[0] += seconds

    with pytest.raises(DeviceNotFound, match="did not come back: no drive reports PLEXTOR"):
        find_again(key, discover_now=lambda: inventory(empty), timeout=3, poll=1, sleep=tick,
                   now=lambda: clock[0])  # fmt: skip


def test_a_drive_back_in_its_boot_loader_is_found_and_said_so(tmp_path: Path) -> None:
    before = usb_drive(tmp_path / "a", "host6", "sg2")
    key = remember(inventory(before).drives[0])
    after = usb_drive(tmp_path / "b", "host7", "sg5", rev="BOOT")
    found = find_again(key, discover_now=lambda: inventory(after))
    assert found.moved and found.in_recovery()
    assert found.to_dict()["revision"] == "BOOT"


def test_remember_node_takes_what_open_device_resolved(tmp_path: Path) -> None:
    t = usb_drive(tmp_path / "a", "host6", "sg2")
    inv = inventory(t)
    key = remember_node(str(t.dev / "sg2"), serial="S1", inventory=inv)
    assert key is not None and (key.serial, key.hctl) == ("S1", "6:0:0:0")
    assert remember_node("emu:btc-drw1004im", inventory=inv) is None


def test_the_drives_own_revision_wins_over_the_scans_copy(tmp_path: Path) -> None:
    """Behind USB the new node is scanned mid-burn: sysfs says 1.12, the drive then BOOT."""
    before = usb_drive(tmp_path / "a", "host6", "sg2")
    key = remember(inventory(before).drives[0])
    after = usb_drive(tmp_path / "b", "host7", "sg5")
    found = find_again(key, discover_now=lambda: inventory(after))
    assert not found.in_recovery() and "boot loader" not in found.describe()
    now = found.told("BOOT ")
    assert now.in_recovery() and now.to_dict()["revision"] == "BOOT"
    assert now.describe() == (
        f"the drive came back in its boot loader (revision BOOT) as {now.node}, "
        f"matched by {now.matched_by}"
    )
    assert not found.told("1.13").in_recovery()
