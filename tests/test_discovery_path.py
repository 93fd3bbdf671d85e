"""How a drive is attached and what the path carries, read from fake sysfs trees.

The trees have the kernel's shapes (see test_discovery.py): a USB device
directory with idVendor/idProduct/manufacturer/product/serial/speed, its
interface directory (``1-1:1.0``) whose ``driver`` link names usb-storage or
uas, the SCSI host below it, and the drive's ``block/srN/queue`` limits;
usb-storage adds a ``max_sectors`` attribute to the SCSI device.
"""

from __future__ import annotations

import json
from pathlib import Path

from test_discovery import ATA_HOST, TCM_HOST, VIRTIO_HOST, SysfsTree

from rescue.discovery import discover
from rescue.discovery.path import (
    PASSES,
    UNKNOWN,
    QueueLimits,
    device_dir_of_node,
    path_of_node,
)

USB_PORT = "pci0000:00/0000:00:14.0/usb2/2-1"
USB_IFACE = USB_PORT + "/2-1:1.0"
BOT_HOST = USB_IFACE + "/host6"
UAS_PORT = "pci0000:00/0000:00:14.0/usb3/3-2"
UAS_HOST = UAS_PORT + "/3-2:1.0/host8"


def usb_bridge(
    t: SysfsTree,
    port: str,
    driver: str,
    vid: str = "152d",
    pid: str = "2339",
    manufacturer: str = "JMicron",
    product: str = "USB to ATA/ATAPI Bridge",
    serial: str = "0123456789AB",
) -> None:
    t.usb_device(port, vid, pid, product)
    usb = t.root / "devices" / port
    (usb / "manufacturer").write_text(manufacturer + "\n")
    (usb / "serial").write_text(serial + "\n")
    (usb / "speed").write_text("480\n")
    iface = usb / (port.rsplit("/", 1)[1] + ":1.0")
    iface.mkdir(parents=True, exist_ok=True)
    drivers = t.root / "bus" / "usb" / "drivers" / driver
    drivers.mkdir(parents=True, exist_ok=True)
    t._link(iface / "driver", drivers)


def queue(dev: Path, block: str, hw_kb: int, kb: int, segments: int, seg_size: int = 65536) -> None:
    q = dev / "block" / block / "queue"
    q.mkdir(parents=True, exist_ok=True)
    (q / "max_hw_sectors_kb").write_text(f"{hw_kb}\n")
    (q / "max_sectors_kb").write_text(f"{kb}\n")
    (q / "max_segments").write_text(f"{segments}\n")
    (q / "max_segment_size").write_text(f"{seg_size}\n")


def bench(tmp_path: Path) -> tuple[SysfsTree, dict[str, Path]]:
    """A SATA drive, a drive behind a usb-storage bridge, one behind UAS, a virtio one."""
    t = SysfsTree(tmp_path)
    devs = {}
    devs["ata"] = t.device(ATA_HOST, "2:0:0:0", 5, block="sr0", sg="sg1")
    queue(devs["ata"], "sr0", 32767, 1280, 168)
    usb_bridge(t, USB_PORT, "usb-storage")
    devs["bot"] = t.device(
        BOT_HOST, "6:0:0:0", 5, "PLEXTOR", "DVDR   PX-716UF", "1.11", "sr1", "sg2",
        proc_name="usb-storage",
    )  # fmt: skip
    queue(devs["bot"], "sr1", 120, 120, 2048)
    (devs["bot"] / "max_sectors").write_text("240\n")
    usb_bridge(t, UAS_PORT, "uas", vid="174c", pid="55aa", manufacturer="ASMedia",
               product="ASM1051")  # fmt: skip
    devs["uas"] = t.device(UAS_HOST, "8:0:0:0", 5, "HL-DT-ST", "BD-RE BP60NB10", "1.00", "sr2",
                           "sg3", proc_name="uas")  # fmt: skip
    queue(devs["uas"], "sr2", 64, 64, 168)
    devs["virtio"] = t.device(VIRTIO_HOST, "10:0:0:0", 5, "QEMU", "QEMU CD-ROM", "2.5+", "sr3",
                              "sg4", proc_name="virtio_scsi")  # fmt: skip
    devs["tcm"] = t.device(TCM_HOST, "7:0:1:0", 5, "RESCUE", "EMU", "0100", None, "sg5",
                           proc_name="tcm_loopback")  # fmt: skip
    module = t.root / "module" / "sg" / "parameters"
    module.mkdir(parents=True)
    (module / "def_reserved_size").write_text("32768\n")
    return t, devs


