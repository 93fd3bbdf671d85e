"""The images boot under BIOS and UEFI (Secure Boot on) and the tool sees the drives.

Each boot runs a script on the serial console through rescue.run: the drive
list as JSON, `rescue probe` on every drive (a real zero-length WRITE BUFFER,
which QEMU's ATAPI and SCSI CD-ROMs refuse with 5/20/00), a short scan of the
SCSI CD, and the state the image
promises for every optical drive (no media polling, no tray lock). The USB
image writes its report to the RESCUEDATA partition, which the host then
reads back with mtools, as a repair bench would.
"""

from __future__ import annotations

import json
import re
import shutil
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
from rescue import __version__
from rescue.discovery import udev, udevdb

pytestmark = pytest.mark.vm

# The menu's kernel log line (the logged command line, which names it too, left out).
KMSG_READY = "dmesg | grep -v rescue.run | grep tool.ready"
GUEST_SCRIPT = "; ".join(
    [
        f"echo {MARK}LIST",
        "rescue list --json",
        # The entries the image's udevd wrote for each sr node, which a command on a node named
        # by the user reads instead of asking pyudev (rescue.discovery.udevdb).
        f"echo {MARK}UDEVDB",
        "for b in /sys/block/sr*; do echo NODE /dev/${b##*/};"
        " cat /run/udev/data/b$(cat $b/dev); done",
        f"echo {MARK}PROBE",
        # A real zero-length WRITE BUFFER to each drive, explained by the booted tool.
        "for dev in /dev/sr*; do rescue probe $dev; echo RC $?; done",
        # A short scan of the SCSI CD's disc: reads through the frozen tool, and its report
        # written through tempfile (whose shutil carries on without bz2 and lzma).
        f"echo {MARK}SCAN",
        f"rescue scan /dev/$(grep -l {SCSI_VENDOR} /sys/block/sr*/device/vendor | cut -d/ -f4)"
        " --end 32 --reports /tmp/reports; echo RC $?",
        # The guided mode of tty1, its keys through a FIFO held open (no quotes pass both
        # boot loaders): what it has printed when its "tool ready" reaches the kernel
        # log, then, after 'x' and 'q', all of it.
        "mkfifo /tmp/keys; rescue menu < /tmp/keys > /tmp/menu.txt 2>&1 & exec 3> /tmp/keys",
        f"n=0; until {KMSG_READY} > /dev/null || [ $n -ge 900 ]; do sleep 0.2; n=$((n+1)); done",
        f"echo {MARK}READY; cat /tmp/menu.txt",
        "echo x >&3; echo q >&3; exec 3>&-; wait",
        f"echo {MARK}MENU; cat /tmp/menu.txt",
        f"echo {MARK}KMSG; {KMSG_READY}",
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


def check_udev_entries(text: str, listing: object) -> None:
    """Each drive's udev database entry, as the image's udevd wrote it and
    ``rescue.discovery.udevdb`` reads it, gives the facts pyudev's walk gave `rescue list`:
    a CD drive's tag, the disc and the capabilities."""
    entries = {}
    for chunk in text.split("NODE ")[1:]:
        node, _, body = chunk.partition("\n")
        entries[node.strip()] = udevdb.properties(body.encode())
    listed = [d for d in drives(listing) if d["sr"]]
    assert listed and sorted(entries) == sorted(d["sr"] for d in listed), (entries, listed)
    for drive in listed:
        props = entries[drive["sr"]]
        assert udev.is_cd(props), (drive["sr"], props)
        media = udev.media(props)
        assert (media.to_dict() if media else None) == drive["media"], (props, drive)
        assert list(udev.capabilities(props)) == drive["capabilities"], (props, drive)


def check_probes(text: str) -> None:
    """Both QEMU drives refuse WRITE BUFFER with 5/20/00, explained, exit code 9."""
    for identity in ("QEMU QEMU DVD-ROM", f"{SCSI_VENDOR} {SCSI_PRODUCT} {SCSI_REVISION}"):
        assert identity in text, f"no probe of {identity}:\n{text}"
        answer = text.split(identity, 1)[1].split("RC ", 1)
        assert "refused (5/20/00 INVALID COMMAND OPERATION CODE)" in answer[0], text
        assert "does not implement the command" in answer[0], text
        assert answer[1].startswith("9"), f"exit code of the probe:\n{text}"


def check_scan(text: str) -> None:
    """32 sectors of the SCSI CD's blank disc read, the report written, exit code 0."""
    assert "Scan of LBAs 0..31 complete; 32 sectors read this run." in text, text
    assert "every sector read" in text, text
    assert re.search(r"report: /tmp/reports/scan-\S+\.json\nRC 0\n", text), text


def check_first_screen(text: str) -> None:
    """The drive list with both drives and, since there are two, the bench over them."""
    assert "Optical drives: pick one" in text, text
    assert f"{SCSI_VENDOR} {SCSI_PRODUCT} {SCSI_REVISION}" in text, text
    assert "QEMU DVD-ROM" in text, text
    assert re.search(r"3\) bench: all drives at once", text), text
    assert "q) quit to shell" in text, text


def check_menu(run: GuestRun) -> None:
    # "tool ready" reached the kernel log only once the whole first screen was out.
    check_first_screen(run.section("READY"))
    assert re.search(r"tool ready at \d+\.\d+ s", run.section("KMSG")), run.section("KMSG")
    text = run.section("MENU")
    check_first_screen(text)
    assert "'x' is not on this screen" in text, text
    assert "Leaving the menu (quit)" in text, text


def check_common(run: GuestRun) -> None:
    check_drive_list(run.json_section("LIST"))
    check_udev_entries(run.section("UDEVDB"), run.json_section("LIST"))
    check_probes(run.section("PROBE"))
    check_scan(run.section("SCAN"))
    check_menu(run)
    polls = run.section("POLL").split()
    assert polls and all(value == "0" for value in polls), polls


def test_iso_is_under_the_size_target(boot_files: build.BootFiles, tmp_path: Path) -> None:
    iso = build.make_iso(boot_files, tmp_path / "rescue.iso", tmp_path, [])
    size = iso.stat().st_size
    assert size < image.SIZE_TARGET, f"ISO is {size / 1e6:.2f} MB, target {image.SIZE_TARGET}"


# What PyInstaller's left-out run-time hooks imported at every start
# (build/freeze.py RUNTIME_HOOKS_LEFT_OUT), as the frozen tree names them.
NOT_AT_START = ("inspect.pyc", "pkgutil.pyc", "multiprocessing")


def test_the_frozen_tool_starts_without_what_the_left_out_hooks_imported(
    boot_files: build.BootFiles, tmp_path: Path
) -> None:
    """The image's own frozen tool, run on the build host from a copy without those
    modules: a hook still in the start, or a command that needs one, stops it there."""
    app = tmp_path / "rescue"
    shutil.copytree(boot_files.initrd.parent / "rootfs" / "usr" / "lib" / "rescue", app)
    for name in NOT_AT_START:
        gone = app / "_internal" / name
        shutil.rmtree(gone) if gone.is_dir() else gone.unlink()

    def run(*args: str) -> str:
        done = subprocess.run([app / "rescue", *args], capture_output=True, text=True)
        assert done.returncode == 0, f"rescue {' '.join(args)}: {done.stderr[-2000:]}"
        return done.stdout

    assert run("--version").strip() == f"rescue {__version__}"
    assert "drives" in json.loads(run("list", "--json"))
    scan = run("scan", "emu:generic-dvd", "--end", "32", "--reports", str(tmp_path / "reports"))
    assert "every sector read" in scan, scan


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
    run = run_guest(["-cdrom", str(iso)], "secure boot", tmp_path)
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


@pytest.mark.parametrize("firmware", ["bios", "secure boot"])
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
