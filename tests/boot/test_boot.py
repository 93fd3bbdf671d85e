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
    data_partition_offset,
    run_guest,
    serial_args,
    usb_media,
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
    # ISOLINUX's hint reaches the serial line, not just the screen.
    boot_prompt = run.log[: run.log.find("Loading /boot/vmlinuz")]
    assert "type 'serial' and Enter" in boot_prompt, boot_prompt[-2000:]
    print(f"BIOS boot: tool started at {run.uptime('starting the tool')} s (guest uptime)")


def test_iso_boots_under_uefi_with_secure_boot(boot_files: build.BootFiles, tmp_path: Path) -> None:
    iso = build.make_iso(boot_files, tmp_path / "t.iso", tmp_path, serial_args(GUEST_SCRIPT))
    run = run_guest(["-cdrom", str(iso)], "uefi", tmp_path)
    check_common(run)
    assert "secure boot enabled" in run.section("SECUREBOOT").lower(), run.section("SECUREBOOT")
    # GRUB's menu reaches the serial line once (through the firmware's console), not twice.
    title = bootcfg.entries([])[1].title
    assert run.log.count(title) == 1, f"{title!r} drawn {run.log.count(title)} times"
    print(f"UEFI boot: tool started at {run.uptime('starting the tool')} s (guest uptime)")


def test_pxe_files_boot_without_the_iso_boot_options(
    boot_files: build.BootFiles, tmp_path: Path
) -> None:
    """What a PXE server hands out, booted as it would be: no block.events_dfl_poll_msecs=0."""
    pxe = build.make_pxe(boot_files, tmp_path / "pxe")
    append = " ".join(bootcfg.isolinux_arg(a) for a in serial_args(GUEST_SCRIPT))
    media = ["-kernel", str(pxe / "vmlinuz"), "-initrd", str(pxe / "initrd.img"), "-append", append]
    media += EMPTY_ATAPI
    check_common(run_guest(media, "bios", tmp_path))


@pytest.mark.parametrize("firmware", ["bios", "uefi"])
def test_usb_image_writes_its_report_to_the_stick(
    boot_files: build.BootFiles, tmp_path: Path, firmware: str
) -> None:
    script = "rescue list --json > /data/reports/inventory.json; echo === RC $?; sync"
    args = serial_args(script)
    disk = build.make_usb(boot_files, tmp_path / "usb.img", tmp_path, args, build.DATA_MIB)
    run = run_guest(usb_media(disk), firmware, tmp_path)
    assert "=== RC 0" in run.log, run.log[-3000:]
    image_arg = f"{disk}@@{data_partition_offset(disk)}"
    label = subprocess.run(["mlabel", "-s", "-i", image_arg, "::"], capture_output=True, text=True)
    assert image.DATA_LABEL in label.stdout, label
    report = subprocess.run(
        ["mtype", "-i", image_arg, "::/reports/inventory.json"], capture_output=True, text=True
    )
    assert report.returncode == 0, f"no report on the stick: {report.stderr}"
    check_drive_list(json.loads(report.stdout))
