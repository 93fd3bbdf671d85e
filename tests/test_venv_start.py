"""What every process started from the venv runs before rescue's own first line.

A ``.pth`` file in site-packages whose line starts with ``import`` is executed by
``site`` at every interpreter start (the site module's documentation, "lines starting
with import are executed"). setuptools installs one that imports ``_distutils_hack``;
``make setup`` removes it (Makefile, docs/performance.md). The editable install's
``.pth`` is a plain path, which costs a line's read and nothing more.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


def _site_packages() -> list[Path]:
    return [Path(p) for p in sys.path if p.endswith("site-packages") and p.startswith(sys.prefix)]


@pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="runs in the venv `make setup` made")
def test_no_pth_file_in_the_venv_runs_code_at_start() -> None:
    folders = _site_packages()
    assert folders, sys.path
    running = [
        f"{pth.name}: {line.strip()[:60]}"
        for folder in folders
        for pth in sorted(folder.glob("*.pth"))
        for line in pth.read_text(encoding="utf-8", errors="replace").splitlines()
        if line.startswith(("import ", "import\t"))
    ]
    assert running == []
