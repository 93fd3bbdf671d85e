"""Assemble the image's root file system from the build host's Debian packages.

Why from the host: the host runs the same Debian release as the image, has
every package in build/apt-packages.txt installed, and its dynamic loader
tells exactly which library files each program needs (``elfdeps``). The tree
is usr-merged like Debian (/bin, /sbin, /lib, /lib64 are links into /usr), so
paths baked into udev rules and ELF interpreters resolve unchanged.

What goes in, and why:
- busybox-static: init, shell, acpid and the small tools (applets only where no
  real program of the same name is installed; poweroff, reboot and halt are
  the overlay's wrappers, which release /data first);
- dash: the serial consoles' shell, since busybox ash asks the terminal for
  its cursor position (ESC[6n) at every prompt;
- kmod: modprobe for udev and for the kernel's own requests (iso9660, udf);
- udev (udevadm doubles as systemd-udevd) with its ID helpers and the rules
  that name drives; cdrom_id's tray lock is overridden in the overlay;
- a prebuilt ld.so.cache and its `ldconfig -p` listing, which the overlay's
  ldconfig script prints: pyudev finds libudev with ctypes.util.find_library,
  which runs `ldconfig -p` (the static ldconfig would be 1 MB);
- sg3-utils and gddrescue: the reference tools a repair bench expects;
- the frozen `rescue` app (build/freeze.py) under /usr/lib/rescue;
- a stub in place of OpenSSL's libcrypto, which kmod links only to print a
  module's signer (iso.cryptostub);
- the kernel modules of the drive path and their dependencies, signatures
  kept (Secure Boot lockdown refuses unsigned modules).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from iso import cryptostub, elfdeps, tool

ISO_DIR = Path(__file__).resolve().parent
OVERLAY = ISO_DIR / "overlay"
sys.path.insert(0, str(ISO_DIR.parent / "build"))

from debian_kernel import KernelTree, module_closure  # noqa: E402

USR_MERGE = {"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"}
EMPTY_DIRS = ["dev", "proc", "sys", "run", "tmp", "data", "root", "mnt"]

# Single programs, by their path on the build host.
PROGRAMS = [
    "/usr/bin/busybox",
    "/usr/bin/dash",
    "/usr/bin/kmod",
    "/usr/bin/udevadm",
    "/usr/lib/udev/cdrom_id",
    "/usr/lib/udev/ata_id",
    "/usr/lib/udev/scsi_id",
]
# Packages whose every program goes in.
PROGRAM_PACKAGES = ["sg3-utils", "gddrescue"]
# Loaded with dlopen (pyudev through ctypes), so ldd cannot see them.
DLOPENED = ["/usr/lib/x86_64-linux-gnu/libudev.so.1"]
UDEV_RULES = [
    "50-udev-default.rules",
    "60-block.rules",
    "60-cdrom_id.rules",
    "60-persistent-storage.rules",
    "80-drivers.rules",
]
KMOD_NAMES = ["modprobe", "insmod", "rmmod", "lsmod", "modinfo", "depmod"]

# Kernel modules by name; every module under MODULE_DIRS goes in as well.
MODULES = [
    "sr_mod",
    "sg",
    "sd_mod",
    "ahci",
    "ata_piix",
    "ata_generic",
    "usb_storage",
    "uas",
    "xhci_pci",
    "ehci_pci",
    "ohci_pci",
    "uhci_hcd",
    "isofs",
    "udf",
    "vfat",
    "nls_cp437",
    "nls_utf8",
    "nls_iso8859_1",
    "virtio_scsi",
    "virtio_pci",
    "virtio_blk",
    "usbhid",
    "hid_generic",
    "button",  # the ACPI power button, read by acpid (sysinit)
    "evdev",
]
# All libata host drivers (old IDE/SATA chipsets carry old drives) and all
# usb-storage bridge quirk drivers (drives in USB enclosures).
MODULE_DIRS = ["kernel/drivers/ata", "kernel/drivers/usb/storage"]
MODULE_INDEX_FILES = ["modules.order", "modules.builtin", "modules.builtin.modinfo"]
APP_DIR = "usr/lib/rescue"
LDCONFIG_LISTING = "usr/lib/ldconfig-p.txt"  # printed by the overlay's usr/sbin/ldconfig


class RootfsError(Exception):
    """A one-line reason the root file system could not be assembled."""


@dataclass(frozen=True)
class Inputs:
    kernel: KernelTree
    app: Path  # the frozen onedir tree, dist/rescue
    overlay: Path = OVERLAY


def run(cmd: list[str]) -> str:
    """Run a build tool; its failure becomes a one-line RootfsError."""
    return tool.run(cmd, RootfsError)


def image_path(host_path: Path) -> Path:
    """Where a host file lives in the usr-merged image, relative to its root.

    /lib/x86_64-linux-gnu/libc.so.6 -> usr/lib/x86_64-linux-gnu/libc.so.6; the
    directory is resolved (usr-merge links), the file name kept (a soname link
    becomes a file of that name).
    """
    rel = Path(os.path.realpath(host_path.parent)).relative_to("/") / host_path.name
    top = rel.parts[0]
    if top in USR_MERGE:
        rel = Path(USR_MERGE[top], *rel.parts[1:])
    return rel


def install(root: Path, host_path: Path) -> Path:
    """Copy HOST_PATH (symlinks followed) to its image path; return the copy."""
    dest = root / image_path(host_path)
    if dest.exists():
        return dest
    if not host_path.is_file():
        raise RootfsError(f"{host_path} is missing on the build host (see build/apt-packages.txt)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(host_path, dest)
    os.chmod(dest, host_path.stat().st_mode & 0o7777)
    return dest


def link(root: Path, path: str, target: str) -> None:
    dest = root / path
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.symlink_to(target)


def package_programs(package: str) -> list[Path]:
    """The programs a Debian package installs in the bin directories."""
    listing = run(["dpkg", "-L", package])
    bins = ("/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/")
    paths = [Path(line) for line in listing.splitlines() if line.startswith(bins)]
    return sorted(p for p in paths if elfdeps.is_elf(p))  # scripts would need bash


def busybox_applets(listing: str) -> list[str]:
    """Image paths for `busybox --list-full` output (bin/ls -> usr/bin/ls)."""
    paths = []
    for line in listing.split():
        top, _, rest = line.partition("/")
        paths.append(str(Path(USR_MERGE[top], rest)) if top in USR_MERGE else line)
    return paths


def install_busybox_applets(root: Path) -> None:
    """Link each applet to busybox unless a real program already has its name."""
    listing = run([str(root / "usr/bin/busybox"), "--list-full"])
    taken = {p.name for d in ("usr/bin", "usr/sbin") for p in (root / d).iterdir()}
    for path in busybox_applets(listing):
        name = Path(path).name
        if name not in taken:
            link(root, path, "/usr/bin/busybox")
            taken.add(name)


def install_udev(root: Path) -> None:
    rules = root / "usr/lib/udev/rules.d"
    rules.mkdir(parents=True, exist_ok=True)
    for name in UDEV_RULES:
        shutil.copyfile(Path("/usr/lib/udev/rules.d") / name, rules / name)
    link(root, "usr/lib/systemd/systemd-udevd", "../../bin/udevadm")


def install_libraries(root: Path, app_dir: Path) -> None:
    """Every library that an ELF file in the tree, or a dlopened one, needs."""
    internal = app_dir / "_internal"
    pending = sorted(p for p in root.rglob("*") if elfdeps.is_elf(p))
    pending += [install(root, Path(lib)) for lib in DLOPENED]
    seen: set[Path] = set()
    while pending:
        elf = pending.pop()
        # The app's launcher itself links libz from the system (no RUNPATH);
        # only the libraries under _internal are found next to each other.
        search = [internal] if elf.is_relative_to(internal) else []
        for lib in elfdeps.libraries(elf, search):
            if lib.is_relative_to(internal) or lib in seen:
                continue  # the frozen app carries its own copy
            seen.add(lib)
            pending.append(install(root, lib))


def share_app_libraries(root: Path, app_dir: Path) -> None:
    """Replace app libraries identical to system ones by links (libcrypto: 4.6 MB)."""
    system = root / "usr/lib/x86_64-linux-gnu"
    for bundled in sorted((app_dir / "_internal").glob("*.so*")):
        twin = system / bundled.name
        same = twin.is_file() and twin.read_bytes() == bundled.read_bytes()
        if same and not bundled.is_symlink():
            bundled.unlink()
            bundled.symlink_to(f"/{twin.relative_to(root)}")


def kernel_modules(tree: KernelTree) -> list[Path]:
    """Module files of MODULES and MODULE_DIRS with all their dependencies."""
    base = tree.modules_dir / "lib/modules" / tree.version
    names = list(MODULES)
    for sub in MODULE_DIRS:
        names += sorted(p.name.removesuffix(".ko") for p in (base / sub).glob("*.ko"))
    return module_closure(tree, names)


def install_modules(root: Path, tree: KernelTree) -> int:
    """Copy the modules and build modules.dep for them; return how many."""
    src = tree.modules_dir / "lib/modules" / tree.version
    dest = root / "usr/lib/modules" / tree.version
    modules = kernel_modules(tree)
    for module in modules:
        target = dest / module.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(module, target)
    for name in MODULE_INDEX_FILES:
        shutil.copyfile(src / name, dest / name)
    run(["depmod", "-b", str(root), tree.version])
    return len(modules)


def ldconfig_listing(root: Path) -> str:
    """`ldconfig -p` of ROOT's cache as the image prints it (its header names /etc)."""
    cache = root / "etc/ld.so.cache"
    return run(["ldconfig", "-p", "-C", str(cache)]).replace(f"`{cache}'", "`/etc/ld.so.cache'")


