"""The `rescue` command line: one sub-command per use case in ``rescue.ops``.

Each module listed in ``COMMANDS`` exposes ``register(subparsers, common)``
and sets ``func(args) -> int`` on its parser. A command line that names a
command imports only that command's module (``COMMAND_MODULES``); help and an
unknown command build the parser of every command. ``--drives FILE`` (before the
command, or among its options) adds a user drive table for the command's
duration (``rescue.families.table``). Every ``RescueError`` ends as
one line on stderr and the exit code of its category (see ``rescue.errors``).
"""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator, Sequence

from rescue import __version__
from rescue.errors import ExitCode, RescueError
from rescue.terminal import draws

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:  # imported where used: `rescue --version` answers without a parser
    import argparse
    from typing import NoReturn

COMMANDS: list[str] = [
    "rescue.ops.inventory",
    "rescue.ops.explain",
    "rescue.ops.fw_inspect",
    "rescue.ops.backup",
    "rescue.ops.flash",
    "rescue.ops.plan",
    "rescue.ops.emulate",
    "rescue.ops.scan",
    "rescue.ops.doctor",
    "rescue.ops.report",
    "rescue.ops.menu",
    "rescue.ops.probe",
    "rescue.ops.bench",
]

#: The module that registers each command name (a test checks it against the full parser).
COMMAND_MODULES: dict[str, str] = {
    "list": "rescue.ops.inventory",
    "info": "rescue.ops.inventory",
    "explain": "rescue.ops.explain",
    "fw": "rescue.ops.fw_inspect",
    "backup": "rescue.ops.backup",
    "flash": "rescue.ops.flash",
    "plan": "rescue.ops.plan",
    "emulate": "rescue.ops.emulate",
    "scan": "rescue.ops.scan",
    "doctor": "rescue.ops.doctor",
    "report": "rescue.ops.report",
    "menu": "rescue.ops.menu",
    "probe": "rescue.ops.probe",
    "bench": "rescue.ops.bench",
}

#: Commands that match drives against the drive table: a bad drives.d file stops them
#: before they send anything (an explicit --drives FILE is checked for every command).
# The commands that match a drive to a family check the user's drive tables before they start
# (scan reads sectors with MMC commands only: it loads no family, so a start-up without them).
DRIVE_COMMANDS = {"info", "plan", "flash", "backup", "doctor", "probe", "menu", "bench"}
DRIVES_HELP = (
    "also use the drive table rows in FILE (the shape of rescue/data/families.json); "
    "repeatable; drives.d/*.json on the stick's data partition (or $RESCUE_DRIVES_DIR) "
    "is read too"
)


def common_options() -> argparse.ArgumentParser:
    from rescue.usage import Parser

    common = Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print machine-readable JSON")
    common.add_argument(
        "--journal", metavar="FILE", help="record every command sent as JSON lines in FILE"
    )
    common.add_argument(
        "--drives", metavar="FILE", action="append", dest="drives_here", help=DRIVES_HELP
    )
    return common


