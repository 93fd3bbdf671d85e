"""Pack a root tree into a reproducible initramfs (cpio newc, zstd).

Why these steps (docs/testbed.md, measured): every file gets one fixed mtime,
names are fed in sorted order (parents sort before their children, which the
kernel's unpacker needs), cpio's --reproducible drops inode and device
numbers, --owner=0:0 makes the build independent of who runs it, and zstd's
output does not depend on its thread count. Debian's kernel has
CONFIG_RD_ZSTD=y.

Why zstd at its top level (--ultra -22) and told the archive's size: its window
then spans the whole archive (about 45 MB), so a library or module that repeats
code from another far away in the archive still compresses against it: 0.76 MB
(6 %) smaller than level 19's 8 MiB window. Unpacking costs the same time; the
kernel's decoder takes windows up to 128 MiB (lib/decompress_unzstd.c). xz with
its x86 filter is 8 % smaller again but unpacks about three times slower in
the kernel, seconds under emulation before /init runs (docs/image.md), and the
kernel modules stay uncompressed so nothing is compressed twice.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ZSTD_LEVEL = ["--ultra", "-22"]


class PackError(Exception):
    """cpio or zstd failed."""


def cpio_order(root: Path) -> list[bytes]:
    """Every path under ROOT, relative, as bytes, in the order the archive lists them."""
    names = [os.fsencode(p.relative_to(root)) for p in root.rglob("*")]
    return sorted(names)


def set_mtimes(root: Path, epoch: int) -> None:
    for path in [root, *root.rglob("*")]:
        os.utime(path, (epoch, epoch), follow_symlinks=False)


def pack(root: Path, out: Path, epoch: int) -> None:
    """Write ROOT as a zstd-compressed newc archive to OUT."""
    set_mtimes(root, epoch)
    listing = b"\0".join(cpio_order(root)) + b"\0"
    cpio = [
        "cpio",
        "--null",
        "--create",
        "--format=newc",
        "--owner=0:0",
        "--reproducible",
        "--quiet",
    ]
    with out.open("wb") as sink:
        archive = subprocess.run(cpio, input=listing, cwd=root, capture_output=True, check=False)
        if archive.returncode != 0:
            raise PackError(f"cpio failed: {archive.stderr.decode(errors='replace').strip()}")
        packed = subprocess.run(
            ["zstd", *ZSTD_LEVEL, f"--stream-size={len(archive.stdout)}", "-T0", "-q", "-c"],
            input=archive.stdout,
            stdout=sink,
            stderr=subprocess.PIPE,
            check=False,
        )
    if packed.returncode != 0:
        raise PackError(f"zstd failed: {packed.stderr.decode(errors='replace').strip()}")
