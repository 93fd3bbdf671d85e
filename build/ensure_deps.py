"""Install what a make target needs on Debian / Ubuntu, or say in one line how to.

    python3 build/ensure_deps.py [--venv DIR] NEED...

NEED is a section of build/apt-packages.txt (`venv`, `quick`, `vm`, `image`) or
`kernel` (the pinned kernel of build/kernel.lock, fetched into the cache by
build/debian_kernel.py). The Makefile calls this before every target that
needs more than Python, so the README's commands do all the set-up.

When everything is there it costs one `dpkg-query` for all packages and one
file check for the kernel: well under a second. Otherwise, as root it runs
`apt-get install` (after `apt-get update` when the package lists are empty or
name no candidate for a needed package or for the pinned kernel); as another
user it does the same through `sudo -n` when sudo needs no password; else it
stops, exit 1, with one line naming the exact command to run.

`--venv DIR`: the `venv` section (python3-venv, for `python3 -m venv`) is only
needed until DIR/.installed exists. RESCUE_NO_INSTALL=1 only checks: it never
runs apt-get and always stops with the line. Standard library only: it runs
with the system python3 before the virtualenv exists.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from debian_kernel import (  # noqa: E402
    COMPLETE_MARK,
    KernelError,
    KernelLock,
    default_cache_dir,
    fetch_kernel,
    read_lock,
)

PACKAGE_LIST = Path(__file__).resolve().with_name("apt-packages.txt")
APT_LISTS = Path("/var/lib/apt/lists")
APT_INSTALL = ["apt-get", "install", "-y", "--no-install-recommends"]
KERNEL = "kernel"

Runner = Callable[..., subprocess.CompletedProcess]


class DepsError(Exception):
    """One line: what is missing and the exact command that provides it."""


def read_sections(path: Path | None = None) -> dict[str, list[str]]:
    """`[name]` headers, then one package a line; `#` starts a comment."""
    path = path or PACKAGE_LIST
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        header = re.fullmatch(r"\[([a-z0-9-]+)\]", line)
        if header:
            current = sections.setdefault(header.group(1), [])
        elif current is None or not re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", line):
            raise DepsError(f"{path}:{number}: expected `[section]` or one package name: {raw!r}")
        elif line not in current:
            current.append(line)
    return sections


def wanted(sections: dict[str, list[str]], needs: Sequence[str]) -> list[str]:
    """The packages of NEEDS' sections, each once, in file order."""
    unknown = [n for n in needs if n != KERNEL and n not in sections]
    if unknown:
        raise DepsError(f"no section {unknown} in {PACKAGE_LIST} (known: {sorted(sections)})")
    packages: list[str] = []
    for need in needs:
        for package in sections.get(need, []):
            if package not in packages:
                packages.append(package)
    return packages


def missing_packages(packages: Sequence[str], run: Runner = subprocess.run) -> list[str]:
    """The PACKAGES dpkg does not have installed, from one dpkg-query call."""
    if not packages:
        return []
    done = run(
        ["dpkg-query", "-W", "-f=${Package}\\t${db:Status-Abbrev}\\n", *packages],
        capture_output=True,
        text=True,
        check=False,
    )
    installed = set()
    for line in done.stdout.splitlines():
        name, _, status = line.partition("\t")
        if status.startswith("ii"):
            installed.add(name.split(":")[0])
    return [p for p in packages if p not in installed]


def kernel_cached(lock: KernelLock) -> bool:
    mark = default_cache_dir() / lock.version / COMPLETE_MARK
    return mark.is_file() and mark.read_text().strip() == lock.sha256


def lists_empty(lists: Path | None = None) -> bool:
    """No package index at all: apt has never run `update` here (a fresh install or image)."""
    return not any((lists or APT_LISTS).glob("*_Packages*"))


def without_candidate(specs: Sequence[str], run: Runner = subprocess.run) -> list[str]:
    """The SPECS (`pkg` or `pkg=version`) apt cannot install from its current lists."""
    if not specs:
        return []
    names = [s.split("=", 1)[0] for s in specs]
    done = run(["apt-cache", "policy", *names], capture_output=True, text=True, check=False)
    versions: dict[str, set[str]] = {}
    current = None
    for line in done.stdout.splitlines():
        if re.fullmatch(r"\S+:", line):
            current = versions.setdefault(line[:-1].split(":")[0], set())
        elif current is not None:
            if m := re.match(r"\s+Candidate: (\S+)", line):
                if m.group(1) != "(none)":
                    current.add("candidate")
            elif m := re.match(r"\s+(?:\*\*\* )?(\S+) \d+$", line):
                current.add(m.group(1))  # a version line of the version table
    lacking = []
    for spec, name in zip(specs, names, strict=True):
        have = versions.get(name, set())
        version = spec.partition("=")[2]
        if (version and version not in have) or (not version and "candidate" not in have):
            lacking.append(spec)
    return lacking


