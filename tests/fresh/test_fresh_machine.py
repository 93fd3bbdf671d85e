"""The README's set-up claim on a fresh Debian 12: a clone, make, and nothing by hand.

A minimal bookworm root (debootstrap --variant=minbase, plus git, make and python3
and nothing else; apt's package lists empty, as on a fresh install) is built once
and cached as a tarball under $RESCUE_CACHE/fresh (default ~/.cache/rescue/fresh).
Each run unpacks it under out/fresh/, clones this repository into it (the set-up
files, build/ensure_deps.py, the Makefiles and these tests as they are in the
working tree), and runs make there in a chroot with private mounts (unshare):

- a user without sudo: `make test-quick` stops before any test with one line
  naming the exact apt-get command, and installs nothing;
- root: `make test-quick` (PYTEST_ARGS narrows it to the tests that need the
  [quick] packages, for time) installs [venv] and [quick] and passes, and installs
  no QEMU; then `make iso` installs [image], fetches the pinned kernel and builds
  out/rescue.iso.

Nothing but the .deb files and pip's wheels are reused between runs (bind-mounted
download caches); every package is still installed by the deps step, so these
tests fail as soon as it stops installing. Needs root (debootstrap, chroot,
unshare) and the Debian archive; CI runs it (`make test`). Timings of each step
go to out/fresh/timings.json.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "build"))

import ensure_deps  # noqa: E402

pytestmark = pytest.mark.vm  # slow, root, network: run by `make test` (CI), not test-quick

MIRROR = os.environ.get("RESCUE_DEBIAN_MIRROR", "http://deb.debian.org/debian")
SECURITY = os.environ.get("RESCUE_DEBIAN_SECURITY", "http://deb.debian.org/debian-security")
CACHE = Path(os.environ.get("RESCUE_CACHE") or Path.home() / ".cache" / "rescue") / "fresh"
BASE = CACHE / "bookworm-minbase-v1.tar"
WORK = ROOT / "out" / "fresh"
TIMINGS = WORK / "timings.json"
SETUP_FILES = [
    "Makefile",
    "tests/vm/rules.mk",
    "iso/rules.mk",
    "build/ensure_deps.py",
    "build/apt-packages.txt",
    "build/debian_kernel.py",
    "build/kernel.lock",
    "tests/fresh/test_ensure_deps.py",
    "tests/fresh/test_fresh_machine.py",
]
# The tests that fail without the [quick] packages, and these tests' own unit half.
QUICK_SELECTION = (
    "tests/test_sense_sg3.py tests/test_scsi_peer.py tests/test_mapfile_ddrescue.py "
    "tests/test_report_chromium.py tests/test_iso_rootfs.py tests/test_iso_image.py "
    "tests/fresh/test_ensure_deps.py"
)
# Not in a minimal bookworm (libudev1, for one, is): what the deps step must install.
FIRST_NEEDED = {"python3-venv", "gcc", "sg3-utils", "gddrescue", "chromium", "xorriso"}
# A Debian 12 install's own sources (debootstrap alone writes bookworm main only,
# and the pinned kernel is a security update).
SOURCES = f"""\
Types: deb
URIs: {MIRROR}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: {SECURITY}
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""
# Runs inside `unshare --mount`: the mounts vanish with it and never reach the host.
CHROOT = r"""
set -e
R=$1 C=$2 U=$3 S=$4
mount --rbind /dev "$R/dev"; mount --make-rslave "$R/dev"
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"; mount --make-rslave "$R/sys"
mkdir -p "$C/debs" "$C/pip" "$R/root/.cache/pip"
mount --bind "$C/debs" "$R/var/cache/apt/archives"
mount --bind "$C/pip" "$R/root/.cache/pip"
cp /etc/resolv.conf "$R/etc/resolv.conf"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp /etc/ssl/certs/ca-certificates.crt "$R/etc/host-ca.crt"  # pip behind this host's proxy
fi
exec chroot "$R" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C.UTF-8 TERM=dumb PIP_CERT=/etc/host-ca.crt \
  su -s /bin/sh -c "$S" "$U"
"""

timings: dict[str, float] = {}


def record(step: str, seconds: float) -> None:
    timings[step] = round(seconds, 1)
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    TIMINGS.write_text(json.dumps(timings, indent=2) + "\n")


def run(cmd: list[str], timeout: float = 600, **kw: object) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, **kw)


def inside(root: Path, script: str, user: str = "root", timeout: float = 1500) -> tuple[int, str]:
    """SCRIPT in the fresh root as USER (a login-less `su`), stdout and stderr together."""
    done = subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            CHROOT,
            "sh",
            str(root),
            str(CACHE),
            user,
            script,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done.returncode, done.stdout


