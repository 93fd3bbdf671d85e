"""Fetch, verify and cache the pinned Debian kernel used by the test guest and the ISO.

Why Debian's own kernel: it is the kernel a rescue stick would boot, with the
SCSI, sr, sg, TCMU and 9p pieces built as modules (`=m`), and it is signed,
which Secure Boot needs. Why a pin: bookworm security updates replace the
package every few weeks and the archive drops the old one, so a build must
say exactly which package it used (build/kernel.lock) and fail with a clear
message, not hang or silently change kernels, when that package is gone.

Facts used (Debian packaging, kmod(8)): the image package carries no
modules.dep, so `depmod -b ROOT RELEASE` builds it; after that
`modprobe -d ROOT -S RELEASE --show-depends NAME` prints a module's load
order as `insmod PATH` lines (`builtin NAME` for built-in ones).

Importable with the standard library only (the ISO builder runs it as a
plain module) and runnable as `python3 build/debian_kernel.py fetch`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

LOCK_FILE = Path(__file__).resolve().with_name("kernel.lock")
META_PACKAGE = "linux-image-amd64"
APT_TIMEOUT = 900  # seconds; a 70 MB download on a slow mirror, never forever
COMPLETE_MARK = ".rescue-complete"


class KernelError(Exception):
    """A one-line reason the pinned kernel cannot be provided."""


@dataclass(frozen=True)
class KernelLock:
    package: str
    version: str
    sha256: str

    @property
    def release(self) -> str:
        """`6.1.0-56-amd64` from `linux-image-6.1.0-56-amd64`."""
        return self.package.removeprefix("linux-image-")


@dataclass(frozen=True)
class KernelTree:
    """An unpacked kernel package: what QEMU boots and where its modules live."""

    version: str  # kernel release, as in /lib/modules/RELEASE
    root: Path

    @property
    def vmlinuz(self) -> Path:
        return self.root / "boot" / f"vmlinuz-{self.version}"

    @property
    def modules_dir(self) -> Path:
        """The directory to give `modprobe -d` / `depmod -b`."""
        return self.root


def read_lock(path: Path = LOCK_FILE) -> KernelLock:
    try:
        data = tomllib.loads(path.read_text())
        return KernelLock(str(data["package"]), str(data["version"]), str(data["sha256"]))
    except FileNotFoundError:
        raise KernelError(
            f"{path} is missing; run `python3 build/debian_kernel.py lock` to pin a kernel"
        ) from None
    except (tomllib.TOMLDecodeError, KeyError) as err:
        raise KernelError(f"{path} is malformed ({err}); regenerate it with `lock`") from None


def write_lock(lock: KernelLock, path: Path = LOCK_FILE) -> None:
    path.write_text(
        "# Pinned guest/ISO kernel. Update with: python3 build/debian_kernel.py lock\n"
        f'package = "{lock.package}"\n'
        f'version = "{lock.version}"\n'
        f'sha256 = "{lock.sha256}"\n'
    )


def default_cache_dir() -> Path:
    base = os.environ.get("RESCUE_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "rescue"
    return root / "kernel"


def _run(cmd: list[str], timeout: float = APT_TIMEOUT, cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise KernelError(f"`{cmd[0]}` is not installed (see build/apt-packages.txt)") from None
    except subprocess.TimeoutExpired:
        raise KernelError(f"`{' '.join(cmd)}` did not finish within {timeout:g} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise KernelError(f"`{' '.join(cmd)}` failed: {last}")
    return done.stdout


def current_archive_kernel() -> KernelLock:
    """The kernel package the archive offers now (via the metapackage), unverified."""
    deps = _run(["apt-cache", "depends", META_PACKAGE], timeout=60)
    match = re.search(r"Depends: (linux-image-[0-9][^\s]*-amd64)\b", deps)
    if not match:
        raise KernelError(f"`apt-cache depends {META_PACKAGE}` names no kernel package")
    package = match.group(1)
    show = _run(["apt-cache", "show", package], timeout=60)
    version = re.search(r"^Version: (\S+)", show, re.M)
    digest = re.search(r"^SHA256: ([0-9a-f]{64})", show, re.M)
    if not (version and digest):
        raise KernelError(f"`apt-cache show {package}` lacks Version or SHA256")
    return KernelLock(package, version.group(1), digest.group(1))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(lock: KernelLock, into: Path) -> Path:
    spec = f"{lock.package}={lock.version}"
    try:
        _run(["apt-get", "download", "-q", spec], cwd=into)
    except KernelError as err:
        raise KernelError(
            f"pinned kernel {spec} cannot be downloaded ({err}); if the archive dropped it, "
            "run `apt-get update && python3 build/debian_kernel.py lock` and commit "
            "build/kernel.lock"
        ) from None
    debs = list(into.glob(f"{lock.package}_*.deb"))
    if len(debs) != 1:
        raise KernelError(f"apt-get download of {spec} left {len(debs)} .deb files")
    return debs[0]


def fetch_kernel(cache_dir: Path | None = None, lock: KernelLock | None = None) -> KernelTree:
    """The pinned kernel unpacked under CACHE_DIR/VERSION; no network when cached."""
    lock = lock or read_lock()
    cache_dir = cache_dir or default_cache_dir()
    tree = KernelTree(lock.release, cache_dir / lock.version)
    mark = tree.root / COMPLETE_MARK
    if mark.is_file() and mark.read_text().strip() == lock.sha256:
        return tree
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".fetch-") as tmp:
        work = Path(tmp)
        deb = _download(lock, work)
        actual = sha256_of(deb)
        if actual != lock.sha256:
            raise KernelError(
                f"{deb.name}: sha256 {actual} does not match build/kernel.lock ({lock.sha256})"
            )
        unpacked = work / "root"
        _run(["dpkg-deb", "-x", str(deb), str(unpacked)])
        _run(["depmod", "-b", str(unpacked), lock.release])
        (unpacked / COMPLETE_MARK).write_text(lock.sha256 + "\n")
        if tree.root.exists():
            shutil.rmtree(tree.root)  # an interrupted earlier unpack
        unpacked.rename(tree.root)
    if not tree.vmlinuz.is_file():
        raise KernelError(f"{lock.package} has no {tree.vmlinuz.name}")
    return tree


def module_closure(tree: KernelTree, names: list[str]) -> list[Path]:
    """Module files for NAMES and their dependencies, each once, in load order."""
    ordered: list[Path] = []
    for name in names:
        out = _run(
            ["modprobe", "-d", str(tree.modules_dir), "-S", tree.version, "--show-depends", name],
            timeout=60,
        )
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "insmod":
                path = Path(parts[1])
                if path not in ordered:
                    ordered.append(path)
    return ordered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    fetch = sub.add_parser("fetch", help="download (or reuse) and unpack the pinned kernel")
    fetch.add_argument("--cache", type=Path, help="cache directory (default $RESCUE_CACHE/kernel)")
    sub.add_parser("lock", help="pin the kernel the archive offers now in build/kernel.lock")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "lock":
            lock = current_archive_kernel()
            write_lock(lock)
            print(f"pinned {lock.package} {lock.version} sha256 {lock.sha256}")
        else:
            tree = fetch_kernel(args.cache)
            print(f"{tree.version} {tree.vmlinuz}")
    except KernelError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
