"""Boot the pinned Debian kernel in QEMU and run a command on a real SCSI stack.

Why a guest: the host kernel has no SCSI layer and no modules, so SG_IO,
sr, sg and TCMU only exist inside a VM. The guest is a busybox initramfs
that mounts the host root read-only over 9p and chroots into it (see
init.sh), so the host's Python, venv and tests run there unchanged; one boot
serves a whole test suite.

Drives the guest sees: an ide-cd on AHCI and a scsi-cd on virtio-scsi (both
with a small ISO as the disc), and scsi_debug as a peripheral-type-5 device.
Their identities reach the guest command as environment variables.

Usable from pytest (tests/vm/test_guest.py) and by hand:
`python tests/vm/harness.py -- python -m pytest tests/guest`.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import types
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

# Everything the guest tests need, with their dependency closures added.
MODULES = [
    "sr_mod", "sg", "cdrom", "scsi_mod", "libata", "ahci", "ata_piix", "virtio_scsi",
    "virtio_pci", "9p", "9pnet_virtio", "configfs", "target_core_mod", "target_core_user",
    "tcm_loop", "uio", "scsi_debug", "isofs",
    # a real USB path (docs/testbed.md): a gadget on dummy_hcd seen through usb-storage or uas
    "dummy_hcd", "libcomposite", "usb_f_mass_storage", "usb_f_fs", "usb-storage", "uas",
]  # fmt: skip

SCSI_DEBUG_IDENTITY = {"vendor": "RESCUEDB", "product": "SCSI DEBUG CD", "rev": "0001"}
SCSI_CD_IDENTITY = {"vendor": "RESCUEQM", "product": "QEMU SCSI CD", "rev": "1.23"}
IDE_CD_REV = "2.5+"  # QEMU's ide-cd always says QEMU / QEMU DVD-ROM
ISO_FILE, ISO_TEXT = "RESCUE.TXT", "rescue test disc\n"
GUEST_RESULTS = "/run/rescue-results"  # where init.sh mounts the results share

MODULE_PARAMS = {
    # a device controller per concurrent USB gadget (tests/guest/test_usb_faults.py)
    "dummy_hcd": "num=6",
    "scsi_debug": "ptype=5 removable=1 sector_size=2048 dev_size_mb=2 "
    f"inq_vendor={SCSI_DEBUG_IDENTITY['vendor']} "
    f"inq_product={SCSI_DEBUG_IDENTITY['product'].replace(' ', '_')} "
    f"inq_rev={SCSI_DEBUG_IDENTITY['rev']}",
}


class GuestError(Exception):
    """The guest could not be built or did not run to its end."""

    def __init__(self, message: str, console: str = "") -> None:
        super().__init__(message)
        self.console = console


@functools.cache
def _load_debian_kernel() -> types.ModuleType:
    """build/ is a folder of scripts, not a package: load debian_kernel.py by path."""
    spec = importlib.util.spec_from_file_location("debian_kernel", REPO / "build/debian_kernel.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["debian_kernel"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def cache_root() -> Path:
    base = os.environ.get("RESCUE_CACHE")
    return Path(base) if base else Path.home() / ".cache" / "rescue"


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def build_initramfs(tree, out_dir: Path) -> Path:  # noqa: ANN001 - debian_kernel.KernelTree
    """An uncompressed newc cpio (no decompression cost under TCG), cached by content."""
    dk = _load_debian_kernel()
    modules = dk.module_closure(tree, MODULES)
    busybox = Path("/bin/busybox")
    load_list = "".join(
        f"{m.name} {MODULE_PARAMS.get(m.name.removesuffix('.ko'), '')}".rstrip() + "\n"
        for m in modules
    )
    init = (HERE / "init.sh").read_bytes()
    key = _digest(init, busybox.read_bytes(), load_list.encode(), tree.version.encode())
    out = out_dir / f"initramfs-{key}.cpio"
    if out.is_file():
        return out
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        stage = Path(tmp) / "root"
        (stage / "bin").mkdir(parents=True)
        (stage / "modules").mkdir()
        shutil.copy2(busybox, stage / "bin/busybox")
        (stage / "init").write_bytes(init)
        (stage / "init").chmod(0o755)
        for module in modules:
            shutil.copy2(module, stage / "modules" / module.name)
        (stage / "modules/load.list").write_text(load_list)
        names = sorted(str(p.relative_to(stage)) for p in stage.rglob("*"))
        partial = Path(tmp) / "out.cpio"
        with partial.open("wb") as fh:
            subprocess.run(
                ["cpio", "--null", "-o", "-H", "newc", "--owner=0:0", "--reproducible",
                 "--quiet"],
                input="\0".join(names).encode() + b"\0", cwd=stage, stdout=fh, check=True,
            )  # fmt: skip
        partial.rename(out)
    return out


def build_iso(out_dir: Path) -> Path:
    """A tiny ISO 9660 disc with one known file, for the guest's CD drives."""
    options = ["-as", "mkisofs", "-quiet", "-R", "-V", "RESCUETEST"]
    key = _digest(" ".join(options).encode(), ISO_FILE.encode(), ISO_TEXT.encode())
    out = out_dir / f"disc-{key}.iso"
    if out.is_file():
        return out
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        (src / ISO_FILE).write_text(ISO_TEXT)
        partial = Path(tmp) / "disc.iso"
        subprocess.run(
            ["xorriso", *options, "-o", str(partial), str(src)], check=True, capture_output=True
        )
        partial.rename(out)
    return out


