"""Drive discovery against fake sysfs trees shaped like the kernel's, and fake udev.

The trees are built in code (``SysfsTree``) with the real layout: a device
directory under /sys/devices/<bus path>/hostH/targetH:C:T/H:C:T:L, the
class/scsi_device entry that links to it, class/scsi_host/hostH/proc_name,
and block/ and scsi_generic/ children. The udev tests wrap the same trees in
pyudev-like objects, since no udev database exists where the suite runs.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from rescue.discovery import DriveNode, Inventory, discover, resolve, udev
from rescue.discovery.model import TRANSPORTS
from rescue.errors import DeviceNotFound, ExitCode, RescueError, UsageError

ATA_HOST = "pci0000:00/0000:00:1f.2/ata3/host2"
USB_HOST = "pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/host6"
TCM_HOST = "tcm_loop_0/tcm_loop_adapter_0/host7"
VIRTIO_HOST = "pci0000:00/0000:00:04.0/virtio1/host10"
DISK_HOST = "pci0000:00/0000:00:1f.2/ata1/host0"


class SysfsTree:
    """Writes a fake /sys (and /dev) under a temporary directory."""

    def __init__(self, base: Path) -> None:
        self.root = base / "sys"
        self.dev = base / "dev"
        self.root.mkdir()
        self.dev.mkdir()

    def host(self, host_path: str, proc_name: str | None) -> Path:
        host_dir = self.root / "devices" / host_path
        number = host_dir.name
        scsi_host = host_dir / "scsi_host" / number
        scsi_host.mkdir(parents=True, exist_ok=True)
        if proc_name is not None:
            (scsi_host / "proc_name").write_text(proc_name + "\n")
        self._link(self.root / "class" / "scsi_host" / number, scsi_host)
        return host_dir

    def device(
        self,
        host_path: str,
        hctl: str,
        ptype: int | None,
        vendor: str = "HL-DT-ST",
        model: str = "DVDRAM GH24NSD1",
        rev: str = "LG00",
        block: str | None = None,
        sg: str | None = None,
        driver: str | None = "sr",
        proc_name: str | None = "ahci",
    ) -> Path:
        host_dir = self.host(host_path, proc_name)
        target = "target" + ":".join(hctl.split(":")[:3])
        dev = host_dir / target / hctl
        dev.mkdir(parents=True)
        if ptype is not None:
            (dev / "type").write_text(f"{ptype}\n")
        # The kernel pads INQUIRY strings with spaces to their field widths.
        (dev / "vendor").write_text(f"{vendor:<8}\n")
        (dev / "model").write_text(f"{model:<16}\n")
        (dev / "rev").write_text(f"{rev:<4}\n")
        if block:
            (dev / "block" / block).mkdir(parents=True)
            (self.dev / block).touch()
        if sg:
            (dev / "scsi_generic" / sg).mkdir(parents=True)
            (self.dev / sg).touch()
        if driver:
            drivers = self.root / "bus" / "scsi" / "drivers" / driver
            drivers.mkdir(parents=True, exist_ok=True)
            self._link(dev / "driver", drivers)
        class_dir = dev / "scsi_device" / hctl
        class_dir.mkdir(parents=True)
        self._link(class_dir / "device", dev)
        self._link(self.root / "class" / "scsi_device" / hctl, class_dir)
        return dev

    def usb_device(self, rel: str, vid: str, pid: str, product: str) -> None:
        usb = self.root / "devices" / rel
        usb.mkdir(parents=True, exist_ok=True)
        (usb / "idVendor").write_text(vid + "\n")
        (usb / "idProduct").write_text(pid + "\n")
        (usb / "product").write_text(product + "\n")

    @staticmethod
    def _link(link: Path, target: Path) -> None:
        """A relative symlink, as sysfs makes them."""
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(target, link.parent))


@pytest.fixture
def tree(tmp_path: Path) -> SysfsTree:
    """A machine with a SATA disk, a SATA drive, a USB drive, a TCMU drive and a virtio drive."""
    t = SysfsTree(tmp_path)
    t.device(DISK_HOST, "0:0:0:0", 0, "ATA", "Samsung SSD 870", "1B6Q", "sda", "sg0", "sd")
    t.device(ATA_HOST, "2:0:0:0", 5, block="sr0", sg="sg1")
    t.usb_device("pci0000:00/0000:00:14.0/usb1", "1d6b", "0002", "EHCI Host Controller")
    t.usb_device("pci0000:00/0000:00:14.0/usb1/1-1", "152d", "0578", "JMS578 bridge")
    t.device(
        USB_HOST,
        "6:0:0:0",
        5,
        "ASUS",
        "SDRW-08D2S-U",
        "B901",
        "sr1",
        "sg2",
        proc_name="usb-storage",
    )
    t.device(
        TCM_HOST, "7:0:1:0", 5, "RESCUE", "EMU-BTC", "0100", "sr3", "sg4", proc_name="tcm_loopback"
    )
    t.device(
        VIRTIO_HOST,
        "10:0:0:0",
        5,
        "QEMU",
        "QEMU CD-ROM",
        "2.5+",
        "sr2",
        "sg3",
        proc_name="virtio_scsi",
    )
    return t


def sysfs_inventory(t: SysfsTree, include_all: bool = False) -> Inventory:
    return discover(include_all, sysfs_root=str(t.root), dev_root=str(t.dev), use_udev=False)


def test_sysfs_lists_optical_drives_in_numeric_hctl_order(tree: SysfsTree) -> None:
    inv = sysfs_inventory(tree)
    assert inv.source == "sysfs"
    assert [d.hctl for d in inv.drives] == ["2:0:0:0", "6:0:0:0", "7:0:1:0", "10:0:0:0"]
    assert [d.index for d in inv.drives] == [0, 1, 2, 3]
    assert [d.sr for d in inv.drives] == [str(tree.dev / n) for n in ("sr0", "sr1", "sr3", "sr2")]
    assert [d.sg for d in inv.drives] == [str(tree.dev / n) for n in ("sg1", "sg2", "sg4", "sg3")]
    assert inv.skipped == []


def test_sysfs_identity_is_unpadded_and_transport_follows_the_path(tree: SysfsTree) -> None:
    ata, usb, tcm, virtio = sysfs_inventory(tree).drives
    assert (ata.vendor, ata.model, ata.revision) == ("HL-DT-ST", "DVDRAM GH24NSD1", "LG00")
    assert (ata.transport, ata.driver, ata.host, ata.usb_id) == ("ata", "sr", "ahci", None)
    assert usb.transport == "usb"
    # The nearest USB device (the bridge), not the root hub above it.
    assert (usb.usb_id, usb.usb_product) == ("152d:0578", "JMS578 bridge")
    assert (tcm.transport, tcm.host) == ("tcm_loop", "tcm_loopback")
    assert (virtio.transport, virtio.host) == ("virtio", "virtio_scsi")
    assert all(d.media is None and d.capabilities == () for d in (ata, usb, tcm, virtio))
    assert {d.transport for d in (ata, usb, tcm, virtio)} <= set(TRANSPORTS)


def test_other_scsi_hosts_are_scsi_and_hosts_without_proc_name_unknown(tmp_path: Path) -> None:
    t = SysfsTree(tmp_path)
    t.device("pci0000:00/0000:00:05.0/host3", "3:0:0:0", 5, block="sr0", proc_name="mptspi")
    t.device("platform/host4", "4:0:0:0", 5, block="sr1", proc_name=None)
    assert [d.transport for d in sysfs_inventory(t).drives] == ["scsi", "unknown"]


def test_include_all_explains_each_non_optical_device(tree: SysfsTree) -> None:
    inv = sysfs_inventory(tree, include_all=True)
    assert len(inv.drives) == 4
    assert [(s.name, s.reason) for s in inv.skipped] == [
        ("0:0:0:0", "peripheral type 0 (disk), not an optical drive")
    ]


def test_bus_scsi_devices_is_the_fallback_listing(tmp_path: Path) -> None:
    t = SysfsTree(tmp_path)
    dev = t.device(ATA_HOST, "2:0:0:0", 5, block="sr0", sg="sg1")
    (t.root / "class" / "scsi_device" / "2:0:0:0").unlink()
    (t.root / "class" / "scsi_device").rmdir()
    bus = t.root / "bus" / "scsi" / "devices"
    for node in (dev, dev.parent, dev.parent.parent):  # device, target, host: as the kernel does
        SysfsTree._link(bus / node.name, node)
    inv = sysfs_inventory(t)
    assert [(d.hctl, d.sg) for d in inv.drives] == [("2:0:0:0", str(t.dev / "sg1"))]


def test_odd_trees_are_skipped_with_a_reason_not_a_crash(tree: SysfsTree) -> None:
    cls = tree.root / "class" / "scsi_device"
    (cls / "9:0:0:0").symlink_to("../../devices/gone/9:0:0:0/scsi_device/9:0:0:0")
    tree.device("platform/host11", "11:0:0:0", None, block="sr9", proc_name="x")
    weird = tree.device("platform/host12", "12:0:0:0", 5, block="sr8", proc_name="x")
    (weird / "type").write_text("five\n")
    superscript = tree.device("platform/host13", "13:0:0:0", 5, proc_name="x")
    (superscript / "type").write_text("\u00b2\n")
    stray = tree.root / "devices" / "platform" / "host14"
    stray.mkdir(parents=True)
    SysfsTree._link(cls / "14:0:0:0" / "device", stray)
    inv = sysfs_inventory(tree)
    assert len(inv.drives) == 4
    reasons = {s.name: s.reason for s in inv.skipped}
    assert reasons == {
        "9:0:0:0": "broken link in sysfs (device gone?)",
        "11:0:0:0": "peripheral type unreadable in sysfs",
        "12:0:0:0": "peripheral type unreadable in sysfs",
        "13:0:0:0": "peripheral type unreadable in sysfs",
        "14:0:0:0": "host14 is not an H:C:T:L device directory",
    }


def test_unreadable_attributes_and_unbound_drivers_become_none(tmp_path: Path) -> None:
    t = SysfsTree(tmp_path)
    dev = t.device(ATA_HOST, "2:0:0:0", 5, block=None, sg="sg0", driver=None)
    (dev / "vendor").unlink()
    (dev / "vendor").mkdir()  # reading it fails with an OSError, even as root
    (dev / "model").write_text("   \n")
    (drive,) = sysfs_inventory(t).drives
    assert (drive.vendor, drive.model, drive.revision) == (None, None, "LG00")
    assert (drive.sr, drive.sg, drive.driver) == (None, str(t.dev / "sg0"), None)
    assert drive.name == str(t.dev / "sg0")


def test_a_missing_sysfs_gives_an_empty_inventory(tmp_path: Path) -> None:
    inv = discover(sysfs_root=str(tmp_path / "nothing"), use_udev=False)
    assert (inv.drives, inv.skipped, inv.source) == ([], [], "sysfs")


def test_inventory_serialises_to_json(tree: SysfsTree) -> None:
    data = json.loads(json.dumps(sysfs_inventory(tree, include_all=True).to_dict()))
    assert data["source"] == "sysfs"
    assert data["drives"][1]["usb_id"] == "152d:0578"
    assert data["skipped"][0]["name"] == "0:0:0:0"


# --- resolve ----------------------------------------------------------------


def test_resolve_accepts_index_node_name_path_link_and_hctl(tree: SysfsTree) -> None:
    inv = sysfs_inventory(tree)
    usb = inv.drives[1]
    (tree.dev / "cdrom").symlink_to("sr1")
    for spec in (
        "1",
        " 1 ",
        "sr1",
        "sg2",
        str(tree.dev / "sr1"),
        str(tree.dev / "sg2"),
        str(tree.dev / "cdrom"),
        "6:0:0:0",
    ):
        assert resolve(spec, inv) is usb, spec


def test_resolve_reads_a_pinned_inventory_until_the_block_ends(
    tree: SysfsTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rescue.discovery as discovery

    inv = sysfs_inventory(tree)
    walks: list[int] = []
    monkeypatch.setattr(discovery, "discover", lambda: walks.append(1) or Inventory("sysfs"))
    with discovery.pinned(inv):
        assert resolve("1") is inv.drives[1] and resolve("sr1") is inv.drives[1]
    assert walks == []
    with pytest.raises(DeviceNotFound):
        resolve("1")  # afterwards every resolve walks again
    assert walks == [1]


def test_resolve_index_out_of_range_says_how_many_exist(tree: SysfsTree) -> None:
    with pytest.raises(DeviceNotFound) as err:
        resolve("9", sysfs_inventory(tree))
    assert err.value.message == "no optical drive at index 9; `rescue list` shows 4 drives"
    assert err.value.exit_code == ExitCode.NO_DEVICE


def test_resolve_unknown_node_lists_what_exists(tree: SysfsTree) -> None:
    inv = sysfs_inventory(tree)
    with pytest.raises(DeviceNotFound) as err:
        resolve("/dev/sr7", inv)
    msg = err.value.message
    assert msg.startswith("no optical drive /dev/sr7; found 4 drives: 0: ")
    assert str(tree.dev / "sr3") in msg and "\n" not in msg
    with pytest.raises(DeviceNotFound, match="no optical drive sg0; "):
        resolve("sg0", inv)  # the disk's sg node is not a drive


def test_resolve_with_no_drives(tmp_path: Path) -> None:
    empty = Inventory(source="sysfs")
    with pytest.raises(DeviceNotFound, match=r"shows no drives$"):
        resolve("0", empty)
    with pytest.raises(DeviceNotFound, match="no optical drives were found"):
        resolve("sr0", empty)


@given(st.text(max_size=40))
@example("0\n0")
@example("\u00b2")  # a digit to str.isdigit(), not to int()
def test_resolve_fails_only_with_device_not_found(spec: str) -> None:
    one = Inventory(
        source="sysfs",
        drives=[DriveNode(0, "1:0:0:0", "/dev/sr0", "/dev/sg0", "V", "M", "R", "ata", "sr")],
    )
    try:
        node = resolve(spec, one)
    except DeviceNotFound as err:
        assert "\n" not in err.message
    else:
        assert node is one.drives[0]


# --- udev ---------------------------------------------------------------------


@dataclass
class FakeDevice:
    """The slice of pyudev.Device that discovery uses."""

    sys_path: str
    subsystem: str
    device_type: str | None = None
    device_node: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    parent: FakeDevice | None = None

    @property
    def sys_name(self) -> str:
        return os.path.basename(self.sys_path)

    def find_parent(self, subsystem: str, device_type: str | None = None) -> FakeDevice | None:
        node = self.parent
        while node is not None:
            if node.subsystem == subsystem and device_type in (None, node.device_type):
                return node
            node = node.parent
        return None


@dataclass
class FakeContext:
    devices: list[FakeDevice]

    def list_devices(self, **kwargs: str) -> Iterator[FakeDevice]:
        return (d for d in self.devices if d.subsystem == kwargs["subsystem"])


def udev_world(t: SysfsTree, cd_props: dict[str, dict[str, str]]) -> FakeContext:
    """udev's view of ``t``: scsi_device, block and scsi_generic devices per H:C:T:L."""
    devices = []
    for entry in sorted((t.root / "class" / "scsi_device").iterdir()):
        path = (entry / "device").resolve()
        scsi = FakeDevice(str(path), "scsi", "scsi_device")
        devices.append(scsi)
        for sub, subsystem in (("block", "block"), ("scsi_generic", "scsi_generic")):
            for child in sorted((path / sub).glob("*")) if (path / sub).is_dir() else []:
                props = cd_props.get(child.name, {}) if subsystem == "block" else {}
                devices.append(
                    FakeDevice(str(child), subsystem, None, f"/dev/{child.name}", props, scsi)
                )
    return FakeContext(devices)


