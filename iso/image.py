"""Bootable outputs: the hybrid ISO, the USB disk image with a data partition, PXE files.

The ISO (TESTBED.md, "The bootable image"): BIOS boots isolinux through El
Torito and, written to a stick, through the isohybrid MBR; UEFI boots a FAT
image holding Debian's signed shim as EFI/BOOT/BOOTX64.EFI and Debian's
signed GRUB as grubx64.efi next to it, so Secure Boot machines accept it.
That FAT image is appended after the ISO 9660 data as MBR partition 2 of type
0xEF, the EFI System Partition type (UEFI 2.x, 5.2.2: firmware boots a
removable disk from its ESP), and the El Torito EFI entry points at the same
blocks (xorrisofs(1), -append_partition and --interval:appended_partition_N),
so a CD and a stick boot the one copy. Why no GPT: -isohybrid-gpt-basdat
would mark that partition "Basic Data" in a GPT that overlaps the ISO, and a
GPT-only layout (-appended_part_as_gpt) leaves the MBR a single protective
0xEE entry, which old BIOSes refuse to boot. That GRUB finds the ISO by /.disk/info and
reads /boot/grub/grub.cfg. A self-made grub-mkimage binary would be refused
under Secure Boot, and grub-mkrescue is not reproducible.

Reproducibility: one epoch (SOURCE_DATE_EPOCH) for every file time, mtools
and xorriso honour SOURCE_DATE_EPOCH for the times and the GPT/volume ids
they would otherwise draw at random, and FAT serials are fixed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from iso import bootcfg

ISOLINUX_FILES = ["/usr/lib/ISOLINUX/isolinux.bin", "/usr/lib/syslinux/modules/bios/ldlinux.c32"]
ISOHYBRID_MBR = "/usr/lib/ISOLINUX/isohdpfx.bin"
EFI_FILES = {
    "BOOTX64.EFI": "/usr/lib/shim/shimx64.efi.signed",
    "grubx64.efi": "/usr/lib/grub/x86_64-efi-signed/gcdx64.efi.signed",
    "mmx64.efi": "/usr/lib/shim/mmx64.efi.signed",  # MokManager, which shim may call
}
VOLUME_ID = "RESCUE"
EFI_SERIAL = "52455343"  # "RESC": a fixed FAT serial keeps the image reproducible
DATA_SERIAL = "52455344"
DATA_LABEL = "RESCUEDATA"
DATA_FOLDERS = ["firmware", "reports"]
MIB = 1 << 20
# The ISO must stay under 30 MB (issue 5): small enough for any stick or CD-R, quick
# to download on a bad line. Checked by the boot tests and shown by `make bench`.
SIZE_TARGET = 30_000_000
# MBR partitions of the hybrid image (1 is the ISO 9660 data, from the isohybrid MBR).
EFI_PARTITION = 2
DATA_PARTITION = 3
ESP_TYPE = 0xEF  # EFI System Partition
FAT32_LBA_TYPE = 0x0C
# Room in the EFI FAT beyond its files: the FAT tables, directories and a part-used
# cluster per file take a few KiB; a quarter MiB leaves a wide margin.
EFI_SLACK = 256 * 1024


class ImageError(Exception):
    """A tool that writes an image failed; the message carries its last words."""


def run(cmd: list[str], epoch: int, cwd: Path | None = None) -> None:
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(epoch), TZ="UTC", MTOOLS_SKIP_CHECK="1")
    try:
        done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise ImageError(f"`{cmd[0]}` is not installed (see build/apt-packages.txt)") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise ImageError(f"`{' '.join(cmd[:3])} ...` failed: {last}")


def fat_image(out: Path, size: int, label: str, serial: str, epoch: int) -> None:
    """An empty FAT file system of SIZE bytes (a whole number of MiB)."""
    out.unlink(missing_ok=True)
    with out.open("wb") as fh:
        fh.truncate(size)
    run(["mformat", "-i", str(out), "-N", serial, "-v", label, "::"], epoch)


def fat_put(image: Path, files: dict[str, Path], epoch: int) -> None:
    """Copy FILES (image path -> host file) into IMAGE, creating folders, times fixed."""
    parents = {str(parent) for name in files for parent in Path(name).parents}
    for folder in sorted(parents - {"."}):  # a parent sorts before its children
        run(["mmd", "-i", str(image), f"::/{folder}"], epoch)
    for target, source in sorted(files.items()):
        os.utime(source, (epoch, epoch))
        run(["mcopy", "-m", "-i", str(image), str(source), f"::/{target}"], epoch)


def efi_image(out: Path, staging: Path, epoch: int) -> None:
    """The UEFI boot FAT: shim, signed GRUB and MokManager in EFI/BOOT."""
    staging.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for name, source in EFI_FILES.items():
        copy = staging / name
        shutil.copyfile(source, copy)
        files[f"EFI/BOOT/{name}"] = copy
    payload = sum(p.stat().st_size for p in files.values()) + EFI_SLACK
    size = -(-payload // MIB) * MIB  # whole MiB, rounded up: every MiB is paid for in the ISO
    fat_image(out, size, "EFIBOOT", EFI_SERIAL, epoch)
    fat_put(out, files, epoch)


def data_image(out: Path, size_mib: int, epoch: int) -> None:
    """The RESCUEDATA partition of the USB image: empty firmware/ and reports/ folders."""
    fat_image(out, size_mib * MIB, DATA_LABEL, DATA_SERIAL, epoch)
    for folder in DATA_FOLDERS:
        run(["mmd", "-i", str(out), f"::/{folder}"], epoch)


def iso_tree(tree: Path, vmlinuz: Path, initrd: Path, extra_args: list[str], label: str) -> None:
    """Lay out the ISO file tree (the EFI image goes in as a partition, not a file)."""
    (tree / "boot/grub").mkdir(parents=True)
    (tree / "isolinux").mkdir()
    (tree / ".disk").mkdir()
    shutil.copyfile(vmlinuz, tree / "boot/vmlinuz")
    shutil.copyfile(initrd, tree / "boot/initrd.img")
    for source in ISOLINUX_FILES:
        shutil.copyfile(source, tree / "isolinux" / Path(source).name)
    (tree / "isolinux/isolinux.cfg").write_text(bootcfg.isolinux_cfg(extra_args))
    (tree / "boot/grub/grub.cfg").write_text(bootcfg.grub_cfg(extra_args))
    (tree / ".disk/info").write_text(f"{label}\n")  # how the signed GRUB finds this disc


def xorriso_iso(tree: Path, efi: Path, out: Path, epoch: int, append: Path | None = None) -> None:
    """Master TREE as a hybrid ISO at OUT, EFI (the boot FAT) as its ESP, partition 2.

    APPEND: a FAT image added after that as partition 3 (the USB image's RESCUEDATA).
    """
    for path in [tree, *tree.rglob("*")]:
        os.utime(path, (epoch, epoch), follow_symlinks=False)
    out.unlink(missing_ok=True)
    cmd = [
        "xorriso",
        "-as",
        "mkisofs",
        "-o",
        str(out),
        "-iso-level",
        "3",
        "-full-iso9660-filenames",
        "-volid",
        VOLUME_ID,
        "-J",
        "-joliet-long",
        "-r",
        "-isohybrid-mbr",
        ISOHYBRID_MBR,
        "-b",
        "isolinux/isolinux.bin",
        "-c",
        "isolinux/boot.cat",
        "-no-emul-boot",
        "-boot-load-size",
        "4",
        "-boot-info-table",
        "-eltorito-alt-boot",
        "-e",
        f"--interval:appended_partition_{EFI_PARTITION}:all::",
        "-no-emul-boot",
        "-append_partition",
        str(EFI_PARTITION),
        f"{ESP_TYPE:#04x}",
        str(efi),
        # No rounding of the ISO to whole 1 MiB "cylinders": up to a MiB of zeros for
        # fdisk's comfort only (xorrisofs(1): the constraints "seem not overly important";
        # the isohybrid MBR code boots by LBA).
        "-partition_cyl_align",
        "off",
    ]
    if append is not None:
        cmd += ["-append_partition", str(DATA_PARTITION), f"{FAT32_LBA_TYPE:#04x}", str(append)]
    run([*cmd, str(tree)], epoch)
