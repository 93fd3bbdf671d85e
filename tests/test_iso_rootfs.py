"""Image builder logic that needs no kernel and no QEMU: library lists, paths, packing."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from iso import elfdeps, initramfs, rootfs  # noqa: E402

LDD_OUTPUT = """\
\tlinux-vdso.so.1 (0x00007ffc4a5f2000)
\tlibkmod.so.2 => /lib/x86_64-linux-gnu/libkmod.so.2 (0x00007f0e1c6f1000)
\tlibpython3.11.so.1.0 => /opt/app/_internal/libpython3.11.so.1.0 (0x00007f0e1c000000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f0e1c50d000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f0e1c742000)
"""


def test_ldd_output_gives_every_library_and_the_loader():
    assert elfdeps.parse_ldd(LDD_OUTPUT) == [
        Path("/lib/x86_64-linux-gnu/libkmod.so.2"),
        Path("/opt/app/_internal/libpython3.11.so.1.0"),
        Path("/lib/x86_64-linux-gnu/libc.so.6"),
        Path("/lib64/ld-linux-x86-64.so.2"),
    ]


def test_a_missing_library_is_an_error_not_a_silent_gap():
    text = LDD_OUTPUT + "\tlibfoo.so.9 => not found\n"
    with pytest.raises(elfdeps.MissingLibrary, match="libfoo.so.9"):
        elfdeps.parse_ldd(text, "/usr/bin/thing")


def test_a_real_program_needs_glibc_and_the_loader():
    libs = elfdeps.libraries(Path("/usr/bin/udevadm"))
    names = {p.name for p in libs}
    assert {"libc.so.6", "ld-linux-x86-64.so.2", "libkmod.so.2"} <= names


def test_a_static_program_needs_nothing():
    assert elfdeps.libraries(Path("/usr/bin/busybox")) == []


@pytest.mark.parametrize(
    ("host", "image"),
    [
        ("/lib/x86_64-linux-gnu/libc.so.6", "usr/lib/x86_64-linux-gnu/libc.so.6"),
        ("/lib64/ld-linux-x86-64.so.2", "usr/lib64/ld-linux-x86-64.so.2"),
        ("/sbin/ldconfig", "usr/sbin/ldconfig"),
        ("/usr/bin/udevadm", "usr/bin/udevadm"),
    ],
)
def test_host_paths_land_in_the_usr_merged_tree(host, image):
    assert rootfs.image_path(Path(host)) == Path(image)


def test_busybox_applets_map_into_usr():
    listing = "bin/sh\nsbin/init\nusr/bin/awk\nusr/sbin/chroot\nlinuxrc\n"
    assert rootfs.busybox_applets(listing) == [
        "usr/bin/sh", "usr/sbin/init", "usr/bin/awk", "usr/sbin/chroot", "linuxrc"
    ]  # fmt: skip


def make_tree(root: Path) -> None:
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr-local").mkdir()
    (root / "usr/bin/tool").write_bytes(b"\x7fELF fake")
    (root / "usr/bin/tool").chmod(0o755)
    (root / "bin").symlink_to("usr/bin")
    (root / "init").write_text("#!/bin/sh\n")


def test_archive_order_puts_every_directory_before_its_contents(tmp_path):
    make_tree(tmp_path)
    order = initramfs.cpio_order(tmp_path)
    for position, name in enumerate(order):
        parent = Path(name.decode()).parent
        if str(parent) != ".":
            assert order.index(str(parent).encode()) < position


def test_initramfs_is_identical_across_builds_and_lists_the_tree(tmp_path):
    digests = []
    for run in ("a", "b"):
        tree = tmp_path / run
        make_tree(tree)
        out = tmp_path / f"{run}.img"
        initramfs.pack(tree, out, epoch=1767225600)
        digests.append(hashlib.sha256(out.read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    listing = subprocess.run(
        f"zstd -dc {tmp_path / 'a.img'} | cpio -t --quiet", shell=True, capture_output=True,
        text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert listing == ["bin", "init", "usr", "usr-local", "usr/bin", "usr/bin/tool"]


def test_the_ldconfig_listing_is_what_ctypes_find_library_parses(tmp_path):
    """The image's `ldconfig -p` (a listing made at build time) finds libudev for pyudev."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    rootfs.install(root, Path("/usr/lib/x86_64-linux-gnu/libudev.so.1"))
    subprocess.run(["ldconfig", "-r", str(root)], check=True)
    listing = rootfs.ldconfig_listing(root)
    assert str(tmp_path) not in listing  # the same bytes whichever folder builds it
    assert listing.startswith("1 libs found in cache `/etc/ld.so.cache'")
    # ctypes.util._findSoname_ldconfig's pattern, for x86-64
    found = re.search(r"\s+(libudev\.[^\s]+)\s+\(libc6,x86-64", listing)
    assert found and found.group(1) == "libudev.so.1"


def test_the_image_ldconfig_refuses_anything_but_printing_the_cache():
    script = rootfs.OVERLAY / "usr/sbin/ldconfig"
    done = subprocess.run(["sh", str(script), "-r", "/"], capture_output=True, text=True)
    assert done.returncode == 1
    assert "only lists its prebuilt cache" in done.stderr
