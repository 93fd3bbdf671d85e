"""build/ensure_deps.py, the set-up step every make target runs first, without apt-get.

What is checked here, in-process: the package list parses and names every section the
Makefile asks for; each target asks for its sections before its first command; the
decisions (update or not, root / sudo / the one-line refusal) from fake apt and dpkg
answers; and that with everything installed the real check is one dpkg-query, fast.
tests/fresh/test_fresh_machine.py runs the real thing in a fresh Debian 12 root.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "build"))

import ensure_deps  # noqa: E402

SECTIONS = ensure_deps.read_sections()

# Each target and the sections (plus `kernel`) it must ask for before its first command.
TARGETS = {
    "demo": ["venv"],
    "lint": ["venv"],
    "test-quick": ["venv", "quick"],
    "test": ["venv", "quick", "vm", "image", "kernel"],
    "bench": ["venv", "quick", "vm", "image", "kernel"],
    "test-vm": ["venv", "vm", "kernel"],
    "vm-kernel": ["venv", "vm", "kernel"],
    "iso": ["venv", "image", "kernel"],
    "usb": ["venv", "image", "kernel"],
    "pxe": ["venv", "image", "kernel"],
    "freeze": ["venv", "image", "kernel"],
}


class FakeSystem:
    """dpkg-query, apt-cache, apt-get and sudo as a fresh machine answers them."""

    def __init__(self, installed: set[str], known: dict[str, list[str]], sudo: bool = False):
        self.installed = set(installed)
        self.known = known  # package -> versions apt's lists offer
        self.sudo = sudo
        self.calls: list[list[str]] = []

    def __call__(self, cmd: list[str], **_: object) -> subprocess.CompletedProcess:
        self.calls.append(list(cmd))
        args = cmd[cmd.index("env") + 2 :] if "env" in cmd else cmd
        out, rc = "", 0
        if cmd[:2] == ["sudo", "-n"] and cmd[2:] == ["true"]:
            rc = 0 if self.sudo else 1
        elif args[0] == "dpkg-query":
            names = args[3:]
            out = "".join(f"{n}\tii \n" for n in names if n in self.installed)
            rc = 0 if all(n in self.installed for n in names) else 1
        elif args[:2] == ["apt-cache", "policy"]:
            for name in args[2:]:
                versions = self.known.get(name)
                if versions is None:
                    continue
                out += f"{name}:\n  Installed: (none)\n"
                out += f"  Candidate: {versions[0] if versions else '(none)'}\n  Version table:\n"
                out += "".join(
                    f"     {v} 500\n        500 http://x bookworm/main Packages\n" for v in versions
                )
        elif args[:2] == ["apt-get", "update"]:
            self.known.update(AFTER_UPDATE)
        elif args[:2] == ["apt-get", "install"]:
            wanted = [a for a in args[2:] if not a.startswith("-")]
            self.installed.update(w for w in wanted if w in self.known)
        return subprocess.CompletedProcess(cmd, rc, out, "")


AFTER_UPDATE = {"sg3-utils": ["1.46-3"], "gddrescue": ["1.27-1"], "python3-venv": ["3.11.2-1"]}


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Empty apt lists, a two-section package list, no kernel needed, root."""
    listing = tmp_path / "apt-packages.txt"
    listing.write_text("[venv]\npython3-venv\n[quick]  # peers\nsg3-utils\ngddrescue  # ddrescue\n")
    monkeypatch.setattr(ensure_deps, "PACKAGE_LIST", listing)
    lists = tmp_path / "lists"
    lists.mkdir()
    monkeypatch.setattr(ensure_deps, "APT_LISTS", lists)
    monkeypatch.setattr(ensure_deps.os, "geteuid", lambda: 0)
    monkeypatch.setattr(ensure_deps.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.delenv("RESCUE_NO_INSTALL", raising=False)
    return lists


def test_the_list_parses_and_has_every_section_a_target_asks_for() -> None:
    asked = {need for needs in TARGETS.values() for need in needs} - {"kernel"}
    assert asked <= SECTIONS.keys()
    assert "chromium" in SECTIONS["quick"] and "qemu-system-x86" not in SECTIONS["quick"]
    assert "qemu-system-x86" in SECTIONS["vm"] and "xorriso" in SECTIONS["image"]


def test_a_malformed_line_is_an_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "apt-packages.txt"
    bad.write_text("[quick]\nsg3-utils gddrescue\n")
    with pytest.raises(ensure_deps.DepsError, match=":2: expected"):
        ensure_deps.read_sections(bad)


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_each_target_runs_the_deps_step_with_its_sections_first(target: str) -> None:
    done = subprocess.run(
        ["make", "-n", "-s", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "MAKEFLAGS": ""},
    )
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    deps = [i for i, line in enumerate(lines) if "build/ensure_deps.py" in line]
    assert deps and deps[0] == 0, f"make {target} does not start with ensure_deps: {lines[:3]}"
    asked = set()
    for i in deps:
        asked.update(lines[i].split("ensure_deps.py", 1)[1].split()[2:])  # after --venv DIR
    assert asked == set(TARGETS[target]), f"make {target} asks for {sorted(asked)}"


def test_root_on_a_fresh_machine_updates_then_installs_what_is_missing(fresh: Path) -> None:
    system = FakeSystem(installed={"gddrescue"}, known={})
    ran = ensure_deps.ensure(["venv", "quick"], run=system, say=lambda _: None)
    assert ran == [
        "apt-get update",
        "apt-get install -y --no-install-recommends python3-venv sg3-utils",
    ]
    assert {"python3-venv", "sg3-utils"} <= system.installed
    assert sum(c[0] == "dpkg-query" for c in system.calls) == 2  # the check, the re-check


def test_filled_lists_that_offer_every_package_skip_the_update(fresh: Path) -> None:
    (fresh / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages").touch()
    system = FakeSystem(installed=set(), known=dict(AFTER_UPDATE))
    ran = ensure_deps.ensure(["quick"], run=system, say=lambda _: None)
    assert ran == ["apt-get install -y --no-install-recommends sg3-utils gddrescue"]


def test_lists_that_lack_a_package_are_updated_first(fresh: Path) -> None:
    (fresh / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages").touch()
    system = FakeSystem(installed=set(), known={"sg3-utils": ["1.46-3"]})
    ran = ensure_deps.ensure(["quick"], run=system, say=lambda _: None)
    assert ran[0] == "apt-get update"


def test_everything_installed_is_one_dpkg_query_and_nothing_else(fresh: Path) -> None:
    system = FakeSystem(installed={"python3-venv", "sg3-utils", "gddrescue"}, known={})
    assert ensure_deps.ensure(["venv", "quick"], run=system) == []
    assert [c[0] for c in system.calls] == ["dpkg-query"]


def test_a_finished_virtualenv_no_longer_needs_the_venv_section(
    fresh: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / ".installed").touch()
    system = FakeSystem(installed={"sg3-utils", "gddrescue"}, known={})
    assert ensure_deps.ensure(["venv", "quick"], venv=venv, run=system) == []


def test_a_user_with_passwordless_sudo_installs_through_it(
    fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ensure_deps.os, "geteuid", lambda: 1000)
    system = FakeSystem(installed=set(), known={}, sudo=True)
    ran = ensure_deps.ensure(["quick"], run=system, say=lambda _: None)
    assert all(r.startswith("sudo -n env DEBIAN_FRONTEND=noninteractive apt-get ") for r in ran)
    assert len(ran) == 2 and {"sg3-utils", "gddrescue"} <= system.installed


def test_a_user_without_sudo_gets_one_line_with_the_exact_command(
    fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ensure_deps.os, "geteuid", lambda: 1000)
    system = FakeSystem(installed=set(), known={}, sudo=False)
    with pytest.raises(ensure_deps.DepsError) as err:
        ensure_deps.ensure(["quick"], run=system)
    line = str(err.value)
    assert "\n" not in line
    assert (
        "`sudo apt-get update && sudo apt-get install -y --no-install-recommends "
        "sg3-utils gddrescue`" in line
    )
    assert not any(
        c[0] == "apt-get" or "apt-get" in c[2:4]
        for c in system.calls
        if c[0] == "sudo" and c[2:] != ["true"]
    )


def test_no_install_mode_never_runs_apt_get_even_as_root(
    fresh: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESCUE_NO_INSTALL", "1")
    system = FakeSystem(installed=set(), known={})
    with pytest.raises(ensure_deps.DepsError, match="run `sudo apt-get update"):
        ensure_deps.ensure(["quick"], run=system)
    assert not any("apt-get" in c for c in system.calls)


def test_the_pinned_kernel_missing_from_the_lists_means_update_then_fetch(
    fresh: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (fresh / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages").touch()
    monkeypatch.setenv("RESCUE_CACHE", str(tmp_path / "cache"))  # nothing cached
    lock = ensure_deps.read_lock()
    fetched = []
    monkeypatch.setattr(ensure_deps, "fetch_kernel", lambda lock: fetched.append(lock))
    system = FakeSystem(installed={"python3-venv"}, known={})
    AFTER_UPDATE[lock.package] = [lock.version]
    try:
        ran = ensure_deps.ensure(["venv", "kernel"], run=system, say=lambda _: None)
    finally:
        del AFTER_UPDATE[lock.package]
    assert ran == ["apt-get update", f"fetch {lock.package}={lock.version}"]
    assert fetched == [lock]


def test_a_kernel_the_archive_dropped_says_how_to_repin(
    fresh: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RESCUE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(ensure_deps, "debian", lambda: True)
    system = FakeSystem(installed=set(), known={})
    with pytest.raises(ensure_deps.DepsError, match="debian_kernel.py lock"):
        ensure_deps.ensure(["kernel"], run=system, say=lambda _: None)


def test_on_ubuntu_a_missing_pinned_kernel_names_the_debian_archive(
    fresh: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RESCUE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(ensure_deps, "debian", lambda: False)
    system = FakeSystem(installed=set(), known={})
    with pytest.raises(ensure_deps.DepsError, match="bookworm-security archive"):
        ensure_deps.ensure(["kernel"], run=system, say=lambda _: None)


def test_apt_cache_policy_parsing_knows_versions_and_missing_candidates() -> None:
    text = (
        "linux-image-6.1.0-56-amd64:\n  Installed: (none)\n  Candidate: 6.1.192-2\n"
        "  Version table:\n     6.1.192-2 500\n"
        "        500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages\n"
        "chromium:\n  Installed: (none)\n  Candidate: (none)\n  Version table:\n"
    )

    def run(cmd: list[str], **_: object) -> subprocess.CompletedProcess:
        return subprocess.CompletedProcess(cmd, 0, text, "")

    specs = [
        "linux-image-6.1.0-56-amd64=6.1.192-2",
        "linux-image-6.1.0-56-amd64=6.1.170-1",
        "chromium",
        "gone",
    ]
    assert ensure_deps.without_candidate(specs, run) == specs[1:]


def test_with_everything_installed_the_real_check_takes_well_under_a_second() -> None:
    """On this machine (the suite's packages are here, or the suite fails): no apt, fast.

    CPU time is what is held (python start, one dpkg-query): it does not grow with
    the load of a shared CI machine, the wall clock does (0.7-1 s at load 7 on 2 cores).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(ROOT / "build/ensure_deps.py"), "quick"],
        capture_output=True,
        text=True,
        env={**os.environ, "RESCUE_NO_INSTALL": "1"},
        check=False,
    )
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and not re.search("apt-get", done.stdout)
    assert cpu < 0.5, f"the all-installed check used {cpu:.2f} s of CPU"
    assert wall < 5, f"the all-installed check took {wall:.2f} s"
