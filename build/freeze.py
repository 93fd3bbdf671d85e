"""Freeze the `rescue` CLI into dist/rescue/ (PyInstaller onedir) for the boot image.

Why freeze at all: the image then needs no Python installation, only the
frozen tree and the few system libraries its ELF files link (the image
builder resolves those with ldd). Why reproducible: the ISO is checked to be
byte-identical across builds, so this step must be too. PyInstaller's
documented recipe is a fixed PYTHONHASHSEED (set before its interpreter
starts, hence the subprocess) plus SOURCE_DATE_EPOCH for timestamps.

Why an interpreter of its own: PyInstaller ships the libpython of the Python it
runs under. The project's venv is made with the distribution's interpreter
(Makefile: it starts twice as fast, libpython linked in and built with PGO),
whose shared libpython is 7.7 MB; the `python3` on PATH (here pyenv's, built
without PGO) has a 5.7 MB one, and only with that does the image stay under
its 25 MB target (docs/image.md, "The frozen app's interpreter"). So
PyInstaller runs in out/freeze-venv, made from $RESCUE_FREEZE_PYTHON or else
the `python3` on PATH, with the app's dependencies from pyproject.toml and
PyInstaller; rescue itself comes from the source tree (build/rescue.spec's
pathex). The venv is made again when that interpreter or pyproject.toml
changes.

Run: `python build/freeze.py [--dist DIR] [--epoch SECONDS]`; prints the path of
the frozen executable.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "build" / "rescue.spec"
PYPROJECT = ROOT / "pyproject.toml"
FREEZE_VENV = ROOT / "out" / "freeze-venv"
# What the freeze venv was made from: the base interpreter and pyproject.toml's digest.
FREEZE_STAMP = ".made-from"
# 2026-01-01T00:00:00Z: any fixed instant works; overridden by $SOURCE_DATE_EPOCH.
DEFAULT_EPOCH = 1767225600

# Modules PyInstaller's import scan finds but the tool never runs (build/rescue.spec
# leaves them out; docs/image.md weighs them). A module belongs here only if no
# rescue module imports it and importing every rescue module does not load it
# (tests/test_iso_freeze.py holds both), so only lazy imports in features the tool
# does not call can reach them.
EXCLUDES = (
    # Test and developer tools.
    "tkinter", "unittest", "pydoc", "pytest", "hypothesis",
    # rich's syntax highlighting and Markdown, which the CLI never renders (4.5 MB).
    "pygments", "markdown_it", "mdurl",
    # No network: without OpenSSL's _hashlib, hashlib uses its built-in SHA-2, so the
    # app ships no libssl and needs no libcrypto of its own.
    "ssl", "_ssl", "_hashlib",
    "http", "urllib.request", "email", "xmlrpc", "ftplib", "netrc", "mimetypes", "quopri",
    # XML (pyexpat is 0.2 MB) and archives: the tool writes JSON, HTML and raw images.
    # shutil (tempfile's, argparse's) tries bz2 and lzma for its archive formats and
    # carries on without them; zipfile came only with PyInstaller's inspect hook.
    "xml", "pyexpat", "plistlib", "tarfile", "gzip", "zipfile",
    "bz2", "_bz2", "lzma", "_lzma", "_compression",
    # ASCII and UTF-8 only (the one use of character categories is a fixed set in
    # rescue/diagnostics/render/fields.py): no unicodedata, no CJK codecs (2 MB).
    "unicodedata", "_multibytecodec", "_codecs_jp", "_codecs_kr", "_codecs_cn",
    "_codecs_tw", "_codecs_hk", "_codecs_iso2022",
    # decimal's pure-Python fallback (the C _decimal is there), statistics, and
    # rich's theme files (configparser) and platform report.
    "_pydecimal", "statistics", "_statistics", "configparser", "csv", "_csv",
    "tracemalloc", "py_compile",
)  # fmt: skip

# PyInstaller's run-time hooks (its rthooks.dat names them) run before rescue's own
# code at every start, one for each listed module the build collects; these three
# are left out of the start (build/rescue.spec), each for what it imported at every
# start for a case rescue does not have (docs/image.md measures them).
RUNTIME_HOOKS_LEFT_OUT = (
    # Diverts the children that "spawn" and "forkserver" start by running the
    # executable again; rescue forks only (tests/test_iso_freeze.py holds it), and
    # importing multiprocessing draws an authkey with a blocking getrandom(), which
    # in the booted image waits for the kernel's random pool.
    "pyi_rth_multiprocessing",
    # Makes inspect.getsourcefile find modules inside the PYZ archive or
    # base_library.zip; rescue asks for no source file, and with noarchive there is
    # no archive. It imported inspect (ast, dis, tokenize) and zipfile (shutil,
    # pathlib, urllib.parse, ipaddress).
    "pyi_rth_inspect",
    # Makes pkgutil.iter_modules list the modules inside the PYZ archive; rescue lists
    # none (its one pkgutil call, get_data, asks the module's own loader). It
    # imported pkgutil and with it typing, re and importlib.util.
    "pyi_rth_pkgutil",
)


def startup_scripts(scripts: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """SCRIPTS (PyInstaller's Analysis.scripts: its bootstrap, the run-time hooks, then
    rescue's entry point) without RUNTIME_HOOKS_LEFT_OUT."""
    return [entry for entry in scripts if entry[0] not in RUNTIME_HOOKS_LEFT_OUT]


class FreezeError(Exception):
    """A one-line reason the frozen app could not be produced."""


def source_epoch() -> int:
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(value) if value.isdigit() else DEFAULT_EPOCH


def freeze_requirements(pyproject: str) -> list[str]:
    """The app's run-time dependencies and the `freeze` extra (PyInstaller), from the
    text of a pyproject.toml."""
    project = tomllib.loads(pyproject)["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["freeze"]]


def _run(cmd: list[str], what: str, env: dict[str, str] | None = None) -> str:
    """Run CMD; its stdout, or FreezeError naming WHAT with the last lines of its stderr."""
    try:
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    except OSError as err:
        raise FreezeError(f"{what}: {cmd[0]} cannot be run ({err.strerror})") from None
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise FreezeError(f"{what} failed:\n{tail}")
    return done.stdout


def freeze_python(venv: Path = FREEZE_VENV) -> Path:
    """VENV's interpreter, the venv made (again) first when its base or pyproject changed."""
    base = os.environ.get("RESCUE_FREEZE_PYTHON") or shutil.which("python3") or "python3"
    where = _run([base, "-c", "import sys; print(sys.base_prefix, sys.version)"], base)
    pyproject = PYPROJECT.read_text()
    digest = hashlib.sha256(pyproject.encode()).hexdigest()
    made_from = f"{where.strip()}\n{digest}\n"
    python = venv / "bin" / "python"
    stamp = venv / FREEZE_STAMP
    if python.exists() and stamp.is_file() and stamp.read_text() == made_from:
        return python
    _run([base, "-m", "venv", "--clear", str(venv)], f"making {venv}")
    install = [str(python), "-m", "pip", "install", "-q", *freeze_requirements(pyproject)]
    _run(install, f"installing PyInstaller and the app's dependencies into {venv}")
    stamp.write_text(made_from)
    return python


def freeze(dist: Path, work: Path, epoch: int) -> Path:
    """Run PyInstaller on the spec; return DIST/rescue/rescue."""
    python = freeze_python()
    env = dict(os.environ, PYTHONHASHSEED="0", SOURCE_DATE_EPOCH=str(epoch))
    shutil.rmtree(dist / "rescue", ignore_errors=True)
    cmd = [
        str(python), "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level=WARN",
        "--distpath", str(dist), "--workpath", str(work), str(SPEC),
    ]  # fmt: skip
    _run(cmd, "PyInstaller", env)
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
