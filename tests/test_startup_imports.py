"""Start-up: a command imports only what it uses (issue 15, item 3).

Each case runs ``rescue.cli.main`` in a fresh interpreter and lists the modules
it loaded: `--version`, `explain` and `list --emulated` load no console
renderer they do not print with, no other command's module, no engine, no
diagnostics and no kernel emulation. Nothing here is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest

from rescue import cli

#: What no light command loads: the flash engine, the diagnostics, the families'
#: protocols, the device layer and the kernel-backed emulation.
HEAVY = ("rescue.engine", "rescue.diagnostics", "rescue.families", "rescue.emulator.tcmu",
         "rescue.transport", "rescue.devices", "rescue.drive", "rescue.menu", "rescue.bench")


def loaded(*argv: str, setup: str = "") -> tuple[str, set[str]]:
    """What ``rescue ARGV`` prints, and every module it imported, from a new interpreter
    (after SETUP, code that stands in for the machine, e.g. a drive in sysfs)."""
    code = (
        "import contextlib, io, json, sys\n"
        f"{setup}"
        "from rescue.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    code = main({list(argv)!r})\n"
        "print(json.dumps([code, out.getvalue(), sorted(sys.modules)]))\n"
    )
    # no terminal anywhere and no size or colour from the environment: the layout is rich's 80
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=env,
    )
    status, out, modules = json.loads(done.stdout)
    assert status == 0, done.stderr
    return out, set(modules)


def under(modules: set[str], *packages: str) -> set[str]:
    return {m for m in modules if any(m == p or m.startswith(p + ".") for p in packages)}


def test_version_loads_no_command_and_no_renderer() -> None:
    out, modules = loaded("--version")
    assert out.startswith("rescue ")
    assert not under(modules, "rich", "rescue.ops", "argparse", *HEAVY)  # (json: this harness)


def test_python_m_rescue_is_the_rescue_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rescue", "--version"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.startswith("rescue ")


@pytest.mark.parametrize("argv", [["explain", "5/20/0"], ["explain", "--json", "5/20/0"]])
def test_explain_prints_without_rich(argv: list[str]) -> None:
    out, modules = loaded(*argv)
    assert "INVALID COMMAND OPERATION CODE" in out
    assert not under(modules, "rich", *HEAVY)
    # the T10 table is read through its package's loader, not importlib.resources (which
    # brings tempfile, random, zipfile and threading with it)
    assert not under(modules, "importlib.resources", "tempfile", "zipfile")
    assert not under(modules, "rescue.emulator")
    assert under(modules, "rescue.ops") == {"rescue.ops", "rescue.ops.explain"}


def test_explain_output_is_the_readme_example() -> None:
    out, _ = loaded("explain", "5/20/0")
    assert out == (
        "  sense        5/20/00  (triple)\n"
        "  key          5h ILLEGAL REQUEST\n"
        "  ASC/ASCQ     20h/00h INVALID COMMAND OPERATION CODE\n"
        "  meaning      the drive's running firmware does not implement this command\n"
        "  next step    check that this drive family uses this protocol; the drive may\n"
        "               need a different mode (e.g. its boot loader) to accept it\n"
    )


@pytest.mark.parametrize("argv", [["list", "--emulated"], ["list", "--emulated", "--json"]])
def test_list_emulated_loads_only_the_model_registry(argv: list[str]) -> None:
    out, modules = loaded(*argv)
    assert "emu:generic-dvd" in out
    assert not under(modules, "rich.progress", "rich.live", *HEAVY)
    assert under(modules, "rescue.ops") == {"rescue.ops", "rescue.ops.inventory"}
    if "--json" in argv:
        assert not under(modules, "rich")


@pytest.mark.parametrize("argv", [["list"], ["list", "--json"]])
def test_list_reads_sysfs_only(argv: list[str]) -> None:
    """The host's drives (none in a container): discovery, no renderer."""
    _, modules = loaded(*argv)
    assert not under(modules, "rich", "rescue.emulator", *HEAVY)
    assert under(modules, "rescue.ops") == {"rescue.ops", "rescue.ops.inventory"}


#: A drive in the machine, for a fresh interpreter: discovery answers with one inventory.
ONE_DRIVE = (
    "import rescue.discovery as d\n"
    "from rescue.discovery.model import DriveNode, Inventory\n"
    "found = Inventory('sysfs', [DriveNode(0, '1:0:0:0', '/dev/sr0', '/dev/sg0', 'HL-DT-ST',\n"
    "                                      'DVDRAM GH24NSD1', 'LG00', 'sata', 'sr')])\n"
    "d.discover = lambda include_all=False: found\n"
)


def test_list_draws_its_table_without_rich() -> None:
    """The table is plain text (rescue.plaintable): no console renderer, no engine."""
    out, modules = loaded("list", setup=ONE_DRIVE)
    assert "DVDRAM GH24NSD1" in out and "/dev/sg0" in out
    fields = "rescue.diagnostics.render.fields"  # the reports' cleaner of drive strings
    cleaner = {fields.rsplit(".", n)[0] for n in range(3)}  # and its two packages
    assert not under(modules, "rich", "rescue.emulator", *HEAVY) - cleaner