def pick_accel() -> str:
    """TCG unless RESCUE_VM_ACCEL says otherwise.

    On the machines this project is built on /dev/kvm is a nested,
    paravirtualised KVM under which Debian's kernel hangs at boot; QEMU does
    not fall back because KVM seems to start. A host that is itself a VM
    (the `hypervisor` CPU flag) is therefore not trusted with KVM.
    """
    wanted = os.environ.get("RESCUE_VM_ACCEL")
    if wanted:
        return wanted
    nested = "hypervisor" in Path("/proc/cpuinfo").read_text()
    if os.access("/dev/kvm", os.R_OK | os.W_OK) and nested:
        print(
            "harness: /dev/kvm is nested KVM (known to hang the guest kernel); using TCG",
            file=sys.stderr,
        )
    return "tcg"


def guest_env() -> dict[str, str]:
    """What the guest command learns about its drives (see tests/guest/conftest.py)."""
    return {
        "RESCUE_IN_GUEST": "1",
        "RESCUE_SCSI_CD_VENDOR": SCSI_CD_IDENTITY["vendor"],
        "RESCUE_SCSI_CD_PRODUCT": SCSI_CD_IDENTITY["product"],
        "RESCUE_SCSI_CD_REV": SCSI_CD_IDENTITY["rev"],
        "RESCUE_IDE_CD_REV": IDE_CD_REV,
        "RESCUE_SCSI_DEBUG_VENDOR": SCSI_DEBUG_IDENTITY["vendor"],
        "RESCUE_ISO_FILE": ISO_FILE,
        "RESCUE_ISO_TEXT": ISO_TEXT,
        "RESCUE_RESULTS": GUEST_RESULTS,
        "TMPDIR": "/run/tmp",
        "HOME": "/run/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    }


def qemu_command(kernel: Path, initrd: Path, iso: Path, results: Path, console: Path) -> list[str]:
    scsi = SCSI_CD_IDENTITY
    return [
        "qemu-system-x86_64", "-accel", pick_accel(), "-nodefaults", "-nographic",
        "-no-reboot", "-m", "1024", "-smp", "2", "-net", "none",
        "-serial", f"file:{console}", "-monitor", "none",
        "-kernel", str(kernel), "-initrd", str(initrd),
        "-append", "console=ttyS0 panic=-1 loglevel=4"
        + (" rescue.keep_tmp" if REPO.is_relative_to("/tmp") else ""),
        "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,"
        "multidevs=remap",
        "-virtfs", f"local,path={results},mount_tag=results,security_model=none",
        "-drive", f"if=none,id=idecd,media=cdrom,readonly=on,file={iso}",
        "-device", "ahci,id=ahci", "-device", f"ide-cd,bus=ahci.0,drive=idecd,ver={IDE_CD_REV}",
        "-drive", f"if=none,id=scsicd,media=cdrom,readonly=on,file={iso}",
        "-device", "virtio-scsi-pci,id=vscsi",
        "-device", f"scsi-cd,bus=vscsi.0,drive=scsicd,vendor={scsi['vendor']},"
        f"product={scsi['product']},ver={scsi['rev']}",
    ]  # fmt: skip


@dataclass
class GuestRun:
    """The outcome of one boot: the command's exit code and what it left behind."""

    returncode: int
    results: Path
    console: str
    wall_seconds: float
    timings: dict[str, float] = field(default_factory=dict)


def _fresh_bytecode() -> None:
    """Bring the package's .pyc files up to date on the host before the boot.

    The guest sees the repo read-only (and runs with PYTHONDONTWRITEBYTECODE), so a module
    whose .pyc is stale is compiled again by every guest command: under TCG that is seconds
    of each `rescue` start-up, and a timing taken in the guest would measure the compiler.
    An installed package has its .pyc written at install time; this gives the guest the same.
    """
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "rescue")],
        stdin=subprocess.DEVNULL, capture_output=True, check=False,
    )  # fmt: skip


