"""Hostile arguments through the real entry point: no traceback, no hang, nothing destroyed.

Hypothesis builds command lines for ``rescue.cli.main`` (every command but
the two that wait for a person or run until stopped, ``menu`` and ``emulate``:
scan, doctor, report, fw inspect, explain, info, list, flash, backup, plan,
probe and a headless bench job) out of what a tired user types:
device nodes, FIFOs, /proc files, folders, symbolic links to someone's file,
missing folders, huge and negative numbers, and odd characters in emulated
drive specs. Every run must end in an exit code of the README's table, with
no "Traceback" on stderr; the user's files, /dev/null and the working folder
(the checkout) must be as they were, and nothing may be written outside the
example's temporary folder. Flash and bench get real images of the emulated
BTC and SE-506CB drives among the paths, so some examples do flash (with
``--yes``). The fixed examples are the cases issue 11 found.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rescue.cli import main
from rescue.emulator.images import make_btc_image, make_mt1939_image
from rescue.errors import ExitCode

#: The README's exit-code table (tests/test_exit_code_table.py holds it to rescue.errors).
DOCUMENTED = {int(code) for code in ExitCode}
PRECIOUS = b"someone's firmware \x00\x01\x02" * 64
#: Images a flash may really take (the user's too: they must stay as they were).
IMAGES = {
    "V0050.bin": make_btc_image("0050"),
    "V0040.bin": make_btc_image("0040"),
    "se506.bin": make_mt1939_image("TS02"),
}

# Paths: {tmp} is the example's own folder, prepared by _workbench.
PATHS = [
    "/dev/null",
    "/dev/zero",
    "/dev/urandom",
    "/dev/full",
    "/proc/self/status",
    "/proc/kmsg",
    "/proc/x",
    "/sys/kernel",
    "/",
    "/nonexist/x",
    "{tmp}",
    "{tmp}/fifo",
    "{tmp}/link",
    "{tmp}/dangling",
    "{tmp}/precious.bin",
    "{tmp}/missing/deeper/x",
    "{tmp}/new.out",
    "{tmp}/empty",
    "{tmp}/deep.json",
    "",
    "-",
    "{tmp}/\udcff\u00e9 odd",
    "{tmp}/" + "x" * 300,
]
NUMBERS = [
    "0",
    "1",
    "-1",
    "300",
    "4294967296",
    "5000000000",
    "99999999999999999999999",
    "-99999999999999999999",
    "0x10",
    "1e9",
    "\u0663",
    "",
]
MODELS = [
    "generic-dvd",
    "generic-cd",
    "btc-drw1004im",
    "tsst-se506cb",
    "asus-bw16d1ht",
    "generic-spc",
    "nope",
    "",
]
KEYS = ["sectors", "bad", "slow", "c2", "speed", "disc", "media", "tray", "rev", "state", "x"]
ODD = st.text(
    alphabet=st.sampled_from(list("0123456789-;:,=./x\u00e9\udcff\t ") + ["\u202e", "\U0001f4bf"]),
    max_size=12,
)


@st.composite
def specs(draw: st.DrawFn) -> str:
    """An emu: spec with hostile keys and values (small discs only: a scan must stay short)."""
    parts = [draw(st.sampled_from(MODELS))]
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(KEYS))
        value = draw(
            st.one_of(
                st.sampled_from(NUMBERS + PATHS + ["none", "pattern", "open", "cd"]),
                ODD,
            )
        )
        if key == "sectors" and value.isdigit() and 4096 < int(value) <= 1 << 27:
            value = "4096"  # a real multi-million-sector disc is a long (legitimate) scan
        parts.append(f"{key}={value}")
    return "emu:" + ",".join(parts)


PATH = st.sampled_from(PATHS)
IMAGE = st.one_of(st.sampled_from([f"{{tmp}}/{name}" for name in IMAGES]), PATH)
DEVICE = st.one_of(specs(), PATH, st.sampled_from(["emu:", "replay:{tmp}/precious.bin", "sr99"]))
NUMBER = st.sampled_from(NUMBERS)
#: Drives and images that work, so half the writers' examples get as far as the drive.
WORKING = st.sampled_from(
    [
        "emu:btc-drw1004im,disc=none",
        "emu:btc-drw1004im,rev=0050,disc=none",
        "emu:btc-drw1004im,disc=none,state={tmp}/new.state",
        "emu:btc-drw1004im,disc=none,state={tmp}/work",
        "emu:tsst-se506cb,disc=none",
        "emu:generic-spc",
        "emu:generic-dvd,sectors=300",
    ]
)
DRIVE = st.one_of(WORKING, DEVICE)


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(COMMANDS))
    argv: list[str]
    if command in WRITERS:
        return WRITERS[command](draw) + draw(_common())
    if command == "scan":
        argv = ["scan", draw(DEVICE)]
        for option in ("--mapfile", "--reports", "--start", "--end", "--block", "--retries"):
            if draw(st.booleans()):
                value = draw(PATH if option in ("--mapfile", "--reports") else NUMBER)
                argv += [option, value]
    elif command == "doctor":
        argv = ["doctor", draw(DEVICE)]
        if draw(st.booleans()):
            argv += ["--reports", draw(PATH)]
    elif command == "report":
        argv = ["report", draw(PATH)]
    elif command == "fw":
        argv = ["fw", "inspect", draw(PATH)]
    elif command == "explain":
        argv = ["explain", draw(st.one_of(ODD, NUMBER, st.sampled_from(["2/3A/00", "zz/zz"])))]
    elif command == "info":
        argv = ["info", draw(DEVICE)]
    else:
        argv = ["list"] + draw(st.sampled_from([[], ["--json"], ["--emulated"]]))
    return argv + draw(_common())


@st.composite
def _common(draw: st.DrawFn) -> list[str]:
    """--journal (sometimes) and --json (half the time), which every command takes."""
    argv = []
    if draw(st.integers(0, 3)) == 0:
        argv += ["--journal", draw(PATH)]
    if draw(st.booleans()):
        argv.append("--json")
    return argv


def _flags(draw: st.DrawFn, *flags: str) -> list[str]:
    return [flag for flag in flags if draw(st.booleans())]


def _flash(draw: st.DrawFn) -> list[str]:
    argv = ["flash", draw(DRIVE), draw(IMAGE), "--yes"]
    argv += _flags(draw, "--no-backup", "--dry-run", "--read-test")
    argv += [a for f in draw(st.lists(st.sampled_from(FORCES), max_size=2)) for a in ("--force", f)]
    if draw(st.booleans()):
        argv += ["--reports", draw(PATH)]
    if draw(st.integers(0, 3)) == 0:
        argv += ["--family", draw(st.sampled_from(["btc", "tsst", "spc", "nope"]))]
    return argv


def _backup(draw: st.DrawFn) -> list[str]:
    argv = ["backup", draw(DRIVE)]
    if draw(st.integers(0, 5)):
        argv += ["-o", draw(st.one_of(st.just("{tmp}/backup.bin"), PATH))]
    return argv + _flags(draw, "--overwrite")


def _plan(draw: st.DrawFn) -> list[str]:
    return ["plan", draw(DRIVE), "--to", draw(st.one_of(ODD, NUMBER, st.just("0151")))]


def _probe(draw: st.DrawFn) -> list[str]:
    return ["probe", draw(DRIVE)]


def _bench(draw: st.DrawFn) -> list[str]:
    """A headless job (the live screen waits for a person); one or two drives, few workers."""
    job = draw(
        st.sampled_from([["--doctor"], ["--scan"], ["--backup"], ["--flash", draw(IMAGE)], []])
    )
    devices = draw(st.lists(DRIVE, min_size=0 if job else 1, max_size=2))
    argv = ["bench", *devices, *job, "--yes", *_flags(draw, "--no-backup")]
    if draw(st.booleans()):
        argv += ["--reports", draw(PATH)]
    if draw(st.integers(0, 3)) == 0:
        argv += ["--timeout", draw(NUMBER)]
    if not job:  # no job: the screen; give it nothing to wait for
        argv = ["bench", "--json", *devices] if draw(st.booleans()) else argv
    return argv


FORCES = ["identity", "plan", "family", "downgrade"]
#: Commands that write to drives or files: drawn by their own strategies.
WRITERS: dict[str, Callable[[st.DrawFn], list[str]]] = {
    "flash": _flash,
    "backup": _backup,
    "plan": _plan,
    "probe": _probe,
    "bench": _bench,
}
COMMANDS = ["scan", "doctor", "report", "fw", "explain", "info", "list", *WRITERS]


@contextlib.contextmanager
def _workbench() -> Iterator[Path]:
    """A fresh folder with a FIFO, links, and a precious file; cwd and TMPDIR point into it."""
    old_cwd, old_env = os.getcwd(), dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="rescue-hostile-") as name:
        tmp = Path(name)
        os.mkfifo(tmp / "fifo")
        (tmp / "precious.bin").write_bytes(PRECIOUS)
        (tmp / "link").symlink_to(tmp / "precious.bin")
        (tmp / "dangling").symlink_to(tmp / "gone")
        (tmp / "empty").write_bytes(b"")
        (tmp / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
        for name, image in IMAGES.items():
            (tmp / name).write_bytes(image)
        (tmp / "work").mkdir()
        (tmp / "tmpdir").mkdir()
        os.environ.update(
            RESCUE_REPORTS=str(tmp / "work" / "reports"),
            RESCUE_LOCK_DIR=str(tmp / "locks"),
            TMPDIR=str(tmp / "tmpdir"),
        )
        tempfile.tempdir = None
        os.chdir(tmp / "work")
        try:
            yield tmp
        finally:
            os.chdir(old_cwd)
            os.environ.clear()
            os.environ.update(old_env)
            tempfile.tempdir = None


def _snapshot(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def _ours(name: str) -> bool:
    """Could rescue have made this entry? (Other work may add files to the checkout meanwhile.)"""
    return (
        name == "reports"
        or name.startswith(("rescue-", "."))
        or name.endswith((".json", ".jsonl", ".map", ".html", ".tmp", ".partial", ".out"))
    )


class Hung(Exception):
    """A command still running after HANG_SECONDS: a blocking read (a /proc file, a FIFO)."""


#: Not a speed limit (every example takes well under a second to a few): a watchdog that
#: turns a read that never returns (`bench --flash /proc/kmsg` once) into a failure.
HANG_SECONDS = 120


@contextlib.contextmanager
def _watchdog(argv: list[str]) -> Iterator[None]:
    def hung(_signum: int, _frame: object) -> None:
        raise Hung(argv)

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(HANG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _run(argv: list[str]) -> tuple[int, str]:
    """main(argv) with stdout and stderr as Python sets them up on a UTF-8 terminal."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _watchdog(argv):
        try:
            code = main(argv)
        except SystemExit as leave:  # argparse: --help or a bad command line
            code = leave.code if isinstance(leave.code, int) else 2
    err.flush()
    return code, err.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]