def debian(os_release: Path = Path("/etc/os-release")) -> bool:
    try:
        return re.search(r"^ID=\"?debian\"?$", os_release.read_text(), re.M) is not None
    except OSError:
        return False


def privilege(run: Runner = subprocess.run) -> list[str] | None:
    """[] as root, ["sudo", "-n"] when sudo asks no password, None when neither."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo"):
        done = run(["sudo", "-n", "true"], capture_output=True, check=False)
        if done.returncode == 0:
            return ["sudo", "-n"]
    return None


def ensure(
    needs: Sequence[str],
    venv: Path | None = None,
    run: Runner = subprocess.run,
    say: Callable[[str], None] = lambda text: print(text, file=sys.stderr, flush=True),
) -> list[str]:
    """Make NEEDS true; return the commands run. Raises DepsError with the one line."""
    sections = read_sections()
    needs = list(needs)
    if venv is not None and (venv / ".installed").exists():
        needs = [n for n in needs if n != "venv"]
    packages = wanted(sections, needs)
    if not shutil.which("dpkg-query"):
        say(f"ensure_deps: no dpkg here; install the equivalents of {PACKAGE_LIST.name} yourself")
        packages = []
    missing = missing_packages(packages, run)
    lock = read_lock() if KERNEL in needs else None
    kernel_spec = f"{lock.package}={lock.version}" if lock and not kernel_cached(lock) else None
    if not missing and not kernel_spec:
        return []

    update = lists_empty() or bool(without_candidate([*missing, *filter(None, [kernel_spec])], run))
    commands: list[list[str]] = []
    if update:
        commands.append(["apt-get", "update"])
    if missing:
        commands.append([*APT_INSTALL, *missing])

    prefix = privilege(run) if commands else []
    if commands and (prefix is None or os.environ.get("RESCUE_NO_INSTALL") == "1"):
        line = " && ".join(" ".join(["sudo", *c]) for c in commands)
        what = f"Debian packages {' '.join(missing)}" if missing else ""
        if kernel_spec and update:
            what += (" and " if what else "") + f"apt lists naming {kernel_spec}"
        raise DepsError(f"missing {what}: run `{line}`, then the make command again")

    ran: list[str] = []
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in commands:
        full = [*prefix, *command]
        say(f"ensure_deps: {' '.join(full)}")
        if prefix:  # sudo resets the environment; env(1) passes the frontend through
            full = [*prefix, "env", "DEBIAN_FRONTEND=noninteractive", *command]
        done = run(full, env=env, check=False)
        ran.append(" ".join(full))
        if done.returncode != 0:
            raise DepsError(f"`{' '.join(full)}` failed (exit {done.returncode})")
    still = missing_packages(missing, run)
    if still:
        raise DepsError(f"still not installed after apt-get: {' '.join(still)}")
    if kernel_spec:
        if without_candidate([kernel_spec], run):
            if not debian():
                raise DepsError(
                    f"the pinned kernel {kernel_spec} is a Debian bookworm package and this "
                    "machine's apt sources do not offer it: add Debian's bookworm-security "
                    "archive to them, or build on Debian 12"
                )
            raise DepsError(
                f"the archive no longer offers the pinned kernel {kernel_spec}: run "
                "`python3 build/debian_kernel.py lock` and commit build/kernel.lock"
            )
        say(f"ensure_deps: fetching the pinned kernel {kernel_spec}")
        try:
            fetch_kernel(lock=lock)
        except KernelError as err:
            raise DepsError(str(err)) from None
        ran.append(f"fetch {kernel_spec}")
    return ran


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", type=Path, help="no venv section once DIR/.installed exists")
    parser.add_argument("needs", nargs="+", metavar="NEED")
    args = parser.parse_args(argv)
    try:
        ensure(args.needs, args.venv)
    except DepsError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
