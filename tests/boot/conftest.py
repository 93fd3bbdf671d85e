"""One image build per test session (conftest.py: the fixture only; helpers in bootvm.py).

Why once: freezing, assembling and packing take most of a minute; every test
then masters only its own ISO variant (a few seconds), which differs from
`make iso` just in the kernel arguments it appends.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "build"))

import freeze  # noqa: E402

from iso import build  # noqa: E402


@pytest.fixture(scope="session")
def boot_files(tmp_path_factory: pytest.TempPathFactory) -> build.BootFiles:
    stage = tmp_path_factory.mktemp("image-stage")
    return build.build_boot_files(stage, freeze.source_epoch())