def _option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv[:-1] else None


def check(template: list[str]) -> None:
    checkout = Path.cwd()
    before = _snapshot(checkout)
    with _workbench() as tmp:
        argv = [a.replace("{tmp}", str(tmp)) for a in template]
        code, err = _run(argv)
        assert isinstance(code, int), argv
        assert "Traceback" not in err, (argv, err)
        assert "unexpected" not in err, (argv, err)  # cli.main's last resort: a bug
        assert code in DOCUMENTED, (argv, code, err)
        assert (tmp / "precious.bin").read_bytes() == PRECIOUS, argv
        assert (tmp / "link").is_symlink() and (tmp / "dangling").is_symlink(), argv
        assert stat.S_ISFIFO(os.lstat(tmp / "fifo").st_mode), argv
        assert not (tmp / "gone").exists() and not (tmp / "missing").exists(), argv
        if _option(argv, "--journal") != str(tmp / "empty"):  # an empty file may take a journal
            assert (tmp / "empty").read_bytes() == b"", argv
        for name, image in IMAGES.items():
            assert (tmp / name).read_bytes() == image, argv
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert not list(Path("/dev").glob("rescue-hostile*")), argv  # devtmpfs takes no output
    assert not [name for name in _snapshot(checkout) - before if _ours(name)], argv