def assemble(root: Path, inputs: Inputs) -> None:
    """Build the complete tree at ROOT (which must not exist yet)."""
    root.mkdir(parents=True)
    for name, target in USR_MERGE.items():
        (root / target).mkdir(parents=True)
        (root / name).symlink_to(target)
    for name in EMPTY_DIRS:
        (root / name).mkdir(parents=True, exist_ok=True)
    shutil.copytree(inputs.overlay, root, symlinks=True, dirs_exist_ok=True)
    programs = [Path(p) for p in PROGRAMS]
    for package in PROGRAM_PACKAGES:
        programs += package_programs(package)
    for program in programs:
        install(root, program)
    for name in KMOD_NAMES:
        link(root, f"usr/sbin/{name}", "../bin/kmod")
    install_udev(root)
    app_dir = root / APP_DIR
    shutil.copytree(inputs.app, app_dir, symlinks=True)
    link(root, "usr/bin/rescue", f"/{APP_DIR}/rescue")
    install_busybox_applets(root)
    install_libraries(root, app_dir)
    share_app_libraries(root, app_dir)
    cryptostub.install(root)
    install_modules(root, inputs.kernel)
    run(["ldconfig", "-r", str(root)])
    (root / LDCONFIG_LISTING).write_text(ldconfig_listing(root))
    (root / "root").chmod(0o700)
