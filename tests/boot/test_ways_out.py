"""The stick's data partition is left clean on every way out of a booted session.

FAT marks itself dirty while mounted read-write (byte 65 of a FAT32 boot
sector) and only an unmount or a read-only remount clears the mark. Each boot
writes a drive list and a 300 KiB file to RESCUEDATA, then runs the menu's
doctor on drive 1 (its report and HTML page are the last files written),
keeps the partition busy (the shell's folder, or a program left running in
it), then leaves one way: the menu quit and `poweroff`, `poweroff -f` (what
the boot tests' scripts use), `reboot`, Ctrl-Alt-Del on the keyboard, or the
ACPI power button. Every way runs under SeaBIOS, UEFI (OVMF, Secure Boot
off) and UEFI with Secure Boot on; the guest says which it booted. The host
then reads the partition back: boot sector clean, every file whole (its
sha256 as the guest printed it, the doctor report valid JSON), no temporary
file left behind.

The two key presses wait for the serial shell's prompt, which also shows what
that console tells the user, and that no control sequence (ESC[6n) is sent
to the serial line at the prompt.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest
from bootvm import (
    FIRMWARES,
    MARK,
    GuestRun,
    Press,
    data_partition_offset,
    run_guest,
    serial_args,
    usb_media,
)

from iso import build

pytestmark = pytest.mark.vm

# Written on the stick, hashed in the guest, then the partition kept busy. The last
# write is the menu's own: drive 1, doctor (its report and page), then the input ends.
WRITE = "; ".join(
    [
        f"echo {MARK}FIRMWARE; [ -d /sys/firmware/efi ] && echo EFI",
        "dmesg | grep -i secure.boot | grep -v rescue.run",
        "cd /data/reports",
        "rescue list --json > inventory.json",
        "dd if=/dev/urandom of=blob.bin bs=1024 count=300 2>/dev/null",
        "echo 1 > /tmp/keys; echo 2 >> /tmp/keys; rescue menu < /tmp/keys > /tmp/menu.txt 2>&1",
        f"echo {MARK}SUMS",
        "sha256sum *",
        f"echo {MARK}WRITTEN",
    ]
)
BUSY = "(cd /data/reports; exec sleep 600) &"  # outlives the script, folder on /data
PROMPT = "rescue# "

# way -> (script after WRITE, what the operator does)
WAYS: dict[str, tuple[str, Press | None]] = {
    "menu quit, poweroff": ("echo q | rescue menu; poweroff", None),
    "poweroff -f": ("poweroff -f", None),
    "reboot": ("reboot", None),
    "ctrl-alt-del": (BUSY, Press(f"\n{PROMPT}", "sendkey ctrl-alt-delete")),
    "power button": (BUSY, Press(f"\n{PROMPT}", "system_powerdown")),
}


def read_back(disk: Path, name: str) -> bytes:
    image_arg = f"{disk}@@{data_partition_offset(disk)}"
    done = subprocess.run(["mtype", "-i", image_arg, f"::/reports/{name}"], capture_output=True)
    assert done.returncode == 0, f"{name} is not on the stick: {done.stderr.decode()}"
    return done.stdout


def check_clean(disk: Path) -> None:
    offset = data_partition_offset(disk)
    with disk.open("rb") as fh:
        fh.seek(offset)
        boot = fh.read(512)
    assert boot[82:90] == b"FAT32   ", boot[82:90]
    assert boot[65] & 1 == 0, "RESCUEDATA is marked dirty: it was not unmounted"
    listing = subprocess.run(
        ["mdir", "-b", "-i", f"{disk}@@{offset}", "::/reports"], capture_output=True, text=True
    ).stdout
    for temporary in (".part", ".tmp"):  # rescue.durable's and rescue.outputs' temporaries
        assert temporary not in listing, listing


def check_firmware(run: GuestRun, firmware: str) -> None:
    """The boot went through the firmware the test names (OVMF's Secure Boot state as the
    kernel read it), so a pass under one is never a BIOS boot in disguise."""
    text = run.section("FIRMWARE").lower()
    assert ("efi" in text.split()) == (firmware != "bios"), text
    if firmware != "bios":
        state = "enabled" if firmware == "secure boot" else "disabled"
        assert f"secure boot {state}" in text, text


@pytest.mark.parametrize("firmware", FIRMWARES)
@pytest.mark.parametrize("way", list(WAYS))
def test_the_data_partition_is_clean_after(
    boot_files: build.BootFiles, tmp_path: Path, way: str, firmware: str
) -> None:
    then, press = WAYS[way]
    args = serial_args(f"{WRITE}; {then}")
    args[-1] = args[-1].removesuffix("; poweroff -f")  # each way ends the session itself
    disk = build.make_usb(boot_files, tmp_path / "usb.img", tmp_path, args, build.DATA_MIB)
    run = run_guest(usb_media(disk), firmware, tmp_path, press)
    assert f"{MARK}WRITTEN" in run.log, run.log[-3000:]
    check_firmware(run, firmware)
    sums = dict(reversed(line.split()) for line in run.section("SUMS").splitlines() if line.strip())
    doctor = [name for name in sums if name.startswith("doctor-")]
    assert sorted(name.rsplit(".", 1)[1] for name in doctor) == ["html", "json"], sums
    check_clean(disk)
    for name, digest in sums.items():
        assert hashlib.sha256(read_back(disk, name)).hexdigest() == digest, name
    report = json.loads(read_back(disk, next(n for n in doctor if n.endswith(".json"))))
    assert report["kind"] == "doctor", report
    assert "Volume was not properly unmounted" not in run.log
    assert "rescue: data partition" in run.log, run.log[-2000:]  # unmounted or made read-only
    if press is not None:
        prompt = run.log[run.log.find(f"{MARK}WRITTEN") :]
        assert "'poweroff' ends the session safely" in prompt, prompt[-2000:]
        assert "\x1b[6n" not in prompt, "the serial shell asks the terminal for its cursor"
    print(f"{firmware}, {way}: {re.findall(r'rescue: data partition [a-z -]+', run.log)}")


def test_the_data_partition_mounts_without_warnings(
    boot_files: build.BootFiles, tmp_path: Path
) -> None:
    script = "dmesg | grep -v Command.line | grep -i fat; grep /data /proc/mounts"
    args = serial_args(f"echo {MARK}MOUNT; {script}; echo {MARK}END")
    disk = build.make_usb(boot_files, tmp_path / "usb.img", tmp_path, args, build.DATA_MIB)
    run = run_guest(usb_media(disk), "bios", tmp_path)
    text = run.section("MOUNT")
    assert " /data vfat " in text, text
    assert "utf8" in text and "iocharset=utf8" not in text, text
    assert "iocharset=iso8859-1" in text, text
    for warning in ("not a recommended IO charset", "not properly unmounted", "FAT-fs"):
        assert warning not in text, text
