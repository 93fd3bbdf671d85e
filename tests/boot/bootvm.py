"""Boot the real images in QEMU: a guest runner with a hard timeout, serial log parsing.

Why TCG explicitly: on the build hosts /dev/kvm is nested and Debian's kernel
hangs under it, and QEMU does not fall back by itself (docs/testbed.md).
A guest script ends with `poweroff -f`, so QEMU exits by itself; a guest that
does not finish in time fails the test with the tail of its serial log.
"""

from __future__ import annotations

import json
import shutil
import socket
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

# A hang guard, not a speed check: a loaded 2-core host took 205 s for a full boot script.
BOOT_TIMEOUT_S = 360
OVMF_DIR = Path("/usr/share/OVMF")
# The script's output goes over the serial line between these markers.
MARK = "=== "
SCSI_VENDOR = "PLDS"
SCSI_PRODUCT = "DVD-RW DS8A8SH"
SCSI_REVISION = "KU51"
DISC_BYTES = 1 << 20


def scsi_cd(tmp: Path) -> list[str]:
    """The guest's second optical drive: a SCSI CD on virtio-scsi, identity of our choosing.

    The first is QEMU's ATAPI drive (the boot CD, or empty). This one holds a
    blank data disc because QEMU's scsi-cd answers NOT READY, not the command
    itself, to anything it does not serve without a medium (WRITE BUFFER among
    them; hw/scsi/scsi-disk.c), while a real drive judges the opcode first.
    """
    disc = tmp / "disc.iso"
    disc.write_bytes(bytes(DISC_BYTES))
    return [
        "-device", "virtio-scsi-pci,id=vscsi",
        "-drive", f"if=none,id=disc,media=cdrom,format=raw,readonly=on,file={disc}",
        "-device", f"scsi-cd,bus=vscsi.0,drive=disc,vendor={SCSI_VENDOR},"
                   f"product={SCSI_PRODUCT},ver={SCSI_REVISION},serial=RESCUE0001",
    ]  # fmt: skip


# QEMU's ATAPI drive, empty, for boots that do not come from the CD.
EMPTY_ATAPI = ["-drive", "if=ide,media=cdrom"]


def usb_media(disk: Path) -> list[str]:
    """DISK as a USB stick (xHCI, first boot device), plus the empty ATAPI drive."""
    return [
        "-device", "qemu-xhci",
        "-drive", f"if=none,id=stick,format=raw,file={disk}",
        "-device", "usb-storage,drive=stick,bootindex=0",
        *EMPTY_ATAPI,
    ]  # fmt: skip


def data_partition_offset(disk: Path) -> int:
    """Byte offset of MBR partition 3 (RESCUEDATA), from the partition table itself."""
    with disk.open("rb") as fh:
        mbr = fh.read(512)
    assert mbr[510:512] == b"\x55\xaa", "no MBR signature"
    entry = mbr[446 + 2 * 16 : 446 + 3 * 16]
    assert entry[4] == 0x0C, f"partition 3 has type {entry[4]:#x}, expected FAT32 LBA"
    (start_lba,) = struct.unpack_from("<I", entry, 8)
    return start_lba * 512


def serial_args(script: str) -> list[str]:
    """Kernel arguments that run SCRIPT on the serial console, then power off."""
    return [
        "console=ttyS0,115200",
        "rescue.tty=ttyS0",
        f"rescue.run={script}; poweroff -f",
    ]


# The firmwares a stick meets: SeaBIOS, OVMF without Secure Boot (no keys enrolled,
# the UEFI a repair PC with Secure Boot switched off has), and OVMF with
# Microsoft's keys enrolled and Secure Boot on, the shipped default of most PCs.
FIRMWARES = ("bios", "uefi", "secure boot")


def firmware_args(firmware: str, tmp: Path) -> list[str]:
    """QEMU machine and firmware for one of FIRMWARES (OVMF's pflash pair on q35)."""
    if firmware == "bios":
        return ["-machine", "pc"]
    secure = firmware == "secure boot"
    code, template = ("OVMF_CODE_4M.ms.fd", "OVMF_VARS_4M.ms.fd") if secure else (
        "OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd")  # fmt: skip
    variables = tmp / "OVMF_VARS.fd"
    shutil.copyfile(OVMF_DIR / template, variables)  # the guest may write its variables
    machine = ["-machine", "q35,smm=on", "-global", "driver=cfi.pflash01,property=secure,value=on"]
    return [
        *(machine if secure else ["-machine", "q35"]),
        "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_DIR / code}",
        "-drive", f"if=pflash,format=raw,unit=1,file={variables}",
    ]  # fmt: skip


@dataclass(frozen=True)
class GuestRun:
    log: str  # the serial console, carriage returns removed

    def section(self, name: str) -> str:
        """Text the script printed between `=== NAME` and the next marker."""
        start = self.log.find(f"{MARK}{name}\n")
        assert start >= 0, f"marker {name!r} missing; serial log tail:\n{self.log[-3000:]}"
        body = self.log[start + len(MARK) + len(name) + 1 :]
        return body[: body.find(MARK)] if MARK in body else body

    def json_section(self, name: str) -> object:
        text = self.section(name)
        try:
            return json.loads(text[text.index("{") :].strip())
        except ValueError as err:
            raise AssertionError(f"section {name} is not JSON ({err}):\n{text}") from None

    def uptime(self, what: str) -> float:
        """The /proc/uptime value the image logged for WHAT (e.g. 'tool ready')."""
        for line in self.log.splitlines():
            if f"rescue: {what} at " in line:
                return float(line.split(f"{what} at ")[1].split()[0])
        raise AssertionError(f"no '{what}' line in the serial log")


@dataclass(frozen=True)
class Press:
    """What the operator does once the serial log shows WHEN: an HMP monitor command,
    e.g. `system_powerdown` (the ACPI power button) or `sendkey ctrl-alt-delete`."""

    when: str
    command: str


def _log_text(log: Path) -> str:
    return log.read_text(errors="replace") if log.exists() else ""


def _press(proc: subprocess.Popen, log: Path, monitor: Path, press: Press, deadline: float) -> None:
    while press.when not in _log_text(log).replace("\r", ""):
        if proc.poll() is not None or time.monotonic() > deadline:
            return  # the caller reports the log
        time.sleep(0.5)
    time.sleep(1)  # let the shell settle at its prompt
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(monitor))
        sock.sendall(f"{press.command}\n".encode())
        time.sleep(1)


def run_guest(media: list[str], firmware: str, tmp: Path, press: Press | None = None) -> GuestRun:
    """Boot until the guest powers off (or reboots: -no-reboot ends QEMU then too)."""
    log = tmp / "serial.log"
    monitor = tmp / "monitor.sock"
    cmd = [
        "qemu-system-x86_64", "-accel", "tcg", "-m", "1024", "-smp", "1",
        "-nodefaults", "-display", "none", "-no-reboot", "-net", "none",
        "-serial", f"file:{log}",
        "-monitor", f"unix:{monitor},server=on,wait=off",
        *firmware_args(firmware, tmp), *media, *scsi_cd(tmp),
    ]  # fmt: skip
    deadline = time.monotonic() + BOOT_TIMEOUT_S
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if press is not None:
            _press(proc, log, monitor, press, deadline)
        _, stderr = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        tail = _log_text(log)[-4000:] or "(no output)"
        pytest.fail(f"guest did not power off within {BOOT_TIMEOUT_S} s; serial log:\n{tail}")
    text = _log_text(log).replace("\r", "")
    assert proc.returncode == 0, f"qemu failed: {stderr}\nserial log:\n{text[-3000:]}"
    return GuestRun(text)
