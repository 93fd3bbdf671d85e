"""The images boot under BIOS and UEFI (Secure Boot on) and the tool sees the drives.

Each boot runs a script on the serial console through rescue.run: the drive
list as JSON, `rescue probe` on every drive (a real zero-length WRITE BUFFER,
which QEMU's ATAPI and SCSI CD-ROMs refuse with 5/20/00), and the state the image
promises for every optical drive (no media polling, no tray lock). The USB
image writes its report to the RESCUEDATA partition, which the host then
reads back with mtools, as a repair bench would.
"""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import pytest
from bootvm import (
    EMPTY_ATAPI,
    MARK,
    SCSI_PRODUCT,
    SCSI_REVISION,
    SCSI_VENDOR,
    GuestRun,
    run_guest,
    serial_args,
)

from iso import bootcfg, build, image

pytestmark = pytest.mark.vm

GUEST_SCRIPT = "; ".join(
    [
        f"echo {MARK}LIST",
        "rescue list --json",
        f"echo {MARK}PROBE",
        # A real zero-length WRITE BUFFER to each drive, explained by the booted tool.
        "for dev in /dev/sr*; do rescue probe $dev; echo RC $?; done",
        f"echo {MARK}MENU",
        # The guided mode of tty1, keys from a file (no quotes pass both boot loaders).
        "echo x > /tmp/keys; echo q >> /tmp/keys; rescue menu < /tmp/keys",
        f"echo {MARK}POLL",
        "cat /sys/block/sr*/events_poll_msecs",
        f"echo {MARK}SECUREBOOT",
        "dmesg | grep -i secure.boot | grep -v rescue.run",  # not the command line itself
        f"echo {MARK}END",
    ]
)


def drives(listing: object) -> list[dict]:
    assert isinstance(listing, dict), listing
    assert listing.get("source") == "udev", f"pyudev did not work in the image: {listing}"
    return listing["drives"]


def check_drive_list(listing: object) -> None:
    found = drives(listing)
    identities = {(d["vendor"], d["model"]) for d in found}
    assert (SCSI_VENDOR, SCSI_PRODUCT) in identities, found
    assert ("QEMU", "QEMU DVD-ROM") in identities, found
    scsi = next(d for d in found if d["vendor"] == SCSI_VENDOR)
    assert scsi["revision"] == SCSI_REVISION
    assert scsi["sr"] and scsi["sg"], "sr and sg nodes are both expected (sg is loaded at boot)"


def check_probes(text: str) -> None:
    """Both QEMU drives refuse WRITE BUFFER with 5/20/00, explained, exit code 9."""
    for identity in ("QEMU QEMU DVD-ROM", f"{SCSI_VENDOR} {SCSI_PRODUCT} {SCSI_REVISION}"):
        assert identity in text, f"no probe of {identity}:\n{text}"
        answer = text.split(identity, 1)[1].split("RC ", 1)
        assert "refused (5/20/00 INVALID COMMAND OPERATION CODE)" in answer[0], text
        assert "does not implement the command" in answer[0], text
        assert answer[1].startswith("9"), f"exit code of the probe:\n{text}"


def check_menu(text: str) -> None:
    assert "Optical drives: pick one" in text, text
    assert f"{SCSI_VENDOR} {SCSI_PRODUCT} {SCSI_REVISION}" in text, text
    assert "'x' is not on this screen" in text, text
    assert "Leaving the menu (quit)" in text, text


def check_common(run: GuestRun) -> None:
    check_drive_list(run.json_section("LIST"))
    check_probes(run.section("PROBE"))
    check_menu(run.section("MENU"))
    polls = run.section("POLL").split()
    assert polls and all(value == "0" for value in polls), polls


def test_iso_is_under_the_size_target(boot_files: build.BootFiles, tmp_path: Path) -> None:
    iso = build.make_iso(boot_files, tmp_path / "rescue.iso", tmp_path, [])
    size = iso.stat().st_size
    assert size < image.SIZE_TARGET, f"ISO is {size / 1e6:.2f} MB, target {image.SIZE_TARGET}"


def test_iso_boots_under_bios(boot_files: build.BootFiles, tmp_path: Path) -> None:
    iso = build.make_iso(boot_files, tmp_path / "t.iso", tmp_path, serial_args(GUEST_SCRIPT))
    run = run_guest(["-cdrom", str(iso)], "bios", tmp_path)
    check_common(run)
    print(f"BIOS boot: tool ready at {run.uptime('tool ready')} s (guest uptime)")


def test_iso_boots_under_uefi_with_secure_boot(boot_files: build.BootFiles, tmp_path: Path) -> None:
    iso = build.make_iso(boot_files, tmp_path / "t.iso", tmp_path, serial_args(GUEST_SCRIPT))
    run = run_guest(["-cdrom", str(iso)], "uefi", tmp_path)
    check_common(run)
    assert "secure boot enabled" in run.section("SECUREBOOT").lower(), run.section("SECUREBOOT")
    print(f"UEFI boot: tool ready at {run.uptime('tool ready')} s (guest uptime)")


def test_pxe_files_boot_without_the_iso_boot_options(
    boot_files: build.BootFiles, tmp_path: Path
) -> None:
    """What a PXE server hands out, booted as it would be: no block.events_dfl_poll_msecs=0."""
    pxe = build.make_pxe(boot_files, tmp_path / "pxe")
    append = " ".join(bootcfg.isolinux_arg(a) for a in serial_args(GUEST_SCRIPT))
    media = ["-kernel", str(pxe / "vmlinuz"), "-initrd", str(pxe / "initrd.img"), "-append", append]
    media += EMPTY_ATAPI
    check_common(run_guest(media, "bios", tmp_path))


def data_partition_offset(disk: Path) -> int:
    """Byte offset of MBR partition 3 (RESCUEDATA), from the partition table itself."""
    with disk.open("rb") as fh:
        mbr = fh.read(512)
    assert mbr[510:512] == b"\x55\xaa", "no MBR signature"
    entry = mbr[446 + 2 * 16 : 446 + 3 * 16]
    assert entry[4] == 0x0C, f"partition 3 has type {entry[4]:#x}, expected FAT32 LBA"
    (start_lba,) = struct.unpack_from("<I", entry, 8)
    return start_lba * 512


@pytest.mark.parametrize("firmware", ["bios", "uefi"])
def test_usb_image_writes_its_report_to_the_stick(
    boot_files: build.BootFiles, tmp_path: Path, firmware: str
) -> None:
    script = "rescue list --json > /data/reports/inventory.json; echo === RC $?; sync"
    disk = build.make_usb(boot_files, tmp_path / "usb.img", tmp_path, serial_args(script), 32)
    media = [
        "-device", "qemu-xhci",
        "-drive", f"if=none,id=stick,format=raw,file={disk}",
        "-device", "usb-storage,drive=stick,bootindex=0",
        *EMPTY_ATAPI,
    ]  # fmt: skip
    run = run_guest(media, firmware, tmp_path)
    assert "=== RC 0" in run.log, run.log[-3000:]
    image_arg = f"{disk}@@{data_partition_offset(disk)}"
    label = subprocess.run(["mlabel", "-s", "-i", image_arg, "::"], capture_output=True, text=True)
    assert image.DATA_LABEL in label.stdout, label
    report = subprocess.run(
        ["mtype", "-i", image_arg, "::/reports/inventory.json"], capture_output=True, text=True
    )
    assert report.returncode == 0, f"no report on the stick: {report.stderr}"
    check_drive_list(json.loads(report.stdout))