def run_in_guest(command: str, results: Path, timeout: float = 480.0) -> GuestRun:
    """Boot once, run COMMAND (a shell line, cwd = the repo) inside, power off.

    RESULTS becomes the guest's $RESCUE_RESULTS (writable); everything the
    command writes there survives the boot. A guest that does not power off
    within TIMEOUT seconds is killed and reported with its console.
    """
    dk = _load_debian_kernel()
    try:
        tree = dk.fetch_kernel(cache_root() / "kernel")
    except dk.KernelError as err:
        raise GuestError(f"kernel: {err}") from None
    vm_cache = cache_root() / "vm"
    initrd = build_initramfs(tree, vm_cache)
    iso = build_iso(vm_cache)
    results.mkdir(parents=True, exist_ok=True)
    _fresh_bytecode()
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in guest_env().items())
    (results / "cmd.sh").write_text(
        f"cd {shlex.quote(str(REPO))} || exit 99\nexport {env}\n{command}\n"
    )
    (results / "rc").unlink(missing_ok=True)
    console = results / "console.log"
    cmd = qemu_command(tree.vmlinuz, initrd, iso, results, console)
    started = time.monotonic()
    try:
        qemu = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout, check=False)  # fmt: skip
    except FileNotFoundError:
        raise GuestError(f"{cmd[0]} is not installed (see build/apt-packages.txt)") from None
    except subprocess.TimeoutExpired:
        raise GuestError(f"guest did not finish within {timeout:g} s", _read(console)) from None
    wall = time.monotonic() - started
    log = _read(console)
    rc_file = results / "rc"
    if not rc_file.is_file():
        raise GuestError(
            f"guest powered off without running the command (QEMU exit {qemu.returncode})",
            f"{log}\n--- QEMU stderr ---\n{qemu.stderr}",
        )
    return GuestRun(int(rc_file.read_text().strip()), results, log, wall, _timings(log))


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.is_file() else "(no console output)"


_READY = re.compile(r"rescue-init: ready at ([0-9.]+) s")
_DONE = re.compile(r"rescue-init: command exited -?[0-9]+ at ([0-9.]+) s")


def _timings(console: str) -> dict[str, float]:
    """Guest uptimes from /init's 'ready at' and 'exited ... at' lines."""
    found: dict[str, float] = {}
    for key, pattern in (("ready", _READY), ("done", _DONE)):
        match = pattern.search(console)
        if match:
            found[key] = float(match.group(1))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a shell command in the test guest.")
    parser.add_argument("--timeout", type=float, default=480.0)
    parser.add_argument("--results", type=Path, help="results directory (default: a temp dir)")
    parser.add_argument("command", nargs="+", help="command line, run in the repo inside")
    args = parser.parse_args(argv)
    results = args.results or Path(tempfile.mkdtemp(prefix="rescue-guest-"))
    try:
        run = run_in_guest(shlex.join(args.command), results, args.timeout)
    except GuestError as err:
        print(err.console[-4000:], file=sys.stderr)
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(run.console)
    print(f"harness: exit {run.returncode}, wall {run.wall_seconds:.1f} s, guest {run.timings}, "
          f"results in {results}")  # fmt: skip
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