def command_named(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names (its first word that is not an option of ``rescue`` itself).

    None when there is none, it is unknown, or help comes first: argparse then
    answers with the parser of every command, as before.
    """
    words = iter(argv)
    for word in words:
        if word in ("--", "-") or word.lstrip("-").replace(".", "", 1).isdigit():
            return None  # argparse's command word, or a positional like it: not a known command
        if word.startswith("-"):
            if word == "-h" or (len(word) > 2 and "--help".startswith(word)):
                return None  # the help of every command (argparse takes --he for --help)
            if "=" not in word and len(word) > 2 and "--drives".startswith(word):
                next(words, None)  # --drives FILE (or an abbreviation of it)
            continue
        return word if word in COMMAND_MODULES else None
    return None


def build_parser(command: str | None = None, *, as_json: bool = False) -> argparse.ArgumentParser:
    """The parser of every command, or only of ``command`` (its module alone is imported);
    ``as_json``: usage errors are raised for the JSON error object (``rescue.usage``)."""
    from rescue.usage import JsonUsageParser, Parser

    parser = (JsonUsageParser if as_json else Parser)(
        prog="rescue",
        description="Identify, diagnose, back up and flash optical drives.",
        epilog="Devices: /dev/srN, /dev/sgN, an index from `rescue list`, "
        "emu:MODEL[,key=value...] for an emulated drive (`rescue list --emulated` "
        "names them), or replay:JOURNAL.",
    )
    parser.add_argument("--version", action="version", version=f"rescue {__version__}")
    parser.add_argument("--drives", metavar="FILE", action="append", help=DRIVES_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = common_options()
    for name in COMMANDS if command is None else [COMMAND_MODULES[command]]:
        # the module itself (a fromlist makes __import__ return it, not the package): the
        # importlib package would be one module more before the command starts (issue 15)
        __import__(name, fromlist=("register",)).register(sub, common)
    return parser


def report_error(err: RescueError, as_json: bool) -> int:
    if as_json:
        import json

        print(json.dumps(err.to_dict(), indent=2))
    elif not draws(sys.stderr):  # the same words rich would write there, without loading it
        print(f"error: {err.message}", file=sys.stderr)
        if err.hint:
            print(f"next: {err.hint}", file=sys.stderr)
    else:
        from rich.console import Console
        from rich.markup import escape

        console = Console(stderr=True, highlight=False, soft_wrap=True)
        console.print(f"[bold red]error:[/] {escape(err.message)}", markup=True)
        if err.hint:
            console.print(f"[yellow]next:[/] {escape(err.hint)}", markup=True)
    return int(err.exit_code)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every way out is an exit code, never a traceback.

    A closed pipe (`rescue flash ... | head -1`) is the reader's choice, not an
    error: the rest of the output is dropped and the command goes on to its own end
    and exit code (``rescue.closedpipe``), so a flash is never cut short, nor its report
    lost, because its reader left; a screen waiting for keys ends (``_waits_for_keys``).
    Ctrl-C at any point, start-up included, is 130.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:  # no parser, no command modules: answers at once
        print(f"rescue {__version__}")
        return 0
    from rescue.closedpipe import ReaderMayLeave

    stdout = sys.stdout = ReaderMayLeave(sys.stdout)
    try:
        return _run(argv)
    finally:
        if sys.stdout is stdout:
            sys.stdout = stdout.stream


def _run(argv: list[str]) -> int:
    args = None
    as_json = False
    try:
        _ctrl_c_is_keyboard_interrupt()
        _odd_bytes_print_as_given()
        from rescue.usage import json_asked

        _with_journal_losses(0, tell=False)  # only this command's journals are its to tell
        command, as_json = command_named(argv), json_asked(argv)
        with _no_collection_while_importing():
            parser = build_parser(command, as_json=as_json)  # imports the command's modules
            args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return int(ExitCode.USAGE)
        from rescue.closedpipe import ReaderMayLeave

        if _waits_for_keys(args) and isinstance(sys.stdout, ReaderMayLeave):
            sys.stdout.carry_on = False
        drives = [*(args.drives or ()), *(getattr(args, "drives_here", None) or ())]
        with _drive_table(drives, check=bool(drives) or args.command in DRIVE_COMMANDS):
            return _with_journal_losses(int(args.func(args)))
    except RescueError as err:
        return _with_journal_losses(report_error(err, getattr(args, "json", as_json)))
    except KeyboardInterrupt:  # under --json too, the one error object a script reads
        from rescue.errors import Interrupted

        stopped = Interrupted("interrupted (Ctrl-C) before the command finished")
        return report_error(stopped, getattr(args, "json", as_json))
    except BrokenPipeError:  # past the wrapper (stdout.buffer), or a screen's reader left
        from rescue.closedpipe import drop_stdout

        drop_stdout()
        return int(ExitCode.OK)
    except Exception as err:  # what no check foresaw still ends as one line, not a traceback
        return report_error(unforeseen(err), getattr(args, "json", as_json))


@contextlib.contextmanager
def _no_collection_while_importing() -> Iterator[None]:
    """The cyclic garbage collector off while the command's modules load, as it was after.

    Importing allocates objects by the ten thousand and so starts collection
    after collection that find nothing to free; off, the imports of a scan took
    10-15% less time on the build host (docs/performance.md). The command
    itself runs with the collector as the caller had it.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _with_journal_losses(code: int, tell: bool = True) -> int:
    """After the command's own results: a journal its medium cut short, named on stderr (never
    inside --json's one object); a command that succeeded then ends with that error's code.
    Not ``tell``: forget what an earlier command in this process left (the menu's, a test's)."""
    if "rescue.transport.journal" not in sys.modules:
        return code
    from rescue import outputs
    from rescue.transport.journal import untold_losses

    losses = untold_losses()
    if not losses or not tell:
        return code
    told = outputs.tell(losses)
    return code or told


def _waits_for_keys(args: argparse.Namespace) -> bool:
    """The menu, and bench with no job (its screen): they draw and wait for a person."""
    jobs = ("flash", "backup", "doctor", "scan")
    return args.command == "menu" or (
        args.command == "bench" and not any(getattr(args, job, None) for job in jobs)
    )


def unforeseen(err: Exception) -> RescueError:
    """An exception no command turned into a ``RescueError``: its plain words and a category.

    The OS refusing a path (no permission, read-only, full) keeps that meaning;
    anything else is exit 1 and says it is rescue's fault, so it gets reported.
    """
    from rescue.errors import PermissionDenied

    if isinstance(err, OSError):
        where = f"{err.filename}: " if err.filename else ""
        message = f"{where}{err.strerror or err}"
        if isinstance(err, PermissionError):
            return PermissionDenied(message, "run as a user who may use that path, or name another")
        return RescueError(message, "check the path and the space left, then try again")
    return RescueError(
        f"unexpected {type(err).__name__}: {err}",
        "this is a bug in rescue: please report the command line and this message",
    )


def _ctrl_c_is_keyboard_interrupt() -> None:
    """Take Ctrl-C over from start-up's handler (``rescue/__init__.py``): from here on it is
    KeyboardInterrupt, which every command (a flash's chunk boundary, a scan's LBA) handles.
    Through ``_signal``, as start-up: signal.py's enums are not made for it."""
    import _signal

    import rescue

    if _signal.getsignal(_signal.SIGINT) is rescue._interrupted_while_starting:
        _signal.signal(_signal.SIGINT, _signal.default_int_handler)


def _odd_bytes_print_as_given() -> None:
    """No print fails on a character the output cannot encode.

    On UTF-8 output, a path's bytes that are not UTF-8 (Python holds them as lone
    surrogates) are printed back as those bytes, as `ls` prints them; on any other
    encoding (PYTHONIOENCODING=ascii, a Latin-1 locale) what it lacks becomes '?'.
    A stream set up otherwise (``rescue.terminal``: ASCII with replacement) is left alone.
    """
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            utf8 = str(getattr(stream, "encoding", "")).lower().replace("-", "") == "utf8"
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(errors="surrogateescape" if utf8 else "replace")


def _drive_table(drives: list[str], *, check: bool) -> contextlib.AbstractContextManager[None]:
    """``table.using(drives)``; a command that neither adds nor checks a drive table (explain,
    list) does not import the families: the table, not loaded yet, has no --drives to drop."""
    if drives or check or "rescue.families.table" in sys.modules:
        from rescue.families import table

        return table.using(drives, check=check)
    return contextlib.nullcontext()


def run() -> NoReturn:
    """The `rescue` script's entry (and the frozen app's): ``main``, then out of the process
    without the interpreter's teardown when nothing waits for it (``rescue.leave``)."""
    from rescue.leave import leave

    leave(main())


if __name__ == "__main__":
    run()
