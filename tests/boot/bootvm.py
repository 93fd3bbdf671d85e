"""Boot the real images in QEMU: a guest runner with a hard timeout, serial log parsing.

Why TCG explicitly: on the build hosts /dev/kvm is nested and Debian's kernel
hangs under it, and QEMU does not fall back by itself (TESTBED.md).
A guest script ends with `poweroff -f`, so QEMU exits by itself; a guest that
does not finish in time fails the test with the tail of its serial log.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

BOOT_TIMEOUT_S = 240
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


def serial_args(script: str) -> list[str]:
    """Kernel arguments that run SCRIPT on the serial console, then power off."""
    return [
        "console=ttyS0,115200",
        "rescue.tty=ttyS0",
        f"rescue.run={script}; poweroff -f",
    ]


def firmware_args(firmware: str, tmp: Path) -> list[str]:
    """QEMU machine and firmware: SeaBIOS on i440fx, or OVMF with Secure Boot on q35."""
    if firmware == "bios":
        return ["-machine", "pc"]
    variables = tmp / "OVMF_VARS.fd"
    shutil.copyfile(OVMF_DIR / "OVMF_VARS_4M.ms.fd", variables)  # Microsoft keys enrolled
    return [
        "-machine", "q35,smm=on",
        "-global", "driver=cfi.pflash01,property=secure,value=on",
        "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_DIR / 'OVMF_CODE_4M.ms.fd'}",
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


def run_guest(media: list[str], firmware: str, tmp: Path) -> GuestRun:
    log = tmp / "serial.log"
    cmd = [
        "qemu-system-x86_64", "-accel", "tcg", "-m", "1024", "-smp", "1",
        "-nodefaults", "-display", "none", "-no-reboot", "-net", "none",
        "-serial", f"file:{log}",
        *firmware_args(firmware, tmp), *media, *scsi_cd(tmp),
    ]  # fmt: skip
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=BOOT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        tail = log.read_text(errors="replace")[-4000:] if log.exists() else "(no output)"
        pytest.fail(f"guest did not power off within {BOOT_TIMEOUT_S} s; serial log:\n{tail}")
    text = log.read_text(errors="replace").replace("\r", "")
    assert done.returncode == 0, f"qemu failed: {done.stderr}\nserial log:\n{text[-3000:]}"
    return GuestRun(text)