@pytest.mark.parametrize(
    "argv",
    [
        ["info", "emu:btc-drw1004im,state=/nonexist/x"],
        ["info", "emu:btc-drw1004im,state=/dev/null"],
        ["info", "emu:generic-dvd", "--journal", "/tmp"],
        ["info", "emu:generic-dvd", "--journal", "{tmp}/precious.bin"],
        ["info", "emu:generic-dvd", "--journal", "{tmp}/link"],
        ["scan", "emu:generic-dvd,sectors=5000000000"],
        ["scan", "emu:generic-dvd,sectors=300", "--mapfile", "/dev/null"],
        ["scan", "emu:generic-dvd,sectors=300", "--mapfile", "{tmp}/missing/deeper/x"],
        ["scan", "emu:generic-dvd,sectors=300", "--mapfile", "{tmp}/precious.bin"],
        ["scan", "emu:generic-dvd,sectors=300", "--reports", "/proc/x"],
        ["scan", "emu:generic-dvd,sectors=300", "--start", "99999999999999999999999"],
        ["doctor", "emu:generic-dvd", "--reports", "/dev/null"],
        ["doctor", "emu:generic-dvd", "--reports", "{tmp}/missing/deeper/x"],
        ["report", "/dev/urandom"],
        ["report", "/dev/zero"],
        ["report", "{tmp}/fifo"],
        ["report", "/proc/kmsg"],
        ["fw", "inspect", "/dev/zero"],
        ["fw", "inspect", "{tmp}/fifo"],
        ["explain", "\udcff"],
        ["list", "--json"],
        # found by the writers' strategies
        ["backup", "emu:tsst-se506cb,disc=none", "-o", "/"],
        ["backup", "emu:tsst-se506cb,disc=none", "-o", "."],
        ["backup", "emu:tsst-se506cb,disc=none", "-o", ""],
        ["flash", "emu:btc-drw1004im,disc=none", "{tmp}/V0050.bin", "--yes", "--no-backup"],
        ["flash", "emu:btc-drw1004im,disc=none", "{tmp}/fifo", "--yes", "--no-backup"],
        ["flash", "emu:btc-drw1004im,disc=none", "{tmp}/V0050.bin", "--yes", "--reports", "/"],
        ["flash", "emu:btc-drw1004im,disc=none,state={tmp}/link", "{tmp}/V0050.bin", "--yes"],
        # a user's image of the drive's flash size taken as state= (it was flashed over)
        ["flash", "emu:btc-drw1004im,disc=none,state={tmp}/V0040.bin", "{tmp}/V0050.bin", "--yes"],
        ["backup", "emu:tsst-se506cb,disc=none,state={tmp}/se506.bin", "-o", "{tmp}/b.bin"],
        ["bench", "emu:generic-dvd", "--doctor", "--reports", "{tmp}/precious.bin"],
        ["bench", "--scan", "emu:generic-dvd", "--timeout", "-1"],
        ["plan", "emu:btc-drw1004im", "--to", "\u0663"],
        # a path or spec with a byte that is not UTF-8, printed and written into reports
        [
            "flash",
            "emu:btc-drw1004im,disc=none",
            "{tmp}/V0050.bin",
            "--yes",
            "--no-backup",
            "--reports",
            "{tmp}/\udcff\u00e9 odd",
        ],
        ["bench", "emu:btc-drw1004im,c2=6:0\udcff\u202e", "--doctor"],
        ["backup", "emu:tsst-se506cb,disc=none", "-o", "{tmp}/\udcff.bin"],
        ["info", "emu:generic-dvd,serial=[/bold]x"],  # a drive string is never rich markup
        ["bench", "--flash", "/proc/kmsg", "emu:btc-drw1004im,disc=none", "--yes"],
        ["bench", "--flash", "/dev/zero", "emu:btc-drw1004im,disc=none", "--yes"],
        ["bench", "--flash", "{tmp}/fifo", "emu:btc-drw1004im,disc=none", "--yes"],
        # emulate's own arguments fail before it reaches the kernel (a good one runs until stopped)
        ["emulate", "nope"],
        ["emulate", "generic-dvd", "--journal", "{tmp}/precious.bin"],
        ["emulate", "btc-drw1004im", "--image", "/dev/zero"],
        ["emulate", "btc-drw1004im", "--fault", "\udcff@3b"],
        ["fw", "inspect", "{tmp}/precious.bin", "--family", "spc"],
        ["--drives", "{tmp}/deep.json", "info", "emu:generic-dvd"],
        ["report", "{tmp}/deep.json"],
        # found by the red-team pass (s20e)
        ["info", "emu:btc-drw1004im,state=."],
        ["info", "emu:btc-drw1004im,state={tmp}/gone/"],
        ["report", ""],
        ["plan", "emu:btc-drw1004im", "--json"],
        ["backup", "emu:tsst-se506cb,disc=none", "-o", "{tmp}/link.json"],
        ["backup", "emu:tsst-se506cb,disc=none", "-o", "{tmp}/gone/"],
        ["backup", "emu:tsst-se506cb,disc=none", "-o", "/dev/rescue-hostile.bin"],
        ["doctor", "emu:generic-dvd", "--reports", "/dev/rescue-hostile"],
        ["backup", "emu:tsst-se506cb,disc=none", "-o", "{tmp}/precious.bin/x"],
    ],
)
def test_the_cases_issue_11_found(argv: list[str]) -> None:
    check(argv)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(command_lines())