def build_base() -> None:
    """debootstrap a minimal bookworm with git, make, python3; empty lists; cache it."""
    if not shutil.which("debootstrap"):
        pytest.fail("debootstrap is not installed (build/apt-packages.txt, section [vm])")
    CACHE.mkdir(parents=True, exist_ok=True)
    tree = CACHE / f".base-{os.getpid()}"
    shutil.rmtree(tree, ignore_errors=True)
    start = time.monotonic()
    done = run(
        [
            "debootstrap",
            "--variant=minbase",
            "--include=git,make,python3",
            "bookworm",
            str(tree),
            MIRROR,
        ],
        timeout=1200,
    )
    assert done.returncode == 0, f"debootstrap failed: {done.stdout[-1500:]}{done.stderr[-1500:]}"
    for deb in (tree / "var/cache/apt/archives").glob("*.deb"):
        deb.unlink()
    for index in (tree / "var/lib/apt/lists").iterdir():
        if index.is_file():
            index.unlink()
    (tree / "etc/apt/sources.list").unlink(missing_ok=True)
    (tree / "etc/apt/sources.list.d/debian.sources").write_text(SOURCES)
    partial = BASE.with_suffix(".partial")
    done = run(["tar", "-C", str(tree), "-cf", str(partial), "."])
    assert done.returncode == 0, done.stderr
    partial.rename(BASE)
    shutil.rmtree(tree)
    record("debootstrap (once, then cached)", time.monotonic() - start)


@pytest.fixture(scope="module")
def machine() -> Path:
    if os.geteuid() != 0:
        pytest.skip("needs root (debootstrap, chroot, unshare); CI runs it as root")
    if not BASE.is_file():
        build_base()
    root = WORK / f"root-{os.getpid()}"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    start = time.monotonic()
    done = run(["tar", "-C", str(root), "-xf", str(BASE)])
    assert done.returncode == 0, done.stderr
    src = root / "src"
    done = run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(src)])
    assert done.returncode == 0, done.stderr
    for name in SETUP_FILES:
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)
    record("unpack the root, clone", time.monotonic() - start)
    yield root
    shutil.rmtree(root, ignore_errors=True)  # the mounts lived in unshare's namespace only


def installed(root: Path, packages: list[str]) -> set[str]:
    code, out = inside(
        root,
        "dpkg-query -W -f='${Package} ${db:Status-Abbrev}\\n' "
        + " ".join(packages)
        + " 2>/dev/null; true",
        timeout=120,
    )
    return {line.split()[0] for line in out.splitlines() if line.split()[1:2] == ["ii"]}


def test_a_user_without_sudo_is_stopped_before_any_test_with_the_command(machine: Path) -> None:
    sections = ensure_deps.read_sections()
    before = installed(machine, sections["venv"] + sections["quick"])
    assert before.isdisjoint(FIRST_NEEDED), "the root is not fresh"
    code, out = inside(
        machine,
        "useradd -m tester && cp -a /src /home/tester/src && chown -R tester /home/tester/src",
        timeout=120,
    )
    assert code == 0, out
    start = time.monotonic()
    code, out = inside(machine, "cd ~/src && make test-quick", user="tester", timeout=300)
    record("make test-quick as a user without sudo (stops)", time.monotonic() - start)
    assert code != 0, out
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, out
    want = " ".join(p for p in sections["venv"] + sections["quick"] if p not in before)
    assert (
        f"`sudo apt-get update && sudo apt-get install -y --no-install-recommends {want}`"
        in (errors[0])
    ), errors[0]
    assert "pytest" not in out and not (machine / "home/tester/src/.venv").exists(), out
    assert installed(machine, sections["venv"] + sections["quick"]) == before


def test_make_test_quick_then_make_iso_as_root_install_what_they_need(machine: Path) -> None:
    sections = ensure_deps.read_sections()
    quick = sections["venv"] + sections["quick"]
    assert installed(machine, quick).isdisjoint(FIRST_NEEDED), "the root is not fresh"

    start = time.monotonic()
    code, out = inside(machine, f"cd /src && make test-quick PYTEST_ARGS='{QUICK_SELECTION}'")
    record("make test-quick (narrowed) as root, from nothing", time.monotonic() - start)
    assert code == 0, out[-4000:]
    assert "ensure_deps: apt-get update" in out, "fresh lists must be updated first"
    assert re.search(r"ensure_deps: apt-get install -y --no-install-recommends python3-venv", out)
    summary = re.search(r"(\d+) passed(.*) in [\d.]+s", out)
    assert summary and int(summary.group(1)) > 100, out[-2000:]
    assert not re.search(r"failed|error|skipped", summary.group(2)), summary.group(0)
    assert installed(machine, quick) == set(quick)
    only_vm = [p for p in sections["vm"] if p not in quick and p not in sections["image"]]
    assert not installed(machine, only_vm), "test-quick installed the QEMU test bed's packages"

    start = time.monotonic()
    code, out = inside(machine, "cd /src && make deps-quick")
    took = time.monotonic() - start
    record("make deps-quick again (all installed)", took)
    assert code == 0 and "ensure_deps:" not in out, out

    start = time.monotonic()
    code, out = inside(machine, "cd /src && make iso", timeout=2400)
    record("make iso as root, after test-quick", time.monotonic() - start)
    assert code == 0, out[-4000:]
    lock = ensure_deps.read_lock()
    assert f"ensure_deps: fetching the pinned kernel {lock.package}={lock.version}" in out
    assert installed(machine, sections["image"]) == set(sections["image"])
    iso = machine / "src/out/rescue.iso"
    assert iso.is_file() and iso.stat().st_size > 20 << 20, out[-2000:]