CD = {"ID_CDROM": "1", "ID_TYPE": "cd", "ID_CDROM_DVD": "1", "ID_CDROM_CD_R": "1"}


def test_udev_source_uses_udev_nodes_and_media_state(tree: SysfsTree) -> None:
    props = {
        "sr0": {
            **CD,
            "ID_CDROM_MEDIA": "1",
            "ID_CDROM_MEDIA_DVD_PLUS_R": "1",
            "ID_CDROM_MEDIA_STATE": "complete",
            "ID_CDROM_MEDIA_TRACK_COUNT": "1",
            "ID_CDROM_MEDIA_SESSION_COUNT": "1",
        },
        "sr1": CD,
        "sr2": CD,
        "sr3": {"ID_TYPE": "cd"},
    }
    inv = discover(sysfs_root=str(tree.root), udev_context=udev_world(tree, props))
    assert inv.source == "udev" and inv.fallback_reason is None
    ata, usb, tcm, virtio = inv.drives
    assert [d.sr for d in inv.drives] == ["/dev/sr0", "/dev/sr1", "/dev/sr3", "/dev/sr2"]
    assert [d.sg for d in inv.drives] == ["/dev/sg1", "/dev/sg2", "/dev/sg4", "/dev/sg3"]
    assert ata.media is not None and ata.media.to_dict() == {
        "present": True,
        "kinds": ["dvd_plus_r"],
        "state": "complete",
    }
    assert usb.media is not None and usb.media.present is False
    assert tcm.media is None  # cdrom_id never ran: unknown, not empty
    assert ata.capabilities == ("cd_r", "dvd")
    assert (usb.transport, usb.usb_id, virtio.transport) == ("usb", "152d:0578", "virtio")


