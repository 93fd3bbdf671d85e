"""One way to run a build tool, shared by every step of the image build.

Why one: each step (root file system, libcrypto stub, the image writers)
reports a failed tool the same way, as one line naming the command and the
tool's last words, raised as that step's own error class so iso.build can
tell the user which step stopped. A missing tool points at the package list
the build installs from.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path


def run(
    cmd: list[str],
    error: type[Exception],
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> str:
    """CMD's standard output; a missing tool or a non-zero exit raises ERROR (one line)."""
    try:
        done = subprocess.run(
            cmd, input=stdin, env=env, cwd=cwd, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise error(f"`{cmd[0]}` is not installed (see build/apt-packages.txt)") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise error(f"`{' '.join(cmd[:3])}` failed: {last}")
    return done.stdout