def by_hctl(tmp_path: Path) -> dict[str, object]:
    t, _ = bench(tmp_path)
    inv = discover(sysfs_root=str(t.root), dev_root=str(t.dev), use_udev=False)
    return {d.hctl: d for d in inv.drives}


def test_each_attachment_is_named(tmp_path: Path) -> None:
    drives = by_hctl(tmp_path)
    kinds = {hctl: d.path.attachment for hctl, d in drives.items()}
    assert kinds == {
        "2:0:0:0": "ata",
        "6:0:0:0": "usb-bot",
        "8:0:0:0": "uas",
        "10:0:0:0": "virtio",
        "7:0:1:0": "tcm_loop",
    }
    assert drives["6:0:0:0"].path.label == "USB bulk-only transport (usb-storage)"
    assert drives["8:0:0:0"].path.label == "USB Attached SCSI (uas)"
    assert drives["2:0:0:0"].path.label == "SATA/PATA via libata"


def test_the_bridge_is_named_by_its_usb_ids_and_strings(tmp_path: Path) -> None:
    drives = by_hctl(tmp_path)
    bot = drives["6:0:0:0"].path.bridge
    assert bot.usb_id == "152d:2339"
    assert (bot.manufacturer, bot.product, bot.serial) == (
        "JMicron", "USB to ATA/ATAPI Bridge", "0123456789AB",
    )  # fmt: skip
    assert bot.driver == "usb-storage" and bot.speed == "480"
    assert bot.name == "152d:2339 (JMicron USB to ATA/ATAPI Bridge)"
    uas = drives["8:0:0:0"].path.bridge
    assert (uas.usb_id, uas.driver) == ("174c:55aa", "uas")
    assert drives["2:0:0:0"].path.bridge is None
    assert drives["6:0:0:0"].path.short() == "usb-bot 152d:2339"


def test_largest_transfer_is_the_smallest_bound(tmp_path: Path) -> None:
    drives = by_hctl(tmp_path)
    bot = drives["6:0:0:0"].path.limits
    assert bot.largest_transfer()[0] == 120 * 1024  # usb-storage's default 240 sectors
    assert bot.device_max_sectors == 240 and bot.sg_reserved_size == 32768
    ata = drives["2:0:0:0"].path.limits
    assert ata.largest_transfer() == (168 * 4096, "queue max_segments (one page each)")
    assert drives["8:0:0:0"].path.largest_transfer == 64 * 1024
    assert drives["7:0:1:0"].path.largest_transfer is None  # no sr bound: no queue in sysfs
    assert drives["7:0:1:0"].path.limits.largest_transfer()[1] == "no block queue limits in sysfs"


def test_a_lowered_max_sectors_kb_decides(tmp_path: Path) -> None:
    limits = QueueLimits(max_hw_sectors_kb=120, max_sectors_kb=32, max_segments=2048)
    assert limits.largest_transfer() == (32 * 1024, "queue max_sectors_kb")
    declared = QueueLimits(declared=0x8000, declared_by="emulated bridge maxxfer")
    assert declared.largest_transfer() == (0x8000, "emulated bridge maxxfer")


def test_what_passes_is_known_on_libata_and_unknown_behind_usb(tmp_path: Path) -> None:
    drives = by_hctl(tmp_path)
    ata, bot = drives["2:0:0:0"].path, drives["6:0:0:0"].path
    assert (ata.vendor_commands, ata.ata_passthrough) == (PASSES, PASSES)
    assert (bot.vendor_commands, bot.ata_passthrough) == (UNKNOWN, UNKNOWN)
    assert "not probed" in bot.vendor_commands_why and "rescue probe" in bot.vendor_commands_why
    assert "152d:2339" in bot.ata_passthrough_why