# --- which parser a command line gets ------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["explain", "5/20/0"], "explain"),
        (["--drives", "t.json", "list"], "list"),
        (["--drives=t.json", "info", "emu:generic-dvd"], "info"),
        (["--dri", "list", "scan"], "scan"),  # an abbreviation of --drives takes its FILE
        (["fw", "inspect", "x.bin"], "fw"),
        (["list", "--help"], "list"),
        ([], None),
        (["--help"], None),
        (["-h", "list"], None),
        (["--he", "list"], None),
        (["--version"], None),
        (["nosuch", "list"], None),
        (["--drives", "list"], None),
        (["--", "list"], None),
        (["-", "list"], None),
        (["-1", "list"], None),
    ],
)
def test_command_named(argv: list[str], command: str | None) -> None:
    assert cli.command_named(argv) == command


def _choices(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_the_command_table_names_every_command_of_the_full_parser() -> None:
    full = _choices(cli.build_parser())
    assert set(full) == set(cli.COMMAND_MODULES)
    assert set(cli.COMMAND_MODULES.values()) == set(cli.COMMANDS)
    for name in full:
        lean = _choices(cli.build_parser(name))
        assert name in lean
        assert lean[name].format_help() == full[name].format_help()


def test_unknown_command_still_lists_every_choice(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["nosuch"])
    err = capsys.readouterr().err
    assert "invalid choice: 'nosuch'" in err
    assert all(repr(name) in err for name in cli.COMMAND_MODULES)


def test_menu_draws_its_first_screen_without_the_flash_engine() -> None:
    """The image's tty1 session: the drive list needs discovery, not the engine (issue 17, 4)."""
    out, modules = loaded("menu")
    assert "rescue" in out
    assert not under(modules, "rescue.engine", "rescue.emulator", "rescue.transport", "rich")


def at_first_read(listed: str) -> str:
    """Code that stands in for the first READ of a scan: prints the module names in LISTED
    so far (a JSON line first in the command's output), then scans as before."""
    return (
        "import json as _json, sys as _sys\n"
        "from rescue.diagnostics import scan as _scan\n"
        "_run = _scan.Scanner.run\n"
        "def _first_read(self, *args, **kwargs):\n"
        f"    print(_json.dumps(sorted({listed})))\n"
        "    return _run(self, *args, **kwargs)\n"
        "_scan.Scanner.run = _first_read\n"
    )


#: Every module loaded before the first READ.
AT_FIRST_READ = at_first_read("_sys.modules")


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_scan_reads_before_loading_the_renderer_the_console_or_udev(
    extra: list[str], tmp_path: os.PathLike[str]
) -> None:
    """A plain scan's first READ comes before rich, the report's HTML renderer and its
    model, and pyudev; the report at the end still renders."""
    argv = ["scan", "emu:generic-dvd", "--end", "64", "--reports", str(tmp_path), *extra]
    out, at_end = loaded(*argv, setup=AT_FIRST_READ)
    first_line, rest = out.split("\n", 1)
    before = set(json.loads(first_line))
    assert "64 sectors read this run" in rest or '"sectors_read_now": 64' in rest
    late = ("rich", "rescue.diagnostics.render", "pyudev")
    assert not under(before, *late, "rescue.engine", "rescue.bench", "rescue.menu")
    assert under(at_end, "rescue.diagnostics.render.html")  # the page was still written
    assert not under(at_end, "rich", "pyudev")  # no terminal: no bar, no colours


#: As AT_FIRST_READ, but lists only what was imported from outside the emulator (what a scan
#: of a real node loads too: a real node never imports rescue.emulator).
NOT_THE_EMULATORS = (
    "import sys as _sys\n"
    "_mine = set()\n"
    "def _note(event, args):\n"
    "    if event != 'import':\n"
    "        return\n"
    "    frame = _sys._getframe(1)\n"
    "    while frame is not None:\n"
    "        if frame.f_globals.get('__name__', '').startswith('rescue.emulator'):\n"
    "            return\n"
    "        frame = frame.f_back\n"
    "    _mine.add(args[0])\n"
    "_sys.addaudithook(_note)\n"
) + at_first_read("_mine")


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_a_plain_scan_reads_before_loading_tempfile_or_hashlib(
    extra: list[str], tmp_path: os.PathLike[str]
) -> None:
    """A temporary file is made only when a file is written (the report, at the end), a hash
    only for a --journal or a --mapfile's disc id, a sense named only when one comes back,
    a date only when a report is written: none of them loads before the first READ of a
    plain scan (tempfile brings shutil, random, bz2 and lzma; hashlib OpenSSL)."""
    argv = ["scan", "emu:generic-dvd", "--end", "64", "--reports", str(tmp_path), *extra]
    out, at_end = loaded(*argv, setup=NOT_THE_EMULATORS)
    first_line, rest = out.split("\n", 1)
    before = set(json.loads(first_line))
    assert "64 sectors read this run" in rest or '"sectors_read_now": 64' in rest
    assert "rescue.ops.pathcheck" in before  # the hook saw the command's own imports
    assert not under(before, "tempfile", "hashlib", "_hashlib", "random", "datetime")
    # no sense met: the T10 name table (JSON, pkgutil) and the advice are not loaded yet
    assert not under(before, "rescue.scsi.asc_table", "rescue.scsi.advice", "pkgutil")
    assert "tempfile" in at_end  # the report was still written through a temporary


def test_scan_of_a_node_loads_no_drive_family() -> None:
    """scan reads with MMC commands only: the CLI does not load the families (and their
    firmware layouts) to check drive tables the scan never consults."""
    code = (
        "import sys\n"
        "from rescue.cli import main\n"
        "status = main(['scan', '/dev/sg-missing-97'])\n"
        "print(status, 'rescue.families' in sys.modules, 'rescue.firmware' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["3", "False", "False"], done.stdout + done.stderr
