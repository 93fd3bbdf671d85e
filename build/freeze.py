"""Freeze the `rescue` CLI into dist/rescue/ (PyInstaller onedir) for the boot image.

Why freeze at all: the image then needs no Python installation, only the
frozen tree and the few system libraries its ELF files link (the image
builder resolves those with ldd). Why reproducible: the ISO is checked to be
byte-identical across builds, so this step must be too. PyInstaller's
documented recipe is a fixed PYTHONHASHSEED (set before its interpreter
starts, hence the subprocess) plus SOURCE_DATE_EPOCH for timestamps.

Run: `python build/freeze.py [--dist DIR] [--epoch SECONDS]`; prints the path of
the frozen executable.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "build" / "rescue.spec"
# 2026-01-01T00:00:00Z: any fixed instant works; overridden by $SOURCE_DATE_EPOCH.
DEFAULT_EPOCH = 1767225600


class FreezeError(Exception):
    """A one-line reason the frozen app could not be produced."""


def source_epoch() -> int:
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(value) if value.isdigit() else DEFAULT_EPOCH


def freeze(dist: Path, work: Path, epoch: int) -> Path:
    """Run PyInstaller on the spec; return DIST/rescue/rescue."""
    env = dict(os.environ, PYTHONHASHSEED="0", SOURCE_DATE_EPOCH=str(epoch))
    shutil.rmtree(dist / "rescue", ignore_errors=True)
    cmd = [
        sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level=WARN",
        "--distpath", str(dist), "--workpath", str(work), str(SPEC),
    ]  # fmt: skip
    try:
        done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise FreezeError(f"{sys.executable} cannot be run") from None
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise FreezeError(f"PyInstaller failed (pip install pyinstaller?):\n{tail}")
    exe = dist / "rescue" / "rescue"
    if not exe.is_file():
        raise FreezeError(f"PyInstaller finished but {exe} is missing")
    return exe


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output directory")
    parser.add_argument(
        "--work", type=Path, default=ROOT / "out" / "pyinstaller", help="scratch directory"
    )
    parser.add_argument("--epoch", type=int, default=None, help="timestamp for the build")
    args = parser.parse_args(argv)
    try:
        exe = freeze(args.dist, args.work, source_epoch() if args.epoch is None else args.epoch)
    except FreezeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(exe)
    return 0


if __name__ == "__main__":
    sys.exit(main())
