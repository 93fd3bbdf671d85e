"""Build the bootable images: `python -m iso.build {iso,usb,pxe}` (what `make iso` runs).

Pipeline: freeze the app (build/freeze.py), fetch the pinned kernel
(build/debian_kernel.py), assemble the root tree (iso.rootfs), pack it
(iso.initramfs), then master the outputs (iso.image):
- iso: out/rescue.iso, hybrid BIOS+UEFI, for CD or `dd` to a stick;
- usb: out/rescue-usb.img, the same boot partitions plus a FAT partition
  RESCUEDATA (firmware/, reports/) that the booted system mounts at /data;
- pxe: out/pxe/vmlinuz and out/pxe/initrd.img (the initramfs is the whole system).
`--append ARG` adds kernel arguments to every boot entry, e.g. a bench image
that runs one command: --append 'rescue.run=rescue list'.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from iso import cryptostub, elfdeps, image, initramfs, rootfs
from iso.rootfs import KernelTree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "build"))

import freeze  # noqa: E402
from debian_kernel import KernelError, fetch_kernel  # noqa: E402

from rescue import __version__  # noqa: E402

DATA_MIB = 64


@dataclass(frozen=True)
class BootFiles:
    """What every output boots: the pinned kernel and our initramfs."""

    kernel: KernelTree
    initrd: Path
    epoch: int


def build_boot_files(stage: Path, epoch: int, dist: Path | None = None) -> BootFiles:
    """Freeze the app, assemble and pack the root tree; STAGE is scratch space."""
    dist = dist or stage / "dist"
    app = freeze.freeze(dist, stage / "pyinstaller", epoch).parent
    kernel = fetch_kernel()
    tree = stage / "rootfs"
    shutil.rmtree(tree, ignore_errors=True)
    rootfs.assemble(tree, rootfs.Inputs(kernel, app))
    initrd = stage / "initrd.img"
    initramfs.pack(tree, initrd, epoch)
    return BootFiles(kernel, initrd, epoch)


def make_iso(
    boot: BootFiles, out: Path, stage: Path, args: list[str], data: Path | None = None
) -> Path:
    """Master the hybrid ISO at OUT (DATA: a FAT image appended as a partition)."""
    tree = stage / "iso-tree"
    shutil.rmtree(tree, ignore_errors=True)
    image.iso_tree(tree, boot.kernel.vmlinuz, boot.initrd, args, f"rescue {__version__}")
    efi = stage / "efiboot.img"
    image.efi_image(efi, stage / "efi", boot.epoch)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.xorriso_iso(tree, efi, out, boot.epoch, append=data)
    return out


def make_usb(boot: BootFiles, out: Path, stage: Path, args: list[str], data_mib: int) -> Path:
    """The stick image: the ISO's partitions plus RESCUEDATA, which the boot waits for."""
    data = stage / "data.img"
    image.data_image(data, data_mib, boot.epoch)
    return make_iso(boot, out, stage, [f"rescue.data={image.DATA_LABEL}", *args], data)


def make_pxe(boot: BootFiles, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(boot.kernel.vmlinuz, out_dir / "vmlinuz")
    shutil.copyfile(boot.initrd, out_dir / "initrd.img")
    return out_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", choices=["iso", "usb", "pxe"])
    parser.add_argument("--out", type=Path, default=ROOT / "out", help="output directory")
    parser.add_argument("--append", action="append", default=[], metavar="ARG",
                        help="kernel argument for every boot entry (repeatable)")  # fmt: skip
    parser.add_argument("--data-mib", type=int, default=DATA_MIB, help="RESCUEDATA size")
    args = parser.parse_args(argv)
    stage = args.out / "stage"
    try:
        boot = build_boot_files(stage, freeze.source_epoch(), dist=ROOT / "dist")
        if args.target == "iso":
            result = make_iso(boot, args.out / "rescue.iso", stage, args.append)
        elif args.target == "usb":
            result = make_usb(boot, args.out / "rescue-usb.img", stage, args.append, args.data_mib)
        else:
            result = make_pxe(boot, args.out / "pxe")
    except (
        freeze.FreezeError,
        KernelError,
        rootfs.RootfsError,
        cryptostub.StubError,
        elfdeps.MissingLibrary,
        initramfs.PackError,
        image.ImageError,
        image.bootcfg.BootArgError,
    ) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