def test_hostile_command_lines_end_cleanly(argv: list[str]) -> None:
    check(argv)


@pytest.mark.parametrize(
    ("raised", "code", "words"),
    [
        (PermissionError(13, "Permission denied", "/x/y"), 4, "/x/y: Permission denied"),
        (OSError(28, "No space left on device", "/x/y"), 1, "/x/y: No space left on device"),
        (ValueError("odd"), 1, "unexpected ValueError: odd"),
    ],
)
def test_what_no_check_foresaw_is_one_line_and_a_documented_code(
    monkeypatch: pytest.MonkeyPatch, raised: Exception, code: int, words: str
) -> None:
    """The last resort of ``rescue.cli.main``: the OS's words, or "unexpected" (a bug to report)."""
    from rescue.ops import explain

    def fails(_args: object) -> int:
        raise raised

    monkeypatch.setattr(explain, "run", fails)
    got, err = _run(["explain", "5/20/0"])
    assert got == code
    assert err.splitlines()[0] == f"error: {words}"
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["report", "{path}"], ["fw", "inspect", "{path}"]])
def test_a_file_the_os_will_not_let_us_read_is_exit_4_for_every_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    """As for writers: "permission denied" is 4 (README), whichever command reads the file."""
    path = tmp_path / "theirs.json"
    path.write_text("{}")
    real_open = os.open

    def deny(name: str, *args: object, **kwargs: object) -> int:
        if os.fspath(name) == str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("rescue.inputs.os.open", deny)
    code, err = _run([a.replace("{path}", str(path)) for a in argv])
    assert code == ExitCode.PERMISSION, err
    assert err.startswith(f"error: {path}: ") and "permission denied" in err


