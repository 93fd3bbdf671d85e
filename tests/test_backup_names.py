"""A backup's .sha256 file checks with `sha256sum -c` whatever the name holds.

GNU's format escapes a backslash or newline in the name and marks such a line
with a leading backslash; an unescaped newline split the line in two and the
check failed ("improperly formatted"), so the backup looked damaged.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from rescue.cli import main


@pytest.mark.parametrize("name", ["plain.bin", "new\nline.bin", "back\\slash.bin", "sp ace.bin"])
def test_sha256sum_checks_the_backup_whatever_its_name(bench: Path, name: str) -> None:
    assert shutil.which("sha256sum"), "coreutils' sha256sum is part of every Debian"
    out = bench / "out"
    out.mkdir()
    assert main(["backup", "emu:tsst-se506cb,disc=none", "-o", str(out / name)]) == 0
    done = subprocess.run(
        ["sha256sum", "-c", f"{name}.sha256"], cwd=out, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK" in done.stdout
