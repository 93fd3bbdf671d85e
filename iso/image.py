"""Bootable outputs: the hybrid ISO, the USB disk image with a data partition, PXE files.

The ISO (docs/testbed.md, "The bootable image"): BIOS boots isolinux through El
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
from pathlib import Path

from iso import bootcfg, tool

ISOLINUX_FILES = [
    "/usr/lib/ISOLINUX/isolinux.bin",
    "/usr/lib/syslinux/modules/bios/ldlinux.c32",
    # The boot hint on screen and serial line (iso.bootcfg.HINT_FILE).
    "/usr/lib/syslinux/modules/bios/cat.c32",
    "/usr/lib/syslinux/modules/bios/libcom32.c32",
]
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
# The ISO must stay under 25 MB with every feature kept (issue 15; 30 MB in issue 5):
# small enough for any stick or CD-R, quick to download on a bad line. Checked by the
# boot tests and shown by `make bench`; docs/image.md weighs what is in it.
SIZE_TARGET = 25_000_000
# MBR partitions of the hybrid image (1 is the ISO 9660 data, from the isohybrid MBR).
EFI_PARTITION = 2
DATA_PARTITION = 3
ESP_TYPE = 0xEF  # EFI System Partition
FAT32_LBA_TYPE = 0x0C
# RESCUEDATA is FAT32, as its partition type says: Windows (every version since 98), macOS
# and Linux mount it, and FAT32 is what they expect on a stick. FAT32 needs at least
# 65525 clusters (Microsoft's FAT specification, "FAT type determination"); with
# 512-byte clusters that is 32 MiB of clusters plus the FATs, so mformat refuses less
# than 34 MiB, and so does data_image, in one line.
DATA_MIN_MIB = 34
SECTOR = 512
# Where the BIOS Parameter Block keeps the hidden-sector count (sectors before the
# file system on its disk, BPB_HiddSec) and where FAT32 keeps its backup boot sector.
BPB_HIDDEN_SECTORS = 28
FAT32_BACKUP_BOOT_SECTOR = 6
# Room in the EFI FAT beyond its files: the FAT tables, the root directory (512
# entries), two folders and a part-used cluster per file take about 40 KiB with
# mformat's 2 KiB clusters; 128 KiB leaves a wide margin, and its free tail ends
# the medium (no padding: xorriso_iso).
EFI_SLACK = 128 * 1024
# The EFI FAT is a whole number of ISO blocks, not of MiB: every byte of it is paid
# for in the ISO, and mformat takes any whole number of KiB (0.45 MB saved).
ISO_BLOCK = 2048


class ImageError(Exception):
    """A tool that writes an image failed; the message carries its last words."""


def run(cmd: list[str], epoch: int, cwd: Path | None = None) -> None:
    """Run an image writer with the build's fixed clock and zone (reproducible bytes)."""
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(epoch), TZ="UTC", MTOOLS_SKIP_CHECK="1")
    tool.run(cmd, ImageError, env=env, cwd=cwd)


def fat_image(
    out: Path, size: int, label: str, serial: str, epoch: int, fat32: bool = False
) -> None:
    """An empty FAT file system of SIZE bytes (a whole number of MiB); mformat picks
    FAT12/16 by size unless FAT32 is asked for."""
    out.unlink(missing_ok=True)
    with out.open("wb") as fh:
        fh.truncate(size)
    run(["mformat", "-i", str(out), *(["-F"] if fat32 else []), "-N", serial, "-v", label, "::"],
        epoch)  # fmt: skip


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
    size = -(-payload // ISO_BLOCK) * ISO_BLOCK
    fat_image(out, size, "EFIBOOT", EFI_SERIAL, epoch)
    fat_put(out, files, epoch)


def data_image(out: Path, size_mib: int, epoch: int) -> None:
    """The RESCUEDATA partition of the USB image (FAT32): empty firmware/ and reports/.

    Its hidden-sector count is set once the partition has its place on the disk
    (set_hidden_sectors, called by xorriso_iso).
    """
    if size_mib < DATA_MIN_MIB:
        raise ImageError(
            f"RESCUEDATA must be at least {DATA_MIN_MIB} MiB to be FAT32, not {size_mib}"
        )
    fat_image(out, size_mib * MIB, DATA_LABEL, DATA_SERIAL, epoch, fat32=True)
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
    (tree / bootcfg.HINT_FILE.lstrip("/")).write_text(bootcfg.hint(extra_args), newline="")
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
        # No 300 KiB of zeros at the end (xorrisofs(1), -pad): they guard the last
        # blocks of a CD written track-at-once, which a run-out can leave unreadable.
        # Here the medium ends with the EFI FAT (or RESCUEDATA), whose last clusters
        # are free space (EFI_SLACK) that nothing reads, and the ISO 9660 tree is
        # followed by that partition, not by the end of the track (docs/image.md).
        "-no-pad",
    ]
    if append is not None:
        cmd += ["-append_partition", str(DATA_PARTITION), f"{FAT32_LBA_TYPE:#04x}", str(append)]
    run([*cmd, str(tree)], epoch)
    if append is not None:
        set_hidden_sectors(out, DATA_PARTITION)


def partition_start(disk: Path, number: int) -> int:
    """First sector (LBA) of MBR partition NUMBER, from the partition table."""
    with disk.open("rb") as fh:
        mbr = fh.read(SECTOR)
    if mbr[510:512] != b"\x55\xaa":
        raise ImageError(f"{disk.name} has no MBR signature")
    entry = 446 + 16 * (number - 1)
    return int.from_bytes(mbr[entry + 8 : entry + 12], "little")


def set_hidden_sectors(disk: Path, number: int) -> None:
    """Write partition NUMBER's start into its FAT boot sector(s) as the hidden-sector count.

    mformat writes 0 there, since it formats a file, not a disk; DOS, Windows'
    chkdsk and fsck.fat expect the partition's start (the BPB's BPB_HiddSec).
    Both the boot sector and FAT32's backup copy (sector 6) get it.
    """
    start = partition_start(disk, number)
    with disk.open("r+b") as fh:
        fh.seek(start * SECTOR)
        boot = fh.read(SECTOR)
        if boot[510:512] != b"\x55\xaa":
            raise ImageError(f"partition {number} of {disk.name} has no FAT boot sector")
        fat32 = boot[22:24] == b"\0\0"  # BPB_FATSz16 is 0 on FAT32 only
        for sector in (0, FAT32_BACKUP_BOOT_SECTOR) if fat32 else (0,):
            fh.seek((start + sector) * SECTOR + BPB_HIDDEN_SECTORS)
            fh.write(start.to_bytes(4, "little"))