def test_drive_strings_reach_the_terminal_as_text_not_markup_or_escapes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A serial (or any string a drive reports) with [/] or a terminal escape prints as itself."""
    assert main(["info", "emu:generic-dvd,serial=[red]A\x1b[31mB"]) == 0
    out = capsys.readouterr().out
    assert "[red]A" in out and "\x1b" not in out


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-1", "1e309", "abc"])
def test_a_bench_timeout_that_stops_nothing_or_everything_is_a_usage_error(value: str) -> None:
    """-1 once "timed out" every drive at once; nan and inf never stopped a hung one."""
    code, err = _run(["bench", "--doctor", "emu:generic-dvd", "--timeout", value])
    assert code == ExitCode.USAGE
    assert f"argument --timeout: '{value}': want a number of seconds above 0" in err


def test_a_flash_whose_journal_cannot_be_written_leaves_no_report_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--journal /dev/null once left a report saying "journal: /dev/null" (and a new folder)."""
    image = tmp_path / "V0050.bin"
    image.write_bytes(IMAGES["V0050.bin"])
    reports = tmp_path / "reports"
    argv = ["flash", "emu:btc-drw1004im,disc=none", str(image), "--yes", "--no-backup"]
    code = main([*argv, "--journal", "/dev/null", "--reports", str(reports)])
    captured = capsys.readouterr()
    assert code == ExitCode.BAD_INPUT
    assert "error: --journal /dev/null: is a device node" in captured.err
    assert "report:" not in captured.out + captured.err and not reports.exists()


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "utf-8"])
def test_output_that_cannot_encode_a_character_still_prints_everything(encoding: str) -> None:
    """PYTHONIOENCODING=ascii (or a Latin-1 locale) and a non-UTF-8 byte: '?' or the byte."""
    out = io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors="strict")
    err = io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors="strict")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["info", "emu:generic-dvd,serial=\u00e9\u20ac\udcff"])
        missing = main(["fw", "inspect", "/nonexist/\u00e9\u20ac\udcff.bin"])
    out.flush()
    err.flush()
    assert (code, missing) == (0, ExitCode.BAD_INPUT)
    assert b"unexpected" not in err.buffer.getvalue()  # type: ignore[attr-defined]
    assert b"serial" in out.buffer.getvalue()  # type: ignore[attr-defined]
