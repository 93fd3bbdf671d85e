"""Start-up: a command imports only what it uses (issue 15, item 3).

Each case runs ``rescue.cli.main`` in a fresh interpreter and lists the modules
it loaded: `--version`, `explain` and `list --emulated` load no console
renderer they do not print with, no other command's module, no engine, no
diagnostics and no kernel emulation. Nothing here is timed.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_discovery import CD, SysfsTree, tree  # noqa: F401  (tree: a fixture)
from test_discovery_named import udev_database, with_class_links

from rescue import cli, usage

#: What no light command loads: the flash engine, the diagnostics, the families'
#: protocols, the device layer and the kernel-backed emulation.
HEAVY = ("rescue.engine", "rescue.diagnostics", "rescue.families", "rescue.emulator.tcmu",
         "rescue.transport", "rescue.devices", "rescue.drive", "rescue.menu", "rescue.bench")

#: What argparse's help formatter used to import while the parser was built (it asked shutil for
#: the terminal's width): shutil and the compressors shutil imports.
NOT_BY_THE_PARSER = ("shutil", "bz2", "lzma", "zlib")

#: pathlib and what it imports: discovery's sysfs walk joins strings with os.path instead.
PATHLIB = ("pathlib", "urllib", "ipaddress", "ntpath", "fnmatch")


def loaded(*argv: str, setup: str = "") -> tuple[str, set[str]]:
    """What ``rescue ARGV`` prints, and every module it imported, from a new interpreter
    (after SETUP, code that stands in for the machine, e.g. a drive in sysfs)."""
    code = (  # json only after the command: a test can tell whether the command loaded it
        "import contextlib, io, sys\n"
        f"{setup}"
        "from rescue.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    code = main({list(argv)!r})\n"
        "modules = sorted(sys.modules)\n"
        "import json\n"
        "print(json.dumps([code, out.getvalue(), modules]))\n"
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
    assert not under(modules, "rich", "rescue.ops", "argparse", "json", "typing", *HEAVY)


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
    assert not under(modules, *NOT_BY_THE_PARSER)  # argparse's formatter, without shutil
    assert ("json" in modules) == ("--json" in argv)  # words need no JSON encoder
    assert not under(modules, "typing", "_typing")  # annotations only (docs/architecture.md)
    assert not under(modules, *PATHLIB)


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
    assert not under(modules, "json", "typing", *NOT_BY_THE_PARSER)
    fields = "rescue.diagnostics.render.fields"  # the reports' cleaner of drive strings
    cleaner = {fields.rsplit(".", n)[0] for n in range(3)}  # and its two packages
    assert not under(modules, "rich", "rescue.emulator", *HEAVY) - cleaner


def test_list_walks_a_machines_drives_without_pathlib(tree: SysfsTree) -> None:  # noqa: F811
    """Five SCSI devices in sysfs (SATA, USB, TCMU, virtio): every drive's identity and path
    (the USB bridge found by walking up its directories) read without pathlib or typing."""
    setup = (
        "import functools, rescue.discovery as d\n"
        f"d.discover = functools.partial(d.discover, sysfs_root={str(tree.root)!r},\n"
        "                               dev_root='/dev', use_udev=False)\n"
    )
    out, modules = loaded("list", "--json", setup=setup)
    drives = {drive["model"]: drive for drive in json.loads(out)["drives"]}
    assert set(drives) == {"DVDRAM GH24NSD1", "SDRW-08D2S-U", "EMU-BTC", "QEMU CD-ROM"}
    assert drives["SDRW-08D2S-U"]["path"]["bridge"]["product"] == "JMS578 bridge"
    assert not under(modules, "typing", *PATHLIB)


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


# --- argparse's formatter without shutil ------------------------------------------------------


@pytest.mark.parametrize("command", ["scan", "list", "explain", "report", "probe", "menu"])
def test_building_a_parser_and_its_help_imports_no_shutil(command: str) -> None:
    """argparse makes a formatter for every add_argument; with the width given, none of them
    imports shutil. (The modules of fw, backup, flash, plan, doctor and bench import it, or
    tempfile, for the files they write: not the parser's doing.)"""
    code = (
        "import sys\n"
        "from rescue.cli import build_parser\n"
        f"parser = build_parser({command!r})\n"
        f"build_parser({command!r}, as_json=True).format_usage()\n"
        "sub = next(a for a in parser._actions if a.dest == 'command')\n"
        f"sub.choices[{command!r}].format_help()\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    modules = set(done.stdout.split())
    assert "argparse" in modules
    assert not under(modules, *NOT_BY_THE_PARSER)


#: The terminal's columns (None: no terminal, "gone": no sys.__stdout__) under each $COLUMNS.
SIZES = [(None, 57), (None, 0), (None, None), (None, "gone"), ("40", 57), ("0", 57),
         ("junk", 57), ("-3", None), (" 133 ", None), ("120", "gone")]


@pytest.mark.parametrize(("columns", "terminal"), SIZES)
def test_help_is_laid_out_at_shutils_width(
    columns: str | None, terminal: int | str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``usage.terminal_columns`` answers as ``shutil.get_terminal_size`` does, so every help
    text is the one argparse's own formatter (which asks shutil) lays out."""
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.delenv("LINES", raising=False)
    if terminal == "gone":
        monkeypatch.setattr(sys, "__stdout__", None)
    else:

        def size(fd: int) -> os.terminal_size:
            if terminal is None:
                raise OSError("not a terminal")
            return os.terminal_size((terminal, 20))

        monkeypatch.setattr(os, "get_terminal_size", size)
    assert usage.terminal_columns() == shutil.get_terminal_size().columns
    parsers = [cli.build_parser(), *_choices(cli.build_parser()).values()]
    ours = [p.format_help() for p in parsers]
    monkeypatch.setattr(usage.Parser, "_get_formatter", argparse.ArgumentParser._get_formatter)
    assert [p.format_help() for p in parsers] == ours


def test_a_parser_asks_for_the_width_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """argparse makes a formatter for every add_argument; each parser (rescue's, the common
    options', scan's own) asks $COLUMNS and the terminal for its width once, help included."""
    asked: list[int] = []
    monkeypatch.setattr(usage, "terminal_columns", lambda: asked.append(57) or 57)
    scan = _choices(cli.build_parser("scan"))["scan"]
    assert len(asked) == 3
    assert max(map(len, scan.format_help().splitlines())) <= 57 - usage.RIGHT_MARGIN
    assert len(asked) == 3


def test_menu_draws_its_first_screen_without_the_flash_engine() -> None:
    """The image's tty1 session: the drive list needs discovery, not the engine (issue 17, 4)."""
    out, modules = loaded("menu")
    assert "rescue" in out
    assert not under(modules, "rescue.engine", "rescue.emulator", "rescue.transport", "rich")
    assert "typing" not in modules  # tty1's first screen: annotations cost nothing at run time


def at_first(method: str, listed: str) -> str:
    """Code that stands in for the first call of METHOD ("module:Class.name"; a scan's first
    READ, a command's first CDB): prints the module names in LISTED so far, on one line first
    in the command's output (``first_line``), then calls it as before. It imports no json."""
    module, _, name = method.partition(":")
    return (
        "import sys as _sys\n"
        f"import {module} as _where\n"
        f"_real = _where.{name}\n"
        "def _first(self, *args, **kwargs):\n"
        f"    print(' '.join(sorted({listed})))\n"
        f"    _where.{name} = _real\n"
        "    return _real(self, *args, **kwargs)\n"
        f"_where.{name} = _first\n"
    )


def first_line(out: str) -> tuple[set[str], str]:
    """The modules ``at_first`` printed, and the command's own output after them."""
    names, rest = out.split("\n", 1)
    return set(names.split()), rest


FIRST_READ = "rescue.diagnostics.scan:Scanner.run"
FIRST_CDB = "rescue.transport.base:Transport.execute"

#: Every module loaded before the first READ.
AT_FIRST_READ = at_first(FIRST_READ, "_sys.modules")


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_scan_reads_before_loading_the_renderer_the_console_or_udev(
    extra: list[str], tmp_path: os.PathLike[str]
) -> None:
    """A plain scan's first READ comes before rich, the report's HTML renderer and its
    model, and pyudev; the report at the end still renders."""
    argv = ["scan", "emu:generic-dvd", "--end", "64", "--reports", str(tmp_path), *extra]
    out, at_end = loaded(*argv, setup=AT_FIRST_READ)
    before, rest = first_line(out)
    assert "64 sectors read this run" in rest or '"sectors_read_now": 64' in rest
    late = ("rich", "rescue.diagnostics.render", "pyudev")
    assert not under(before, *late, "rescue.engine", "rescue.bench", "rescue.menu")
    assert under(at_end, "rescue.diagnostics.render.html")  # the page was still written
    assert not under(at_end, "rich", "pyudev")  # no terminal: no bar, no colours


def test_a_scan_started_as_rescue_takes_ctrl_c_without_signals_enums(
    tmp_path: os.PathLike[str],
) -> None:
    """Start-up's Ctrl-C handler and main's hand-over go through ``_signal``: signal.py (its
    IntEnums: 2.8 M instructions) is never loaded, from the first import to the summary."""
    argv = ["scan", "emu:generic-dvd", "--end", "64", "--reports", str(tmp_path)]
    out, at_end = loaded(*argv, setup="import sys as _s\n_s.argv[0] = '/usr/bin/rescue'\n")
    assert "64 sectors read this run" in out
    assert "signal" not in at_end


#: Code that gathers in ``_mine`` what is imported from outside the emulator (what a command
#: on a real node loads too: a real node never imports rescue.emulator).
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
)


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_a_plain_scan_reads_before_loading_tempfile_or_hashlib(
    extra: list[str], tmp_path: os.PathLike[str]
) -> None:
    """A temporary file is made only when a file is written (the report, at the end), a hash
    only for a --journal or a --mapfile's disc id, a sense named only when one comes back,
    a date only when a report is written, JSON only for the report, a --json answer or a
    journal line, and the parser asks no shutil for the terminal's width: none of them loads
    before the first READ of a plain scan (tempfile brings shutil, random, bz2 and lzma;
    hashlib OpenSSL)."""
    argv = ["scan", "emu:generic-dvd", "--end", "64", "--reports", str(tmp_path), *extra]
    out, at_end = loaded(*argv, setup=NOT_THE_EMULATORS + at_first(FIRST_READ, "_mine"))
    before, rest = first_line(out)
    assert "64 sectors read this run" in rest or '"sectors_read_now": 64' in rest
    assert "rescue.ops.pathcheck" in before  # the hook saw the command's own imports
    assert not under(before, "tempfile", "hashlib", "_hashlib", "random", "datetime")
    assert not under(before, "json", "_json", *NOT_BY_THE_PARSER)
    assert "rescue.transport.journal" not in at_end  # no --journal: not even its module
    assert not under(before, "importlib")  # the command's module comes without the package
    assert "rescue.durable" not in before  # fsync and rename: for the files written at the end
    # no sense met: the T10 name table (JSON, pkgutil) and the advice are not loaded yet
    assert not under(before, "rescue.scsi.asc_table", "rescue.scsi.advice", "pkgutil")
    # the report was still written, as JSON, through a temporary file of rescue's own making
    assert {"json", "rescue.durable"} <= at_end
    assert not under(at_end, "tempfile", "random")  # (datetime: the emulated drive's own)


#: What a DVD's scan never uses: READ CD's options and block splitting (a CD's read method), the
#: capabilities page's parser and ATA IDENTIFY's (other commands' answers), and weakref.py with
#: _weakrefset (the path cache keys on the built-in weak reference).
NOT_FOR_A_DVD = ("rescue.scsi.readcd", "rescue.scsi.modepage", "rescue.scsi.ata", "weakref",
                 "_weakrefset")

#: The field values of commands no scan sends (START STOP UNIT, READ TOC, READ and WRITE BUFFER):
#: rescue.scsi.cdb names them, each beside its answer's parser, without making them at import.
NOT_BY_A_SCAN = ("rescue.scsi.events", "rescue.scsi.toc", "rescue.scsi.buffer")


@pytest.mark.parametrize("node", ["emu:generic-dvd", "/dev/null", "emu:generic-cd"])
def test_a_dvds_scan_loads_no_cd_reading_page_parser_or_weakref(
    node: str, tmp_path: os.PathLike[str]
) -> None:
    """The CDB builders import what only their own commands need where they build them: a
    DVD's scan (emulated, or a real node's path) loads none of NOT_FOR_A_DVD from start to
    summary; a CD's scan, which reads with READ CD and C2 pointers, loads READ CD's module
    (rescue.diagnostics.readmethod's tests pin that it reads the same)."""
    setup = REAL_NODE if node == "/dev/null" else ""
    argv = ["scan", node, "--end", "64", "--reports", str(tmp_path)]
    out, at_end = loaded(*argv, setup=setup + AT_FIRST_READ)
    before, rest = first_line(out)
    assert "64 sectors read this run" in rest
    assert not under(at_end, *NOT_BY_A_SCAN)
    if node == "emu:generic-cd":
        assert "read command: READ CD with C2 error pointers" in rest
        assert "rescue.scsi.readcd" in before
    else:
        assert {"rescue.scsi.cdb", "rescue.diagnostics.readmethod"} <= before
        assert not under(at_end, *NOT_FOR_A_DVD)


def test_a_refused_get_configuration_is_named_only_when_the_scan_prints_it(
    tmp_path: os.PathLike[str],
) -> None:
    """A drive that refuses GET CONFIGURATION (scsi_debug does) makes the scan read with
    READ(10); the refusal is caught and judged, not worded, so the T10 name table, the advice
    and json load after the reads, where the summary prints the same words as before."""
    device = "emu:generic-dvd,fault=sense:5/20/00@46"
    argv = ["scan", device, "--end", "64", "--reports", str(tmp_path)]
    out, at_end = loaded(*argv, setup=NOT_THE_EMULATORS + at_first(FIRST_READ, "_mine"))
    before, rest = first_line(out)
    assert "rescue.diagnostics.readmethod" in before  # the method was chosen before the READ
    assert not under(before, "rescue.scsi.asc_table", "rescue.scsi.advice", "json", "pkgutil")
    assert (
        "  read command: READ(10) (the current medium is unknown (GET CONFIGURATION: 5/20/00 "
        "ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE — the drive's running firmware does "
        "not implement this command))\n"
    ) in rest
    assert "rescue.scsi.asc_table" in at_end


def test_info_sends_its_first_command_before_loading_tempfile_or_hashlib() -> None:
    """`info` checks the user's drive tables before it sends anything, which loads every
    family: the shipped table is read as a plain file (rescue.shipped: importlib.resources
    brings tempfile, shutil and random, pkgutil typing) and a firmware image's hash is imported
    where an image is read."""
    setup = NOT_THE_EMULATORS + at_first(FIRST_CDB, "_mine")
    before, rest = first_line(loaded("info", "emu:generic-dvd", setup=setup)[0])
    assert "RESCUE EMU DVD-ROM revision 1.00" in rest
    assert "rescue.families.table" in before  # the drive tables were checked first
    assert not under(before, "importlib.resources", "tempfile", "random", *NOT_BY_THE_PARSER)
    assert not under(before, "hashlib", "_hashlib", "rescue.transport.journal")
    assert not under(before, "pkgutil", "typing")


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


#: Code that gathers in ``_by`` every module whose import statement names ``typing`` (each
#: one, not only the first: an audit hook sees a module's first import only).
WHO_IMPORTS_TYPING = (
    "import builtins as _builtins\n"
    "_by = set()\n"
    "_import = _builtins.__import__\n"
    "def _noting(name, globals=None, locals=None, fromlist=(), level=0):\n"
    "    if name == 'typing' and not level:\n"
    "        _by.add((globals or {}).get('__name__', '?'))\n"
    "    return _import(name, globals, locals, fromlist, level)\n"
    "_builtins.__import__ = _noting\n"
)

#: What still imports typing before a scan's first READ and info's first CDB: nothing. Every
#: module declares its annotations' names under its own ``TYPE_CHECKING = False``
#: (docs/architecture.md, "Start-up"); the command path's Result is a collections namedtuple.
STILL_TYPING: set[str] = set()

#: A real node for a fresh interpreter: /dev/null opened through sgio (and discovery's lookup
#: of the node), with py-sg's two calls answered by an emulated DVD drive made on the first
#: command, so the command takes a real drive's path up to the SG_IO call.
REAL_NODE = (
    "import py_sg as _sg\n"
    "_drive = []\n"
    "def _answer(cdb, data_out, size, ms):\n"
    "    if not _drive:\n"
    "        from rescue.emulator.registry import create\n"
    "        from rescue.transport.emulated import EmulatedTransport\n"
    "        _drive.append(EmulatedTransport(create('generic-dvd'), name='stand-in'))\n"
    "    result = _drive[0]._execute(bytes(cdb), data_out, size, ms / 1000)\n"
    "    if result.status:  # py-sg's way: the masked status, host, driver, sense, data\n"
    "        raise _sg.SCSIError(result.status >> 1, 0, 0, result.sense, result.data)\n"
    "    return result.data\n"
    "def _read(fd, cdb, size, ms=20000, *rest):\n"
    "    return _answer(cdb, None, size, ms)\n"
    "def _write(fd, cdb, data, ms=20000, *rest):\n"
    "    _answer(cdb, data, 0, ms)\n"
    "_sg.read, _sg.write = _read, _write\n"
)


@pytest.mark.parametrize("node", ["emu:generic-dvd", "/dev/null"])
def test_a_plain_scan_reads_before_anything_but_the_command_path_imports_typing(
    node: str, tmp_path: os.PathLike[str]
) -> None:
    """Annotations are strings (``from __future__ import annotations``) and their names come
    from typing only under TYPE_CHECKING: no other module on a plain scan's path, the
    emulator's included, imports typing before the first READ."""
    setup = WHO_IMPORTS_TYPING + (REAL_NODE if node == "/dev/null" else "")
    argv = ["scan", node, "--end", "64", "--reports", str(tmp_path)]
    out, _ = loaded(*argv, setup=setup + at_first(FIRST_READ, "_by"))
    importers, rest = first_line(out)
    assert "64 sectors read this run" in rest
    assert importers <= STILL_TYPING, importers - STILL_TYPING


@pytest.mark.parametrize("node", ["emu:generic-dvd", "/dev/null"])
def test_a_clean_scan_writes_its_report_without_pathlib_or_advice(
    node: str, tmp_path: os.PathLike[str]
) -> None:
    """pathlib brings urllib.parse, ipaddress, ntpath and fnmatch: the reports folder, the
    report's two files, sgio's capability check and the drive's name for the report are
    text (rescue.paths) on a scan's whole way to its summary (the emulator's own files
    aside: a real node never loads it)."""
    setup = NOT_THE_EMULATORS + (REAL_NODE if node == "/dev/null" else "")
    argv = ["scan", node, "--end", "64", "--reports", str(tmp_path)]
    out, _ = loaded(*argv, setup=setup + at_first("rescue.ops.scan:_show", "_mine"))
    mine, rest = first_line(out)
    assert "64 sectors read this run" in rest and "report: " in rest
    assert "rescue.diagnostics.render.html" in mine  # the page was written before the summary
    assert not under(mine, *PATHLIB)
    # no sense met, no bad range on the page: neither the advice nor the T10 names are read
    assert not under(mine, "rescue.scsi.advice", "rescue.scsi.asc_table")
    # the report's name reads the drive's serial with sysfs's reader, not drive refinding
    assert "rescue.discovery.refind" not in mine


#: Code that gathers in ``_compiled`` the rescue modules (the emulator's aside) that compile
#: a regex, each time re compiles one it has not cached.
RESCUE_COMPILES = (
    "import re as _re, sys as _sys\n"
    "_compiled = set()\n"
    "_real_compile = _re._compile\n"
    "def _compile(pattern, flags):\n"
    "    who = _sys._getframe(1).f_globals.get('__name__', '')\n"
    "    if who == 're':\n"
    "        who = _sys._getframe(2).f_globals.get('__name__', '')\n"
    "    if who.startswith('rescue.') and not who.startswith('rescue.emulator'):\n"
    "        _compiled.add(who)\n"
    "    return _real_compile(pattern, flags)\n"
    "_re._compile = _compile\n"
)


def test_a_plain_scan_compiles_no_regex_of_its_own_before_the_first_read(
    tmp_path: os.PathLike[str],
) -> None:
    """A pattern compiled at import costs every scan before it reads; rescue's patterns are
    str methods or compiled where they are first used (issue 15)."""
    argv = ["scan", "/dev/null", "--end", "64", "--reports", str(tmp_path)]
    setup = RESCUE_COMPILES + REAL_NODE + at_first(FIRST_READ, "_compiled")
    compiled, rest = first_line(loaded(*argv, setup=setup)[0])
    assert "64 sectors read this run" in rest
    assert compiled == set()


def test_the_real_node_stand_in_takes_sgio_and_discoverys_lookup() -> None:
    """The stand-in above is a real node's path: sgio, not the emulated transport."""
    setup = REAL_NODE + at_first(FIRST_READ, "_sys.modules")
    before, rest = first_line(loaded("scan", "/dev/null", "--end", "8", setup=setup)[0])
    assert {"rescue.transport.sgio", "rescue.discovery.named"} <= before
    assert "8 sectors read this run" in rest


def test_info_sends_its_first_command_before_anything_else_imports_typing() -> None:
    """`info` loads every family to check the drive tables first: none of them, nor the
    tables' reader, imports typing."""
    setup = WHO_IMPORTS_TYPING + at_first(FIRST_CDB, "_by")
    importers, rest = first_line(loaded("info", "emu:generic-dvd", setup=setup)[0])
    assert "RESCUE EMU DVD-ROM revision 1.00" in rest
    assert importers <= STILL_TYPING, importers - STILL_TYPING


def _imports_typing_at_run_time(node: ast.AST) -> bool:
    """Whether NODE's code, leaving out ``if TYPE_CHECKING:`` blocks (what only the type
    checker reads), imports typing."""
    if isinstance(node, ast.Import):
        return any(alias.name == "typing" for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        return node.module == "typing"
    if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
        return any(_imports_typing_at_run_time(child) for child in node.orelse)
    return any(_imports_typing_at_run_time(child) for child in ast.iter_child_nodes(node))


def test_no_module_imports_typing_outside_type_checking() -> None:
    """The same rule for every command, read from the source: annotations' names come from
    typing under ``TYPE_CHECKING = False`` only (docs/architecture.md, "Start-up")."""
    package = Path(cli.__file__).parent
    found = {
        ".".join(("rescue", *path.relative_to(package).with_suffix("").parts))
        for path in package.rglob("*.py")
        if _imports_typing_at_run_time(ast.parse(path.read_text(encoding="utf-8")))
    }
    assert found == STILL_TYPING


def test_a_named_nodes_scan_reads_udevs_entry_without_pyudev_or_ctypes(
    tree: SysfsTree,  # noqa: F811
    tmp_path: Path,
) -> None:
    """With a udev database, a drive named by its node takes udev's facts from its block
    device's entry (rescue.discovery.udevdb): no pyudev, and no ctypes, which pyudev loads
    libudev with (about 0.24 s of a scan's start under TCG, docs/image.md)."""
    linked = with_class_links(tree)
    root, dev = str(linked.root), str(linked.dev)
    database = udev_database(linked, tmp_path, {"sr0": {**CD, "ID_CDROM_MEDIA": "1"}})
    setup = REAL_NODE + (
        "import functools, rescue.discovery as _d, rescue.discovery.udevdb as _db\n"
        f"_d.udev.DEFAULT_SYSFS, _d.udev.UDEV_DATABASE = {root!r}, {str(database)!r}\n"
        f"_d.by_node = functools.partial(_d.by_node, sysfs_root={root!r}, dev_root={dev!r})\n"
        "_read, _seen = _db.block_properties, set()\n"
        "_db.block_properties = lambda *a: _seen.update(_read(*a)) or _read(*a)\n"
    )
    argv = ["scan", f"{dev}/sg1", "--end", "64", "--reports", str(tmp_path / "reports")]
    out, at_end = loaded(*argv, setup=setup + at_first(FIRST_READ, "_seen"))
    assert not under(at_end, "pyudev", "ctypes", "_ctypes")
    seen, rest = first_line(out)
    assert "ID_CDROM_MEDIA" in seen  # the entry was read before the first READ
    assert "64 sectors read this run" in rest
