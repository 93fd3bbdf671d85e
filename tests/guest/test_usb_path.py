"""A drive behind a real USB stack: dummy_hcd, a configfs mass-storage gadget, usb-storage.

The kernel's mass-storage function with ``cdrom=1`` is a bulk-only-transport
CD-ROM whose command set is fixed: it answers WRITE BUFFER and vendor opcodes
with 5/20/00 itself, as many USB-to-ATAPI bridges do. Its INQUIRY strings are
set to a BTC DRW-1004IM's, a family whose protocol is built on WRITE BUFFER:
so a 5/20/00 can only be the bridge's, and `rescue probe` must say so.
usb-storage holds the device to 240 sectors (120 KiB) per command; the test
checks `rescue` reads that from sysfs, that the kernel refuses more, and that
lowering the cap makes a flash protocol with bigger chunks refused up front.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from guestlib import run_cli

from rescue.emulator.usb_gadget import MassStorageGadget, inquiry_string
from rescue.errors import Refused, TransportError

USB_ID = "1209:0001"  # pid.codes' test id: no usb-storage quirk matches it
MANUFACTURER = "rescue test bridge"
PRODUCT = "USB2.0 ATAPI bridge"
BTC = ("BTC", "DVDRW IDE1004", "0043")


@pytest.fixture(scope="module")
def gadget(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MassStorageGadget]:
    image = tmp_path_factory.mktemp("usb") / "disc.iso"
    image.write_bytes(bytes(2048 * 512))
    with MassStorageGadget(
        "rescue_usb_path",
        str(image),
        id_vendor=0x1209,
        id_product=0x0001,
        manufacturer=MANUFACTURER,
        product=PRODUCT,
        inquiry=inquiry_string(*BTC),
    ) as started:
        yield started


def sg_of(gadget: MassStorageGadget) -> str:
    assert gadget.sysfs_device is not None
    return "/dev/" + sorted(p.name for p in (gadget.sysfs_device / "scsi_generic").iterdir())[0]


def listed(gadget: MassStorageGadget) -> dict:
    code, out, err = run_cli("list", "--json")
    assert code == 0, err
    drives = [d for d in json.loads(out)["drives"] if d["sg"] == sg_of(gadget)]
    assert len(drives) == 1, out
    return drives[0]


def test_list_names_the_usb_path_and_the_bridge(
    gadget: MassStorageGadget, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the table on one line per drive
    drive = listed(gadget)
    assert (drive["vendor"], drive["model"], drive["revision"]) == BTC
    path = drive["path"]
    assert path["attachment"] == "usb-bot" and path["host"] == "usb-storage"
    bridge = path["bridge"]
    assert bridge["usb_id"] == USB_ID
    assert (bridge["manufacturer"], bridge["product"]) == (MANUFACTURER, PRODUCT)
    assert bridge["driver"] == "usb-storage" and bridge["serial"] == "RESCUEUSB0001"
    assert "dummy_hcd" in drive["sysfs_path"]
    code, out, _ = run_cli("list")
    text = " ".join(out.split())
    assert f"usb-bot {USB_ID}" in text
    assert f"USB bulk-only transport (usb-storage), bridge {USB_ID} ({MANUFACTURER} {PRODUCT})" in (
        text
    )


def test_info_says_what_the_path_carries(gadget: MassStorageGadget) -> None:
    code, out, err = run_cli("info", "--json", sg_of(gadget))
    assert code == 0, err
    path = json.loads(out)["path"]
    assert path["attachment"] == "usb-bot"
    assert path["limits"]["largest_transfer"] == 120 * 1024
    assert path["limits"]["device_max_sectors"] == 240
    assert path["limits"]["max_hw_sectors_kb"] == 120
    assert path["vendor_commands"]["status"] == "unknown"
    # info sent IDENTIFY PACKET DEVICE through ATA PASS-THROUGH(16): the gadget refuses it
    assert path["ata_passthrough"]["status"] == "refused"
    code, out, err = run_cli("info", sg_of(gadget))
    text = " ".join(out.split())
    assert "attached USB bulk-only transport (usb-storage)" in text
    assert f"USB bridge {USB_ID} ({MANUFACTURER} {PRODUCT}" in text
    assert "largest transfer 120 KiB (122880 bytes)" in text
    assert "vendor commands unknown: not probed" in text


def test_probe_says_the_bridge_refused(gadget: MassStorageGadget) -> None:
    code, out, err = run_cli("probe", "--json", sg_of(gadget))
    result = json.loads(out)
    assert code == result["exit_code"] == 9, err
    assert result["sense"]["triple"] == "5/20/00"
    assert result["family"] == "BTC / MediaTek MT1x08"
    assert result["refused_by"]["who"] == "bridge"
    assert "the USB bridge refused it, not the drive" in result["verdict"]
    assert "SATA or IDE port" in result["next_step"]
    code, out, _ = run_cli("probe", sg_of(gadget))
    assert "refused by: bridge" in out and f"bridge {USB_ID}" in out


def test_reads_fit_the_cap_and_the_kernel_refuses_more(gadget: MassStorageGadget) -> None:
    from rescue.ops.pathcheck import fit_sectors, largest_transfer
    from rescue.transport.sgio import SgioTransport

    with SgioTransport(sg_of(gadget)) as transport:
        assert largest_transfer(transport) == 120 * 1024
        assert transport.queue_max_bytes() == 120 * 1024  # the sg driver says the same
        sectors = fit_sectors(transport, 64)
        assert sectors == 60
        read = bytes([0x28, 0, 0, 0, 0, 0, 0, 0, sectors, 0])
        assert transport.execute(read, data_in=sectors * 2048).ok
        with pytest.raises(TransportError, match="exceeds what the kernel queue accepts"):
            transport.execute(bytes([0x28, 0, 0, 0, 0, 0, 0, 0, 64, 0]), data_in=64 * 2048)


def test_a_lowered_cap_refuses_a_family_whose_chunk_no_longer_fits(
    gadget: MassStorageGadget,
) -> None:
    from types import SimpleNamespace

    from rescue.families import family_named
    from rescue.ops.pathcheck import check_path, largest_transfer
    from rescue.transport.sgio import SgioTransport

    assert gadget.sysfs_device is not None
    cap = Path(gadget.sysfs_device) / "max_sectors"
    cap.write_text("64\n")  # 32 KiB, as some bridges need
    try:
        identity = SimpleNamespace(vendor="TSSTcorp", product="DVD-ROM SH-D163C", revision="SB01")
        steps = family_named("tsst").flash_steps(bytes(0x100000), identity)
        with SgioTransport(sg_of(gadget)) as transport:
            assert largest_transfer(transport) == 32 * 1024
            with pytest.raises(Refused) as caught:
                check_path(transport, steps, "TSST")
        assert "carries at most 32 KiB" in caught.value.message
        assert "SATA or IDE port" in (caught.value.hint or "")
    finally:
        cap.write_text("240\n")


def test_a_re_enumerated_drive_is_found_again_by_its_bridge(gadget: MassStorageGadget) -> None:
    """Last in the module: the gadget comes back on a new SCSI host."""
    from rescue.discovery import discover
    from rescue.discovery.refind import find_again, remember

    before = next(d for d in discover().drives if d.sg == sg_of(gadget))
    key = remember(before)
    usb = Path(before.path.bridge.sysfs_path)
    devnum = (usb / "devnum").read_text()
    gadget.reconnect()
    found = find_again(key, timeout=60, poll=0.5)
    assert (usb / "devnum").read_text() != devnum, "enumerated again"
    # nothing held the old nodes open: the kernel may give back the same host and sg numbers
    assert found.matched_by == "USB bridge serial number"
    assert found.node == sg_of(gadget)
    assert found.drive.path is not None and found.drive.path.attachment == "usb-bot"
