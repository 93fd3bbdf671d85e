"""Which shared libraries a program needs, so the image carries exactly those.

Why ldd: the image is built on the same Debian release it boots (docs/testbed.md:
the frozen app must see the glibc it was built against), so the host's
dynamic loader resolves each library to the very file the image must carry.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
_RESOLVED = re.compile(r"=>\s+(\S+)\s+\(0x[0-9a-f]+\)")
_LOADER = re.compile(r"^\s*(/\S+)\s+\(0x[0-9a-f]+\)")
_MISSING = re.compile(r"^\s*(\S+)\s+=>\s+not found")


class MissingLibrary(Exception):
    """A program in the image links a library the build host does not have."""


def is_elf(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as fh:
        return fh.read(4) == ELF_MAGIC


def parse_ldd(text: str, program: str = "program") -> list[Path]:
    """Library paths in ldd's output (the loader included); vdso lines carry none."""
    found: list[Path] = []
    for line in text.splitlines():
        missing = _MISSING.match(line)
        if missing:
            raise MissingLibrary(f"{program} needs {missing.group(1)}, which is not installed")
        match = _RESOLVED.search(line) or _LOADER.match(line)
        if match:
            found.append(Path(match.group(1)))
    return found


def libraries(program: Path, search: Iterable[Path] = ()) -> list[Path]:
    """Shared libraries PROGRAM loads; SEARCH directories take precedence (LD_LIBRARY_PATH)."""
    env = dict(os.environ, LC_ALL="C")
    dirs = [str(d) for d in search]
    if dirs:
        env["LD_LIBRARY_PATH"] = ":".join(dirs)
    done = subprocess.run(
        ["ldd", str(program)], capture_output=True, text=True, env=env, check=False
    )
    if "not a dynamic executable" in done.stderr + done.stdout:
        return []
    if "statically linked" in done.stdout:
        return []
    if done.returncode != 0:
        raise MissingLibrary(f"ldd {program} failed: {done.stderr.strip()}")
    return parse_ldd(done.stdout, str(program))