def test_udev_include_all_and_type5_without_sr(tree: SysfsTree) -> None:
    tree.device(ATA_HOST.replace("ata3/host2", "ata4/host3"), "3:0:0:0", 5, sg="sg5", driver=None)
    inv = discover(True, sysfs_root=str(tree.root), udev_context=udev_world(tree, {}))
    assert [(d.hctl, d.sr, d.sg) for d in inv.drives][1] == ("3:0:0:0", None, "/dev/sg5")
    assert [s.name for s in inv.skipped] == ["0:0:0:0"]


def test_udev_identity_fills_gaps_from_encoded_properties(tmp_path: Path) -> None:
    t = SysfsTree(tmp_path)
    dev = t.device(ATA_HOST, "2:0:0:0", 5, block="sr0")
    for name in ("vendor", "model", "rev"):
        (dev / name).unlink()
    props = {
        **CD,
        "ID_VENDOR": "HL-DT-ST",
        "ID_MODEL": "DVD+-RW_GT80N",
        "ID_MODEL_ENC": "DVD+-RW\\x20GT80N\\x20\\x20",
        "ID_REVISION": "A103",
    }
    (drive,) = discover(sysfs_root=str(t.root), udev_context=udev_world(t, {"sr0": props})).drives
    assert (drive.vendor, drive.model, drive.revision) == ("HL-DT-ST", "DVD+-RW GT80N", "A103")


