"""Two builds from the same sources give byte-identical initramfs, ISO and USB image.

Why it matters: a rescue image is something people download and trust; a
reproducible build lets anyone check that the published image is what these
sources make. The second build runs in its own directory, so absolute build
paths cannot leak into the result unnoticed. When the initramfs differs, the
files that differ are named.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from iso import build

pytestmark = pytest.mark.vm


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): (f"-> {p.readlink()}" if p.is_symlink() else sha256(p))
        for p in root.rglob("*")
        if p.is_symlink() or p.is_file()
    }


def test_a_second_build_is_byte_identical(boot_files: build.BootFiles, tmp_path: Path) -> None:
    second = build.build_boot_files(tmp_path / "stage", boot_files.epoch)
    if sha256(second.initrd) != sha256(boot_files.initrd):
        first_tree = tree_digests(boot_files.initrd.parent / "rootfs")
        second_tree = tree_digests(second.initrd.parent / "rootfs")
        differing = sorted(
            name for name in first_tree.keys() | second_tree.keys()
            if first_tree.get(name) != second_tree.get(name)
        )  # fmt: skip
        pytest.fail(
            f"initramfs differs; files that differ: {differing[:20] or 'none (packing)'} "
            "(only usr/lib/rescue? check that nobody edited rescue/ between the two builds)"
        )
    digests = {}
    for name, boot in (("first", boot_files), ("second", second)):
        work = tmp_path / name
        iso = build.make_iso(boot, work / "rescue.iso", work, [])
        usb = build.make_usb(boot, work / "rescue-usb.img", work, [], build.DATA_MIB)
        digests[name] = (sha256(iso), sha256(usb))
    assert digests["first"] == digests["second"]