def test_path_serialises_into_the_inventory(tmp_path: Path) -> None:
    t, _ = bench(tmp_path)
    inv = discover(sysfs_root=str(t.root), dev_root=str(t.dev), use_udev=False)
    doc = json.loads(json.dumps(inv.to_dict()))
    bot = next(d for d in doc["drives"] if d["hctl"] == "6:0:0:0")
    assert bot["path"]["attachment"] == "usb-bot"
    assert bot["path"]["bridge"]["usb_id"] == "152d:2339"
    assert bot["path"]["limits"]["largest_transfer"] == 122880
    assert bot["path"]["vendor_commands"]["status"] == "unknown"


def test_a_node_leads_to_its_path(tmp_path: Path) -> None:
    t, devs = bench(tmp_path)
    (t.root / "class" / "scsi_generic").mkdir(parents=True, exist_ok=True)
    t._link(t.root / "class" / "scsi_generic" / "sg2" / "device", devs["bot"])
    t._link(t.root / "class" / "block" / "sr1" / "device", devs["bot"])
    assert device_dir_of_node("/dev/sg2", str(t.root)) == str(devs["bot"].resolve())
    assert device_dir_of_node("sr1", str(t.root)) == str(devs["bot"].resolve())
    assert path_of_node("/dev/sg2", str(t.root)).attachment == "usb-bot"
    assert path_of_node("/dev/sg9", str(t.root)) is None


def test_a_missing_or_garbled_limit_is_none_not_a_crash(tmp_path: Path) -> None:
    t, devs = bench(tmp_path)
    (devs["bot"] / "block" / "sr1" / "queue" / "max_hw_sectors_kb").write_text("junk\n")
    (devs["bot"] / "max_sectors").unlink()
    drives = {
        d.hctl: d
        for d in discover(sysfs_root=str(t.root), dev_root=str(t.dev), use_udev=False).drives
    }
    limits = drives["6:0:0:0"].path.limits
    assert limits.max_hw_sectors_kb is None and limits.device_max_sectors is None
    assert limits.largest_transfer()[0] == 120 * 1024


def test_info_says_what_each_path_allows(tmp_path: Path) -> None:
    """The rows `rescue info` prints: largest transfer, vendor commands and SAT, per path."""
    from rescue.ops.inventory import _path_rows

    drives = by_hctl(tmp_path)
    ata, bot, uas = (
        dict(_path_rows(drives[hctl].path.to_dict())) for hctl in ("2:0:0:0", "6:0:0:0", "8:0:0:0")
    )
    assert ata["attached"].startswith("SATA/PATA via libata") and "USB bridge" not in ata
    assert ata["largest transfer"].startswith("672 KiB (688128 bytes), decided by queue max_seg")
    assert ata["vendor commands"].startswith("passes: ")
    assert ata["ATA pass-through"].startswith("passes: ")
    assert bot["attached"] == "USB bulk-only transport (usb-storage) (host usb-storage)"
    assert bot["USB bridge"].startswith("152d:2339 (JMicron USB to ATA/ATAPI Bridge")
    assert bot["largest transfer"].startswith("120 KiB (122880 bytes)")
    assert "usb-storage max_sectors 240" in bot["largest transfer"]
    assert uas["attached"].startswith("USB Attached SCSI (uas)")
    assert (
        uas["USB bridge"].startswith("174c:55aa (ASMedia ASM1051")
        and "driver uas" in (uas["USB bridge"])
    )
    assert uas["largest transfer"].startswith("64 KiB (65536 bytes), decided by")
    for usb in (bot, uas):
        assert usb["vendor commands"].startswith("unknown: not probed")
        assert usb["ATA pass-through"].startswith("unknown: not probed")