def test_udev_cd_without_scsi_parent_is_skipped(tmp_path: Path) -> None:
    t = SysfsTree(tmp_path)
    orphan = FakeDevice("/sys/devices/virtual/block/cd9", "block", "disk", "/dev/cd9", CD)
    inv = discover(sysfs_root=str(t.root), udev_context=FakeContext([orphan]))
    assert inv.drives == []
    assert [(s.name, s.reason) for s in inv.skipped] == [
        ("cd9", "optical block device with no SCSI parent")
    ]


def test_udev_is_not_used_when_disabled_or_for_another_tree(tree: SysfsTree) -> None:
    assert udev.open_context(False, "/sys") == (None, "udev disabled by the caller")
    inv = discover(sysfs_root=str(tree.root))
    assert inv.source == "sysfs"
    assert inv.fallback_reason == f"sysfs root {tree.root} is not the running system's"


def test_udev_fallback_and_insistence_without_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(udev, "UDEV_DATABASE", str(tmp_path / "no-udev"))
    assert udev.open_context(None, "/sys") == (None, f"no udev database at {tmp_path}/no-udev")
    with pytest.raises(UsageError, match="udev was requested but is unavailable: no udev"):
        udev.open_context(True, "/sys")


def test_udev_is_chosen_when_database_and_libudev_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyudev

    monkeypatch.setattr(udev, "UDEV_DATABASE", str(tmp_path))
    made: list[str] = []
    monkeypatch.setattr(pyudev, "Context", lambda: made.append("context") or "context")
    assert udev.open_context(None, "/sys/") == ("context", None)
    assert made == ["context"]  # built once: the one that shows libudev loads is the one used

    def no_libudev() -> None:
        raise ImportError("No library named udev")

    monkeypatch.setattr(pyudev, "Context", no_libudev)
    assert udev.open_context(None, "/sys") == (None, "pyudev unusable: No library named udev")


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "ID_CDROM",
                "ID_CDROM_MEDIA",
                "ID_CDROM_MEDIA_CD",
                "ID_CDROM_MEDIA_STATE",
                "ID_CDROM_MEDIA_TRACK_COUNT",
                "ID_CDROM_BD",
                "ID_VENDOR_ENC",
                "ID_MODEL",
            ]
        ),
        st.text(max_size=12),
    )
)
def test_udev_property_readers_never_raise(props: dict[str, str]) -> None:
    media = udev.media(props)
    assert media is None or media.present == (props.get("ID_CDROM_MEDIA") == "1")
    assert all(not cap.startswith("media") for cap in udev.capabilities(props))
    udev.identity(props)


