"""A real USB path without hardware: a configfs gadget on the kernel's dummy_hcd.

dummy_hcd gives one machine both sides of a USB cable: a host controller
and a device controller (UDC) wired to it. A gadget built in configfs
(libcomposite) on that UDC enumerates on the host side like any plugged-in
device, so usb-storage binds to it and the kernel makes the usual SCSI
host, sr and sg nodes behind it (docs/testbed.md, "A real USB path in the
guest").

``MassStorageGadget`` uses the kernel's own mass-storage function
(``usb_f_mass_storage``) with ``cdrom=1``: a bulk-only-transport CD-ROM.
Its SCSI command set is fixed (drivers/usb/gadget/function/f_mass_storage.c):
reads, TOC, mode pages, INQUIRY; every other opcode, WRITE BUFFER and vendor
opcodes included, is answered 5/20/00 INVALID COMMAND OPERATION CODE. That is
what many real USB-to-ATAPI bridges do with commands they do not forward, so
the gadget stands for "a bridge that refuses vendor commands". Its INQUIRY
strings can be set (``inquiry_string``) to name a drive family, which is how
a test shows the refusal comes from the bridge, not from the drive.

Needs root, configfs mounted, and the modules dummy_hcd, libcomposite,
usb_f_mass_storage, usb-storage (tests/vm/harness.py loads them in the guest).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from rescue.errors import DeviceNotFound

CONFIGFS = Path("/sys/kernel/config")
UDC_CLASS = Path("/sys/class/udc")
LANG = "0x409"  # US English strings
NODE_WAIT_SECONDS = 60.0  # enumeration and usb-storage's scan delay, under TCG


def inquiry_string(vendor: str, product: str, revision: str) -> str:
    """f_mass_storage's ``inquiry_string``: vendor (8), product (16), revision (4), padded."""
    return f"{vendor:<8.8}{product:<16.16}{revision:<4.4}"


def _write(path: Path, text: str) -> None:
    path.write_text(text)


class MassStorageGadget:
    """A usb-storage CD-ROM on dummy_hcd: ``with MassStorageGadget(...) as g: g.sysfs_device``.

    ``sysfs_device`` is the SCSI device directory (``.../H:C:T:L``) the host side
    made for it; ``sr``/``sg`` are the kernel names of its nodes.
    """

    def __init__(
        self,
        name: str,
        image: str,
        *,
        id_vendor: int = 0x1D6B,  # Linux Foundation
        id_product: int = 0x0104,  # Multifunction Composite Gadget
        manufacturer: str = "rescue test bridge",
        product: str = "USB2.0 ATAPI bridge",
        serial: str = "RESCUEUSB0001",
        inquiry: str | None = None,
        configfs: Path = CONFIGFS,
    ) -> None:
        self.name = name
        self.image = image
        self.id_vendor = id_vendor
        self.id_product = id_product
        self.manufacturer = manufacturer
        self.product = product
        self.serial = serial
        self.inquiry = inquiry
        self.root = configfs / "usb_gadget" / name
        self.sysfs_device: Path | None = None

    @property
    def usb_id(self) -> str:
        return f"{self.id_vendor:04x}:{self.id_product:04x}"

    def __enter__(self) -> MassStorageGadget:
        before = set(_scsi_devices())
        self._build()
        self.sysfs_device = self._wait_for_device(before)
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def _build(self) -> None:
        root = self.root
        root.mkdir()
        _write(root / "idVendor", f"{self.id_vendor:#06x}")
        _write(root / "idProduct", f"{self.id_product:#06x}")
        strings = root / "strings" / LANG
        strings.mkdir(parents=True)
        _write(strings / "manufacturer", self.manufacturer)
        _write(strings / "product", self.product)
        _write(strings / "serialnumber", self.serial)
        function = root / "functions" / "mass_storage.0"
        function.mkdir(parents=True)
        lun = function / "lun.0"
        _write(lun / "cdrom", "1")
        _write(lun / "removable", "1")
        _write(lun / "ro", "1")
        if self.inquiry is not None:
            _write(lun / "inquiry_string", self.inquiry)
        _write(lun / "file", self.image)
        config = root / "configs" / "c.1"
        config.mkdir(parents=True)
        (config / "strings" / LANG).mkdir(parents=True)
        _write(config / "strings" / LANG / "configuration", "mass storage")
        os.symlink(function, config / "mass_storage.0")
        _write(root / "UDC", free_udc())

    def _wait_for_device(self, before: set[Path]) -> Path:
        deadline = time.monotonic() + NODE_WAIT_SECONDS
        while time.monotonic() < deadline:
            for device in sorted(set(_scsi_devices()) - before):
                if (device / "scsi_generic").is_dir() and (device / "block").is_dir():
                    return device
            time.sleep(0.25)
        raise DeviceNotFound(f"gadget {self.name}: no SCSI device appeared behind usb-storage")

    def disconnect(self) -> None:
        """Unplug: unbind the gadget from its UDC (the host side sees the device go)."""
        try:
            _write(self.root / "UDC", "\n")
        except OSError:
            pass

    def reconnect(self) -> Path:
        """Unplug and plug back in: the host side enumerates it again (a new SCSI host).

        What a drive that resets after its commit looks like behind usb-storage.
        Returns (and keeps) the new SCSI device directory.
        """
        old = self.sysfs_device
        self.disconnect()
        deadline = time.monotonic() + NODE_WAIT_SECONDS
        while old is not None and old.exists() and time.monotonic() < deadline:
            time.sleep(0.25)
        before = set(_scsi_devices())
        _write(self.root / "UDC", free_udc())
        self.sysfs_device = self._wait_for_device(before)
        return self.sysfs_device

    def remove(self) -> None:
        """Unplug and take the configfs tree apart, children first (configfs requires it)."""
        root = self.root
        if not root.exists():
            return
        self.disconnect()
        config = root / "configs" / "c.1"
        for path in (config / "mass_storage.0",):
            if path.is_symlink():
                path.unlink()
        for directory in (
            config / "strings" / LANG,
            config,
            root / "functions" / "mass_storage.0",
            root / "strings" / LANG,
            root,
        ):
            try:
                directory.rmdir()
            except OSError:
                pass


def free_udc() -> str:
    """The name of a device controller no gadget holds (dummy_hcd makes ``dummy_udc.0``)."""
    taken = set()
    gadgets = CONFIGFS / "usb_gadget"
    if gadgets.is_dir():
        for gadget in gadgets.iterdir():
            try:
                taken.add((gadget / "UDC").read_text().strip())
            except OSError:
                continue
    names = sorted(p.name for p in UDC_CLASS.iterdir()) if UDC_CLASS.is_dir() else []
    for name in names:
        if name not in taken:
            return name
    raise DeviceNotFound("no free USB device controller (load dummy_hcd)")


def _scsi_devices() -> list[Path]:
    base = Path("/sys/bus/scsi/devices")
    if not base.is_dir():
        return []
    return [p.resolve() for p in base.iterdir() if p.name.count(":") == 3]