def test_errors_are_rescue_errors() -> None:
    assert issubclass(DeviceNotFound, RescueError) and issubclass(UsageError, RescueError)


# --- the names discovery tells apart without regexes (issue 15) ----------------------------

#: Text near the names: digits of several scripts ("٣", "²", "３"), colons, the prefixes,
#: a trailing newline (which ``$`` but not ``fullmatch`` forgives).
NAMEISH = st.text(alphabet=st.sampled_from("0129:atsrg\n٣²３x"), max_size=12) | st.text(max_size=12)


@given(NAMEISH)
@example("1:0:0:0")
@example("1:0:0:0\n")
@example("١:٠:٠:٠")
@example("ata٣")
@example("sg²")
def test_the_name_tests_are_the_patterns_they_replace(text: str) -> None:
    from rescue.discovery.named import is_node_name
    from rescue.discovery.sysfs import decimal, is_ata_port, is_hctl

    pairs = [
        (decimal, r"[0-9]+"),
        (is_hctl, r"\d+:\d+:\d+:\d+"),
        (is_ata_port, r"ata\d+"),
        (is_node_name, r"s[rg][0-9]+"),
    ]
    for test, pattern in pairs:
        assert test(text) == bool(re.fullmatch(pattern, text)), (test.__name__, text)
