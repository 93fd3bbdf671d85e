"""The way out of the process (rescue.leave): at once when nothing waits for the
interpreter's teardown, the usual way when something does; and what that relies on,
that a command has closed every file it wrote by the time it returns."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _leaving(before: str, code: int, cwd: Path) -> subprocess.CompletedProcess:
    """A process that runs BEFORE (lines of Python), then leaves with CODE."""
    script = f"import sys\nfrom rescue.leave import leave, nothing_waits\n{before}\nleave({code})\n"
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_a_quick_exit_keeps_the_code_and_flushes_both_streams(tmp_path: Path) -> None:
    done = _leaving(
        "assert nothing_waits()\nprint('out', end=''); print('err', end='', file=sys.stderr)",
        3, tmp_path,
    )  # fmt: skip
    assert (done.returncode, done.stdout, done.stderr) == (3, "out", "err")


def test_an_atexit_callback_still_runs(tmp_path: Path) -> None:
    done = _leaving(
        "import atexit\natexit.register(print, 'callback ran')\nassert not nothing_waits()",
        4, tmp_path,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (4, "callback ran\n")


def test_a_running_thread_is_waited_for(tmp_path: Path) -> None:
    late = "def late():\n    time.sleep(0.3)\n    open('late', 'w').write('done')"
    done = _leaving(
        f"import threading, time\n{late}\nthreading.Thread(target=late).start()\n"
        "assert not nothing_waits()",
        0, tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "late").read_text() == "done"


class _FailingStream:
    def flush(self) -> None:
        raise BrokenPipeError(32, "the reader has gone")


def test_a_stream_that_cannot_be_flushed_goes_the_usual_way(monkeypatch) -> None:
    """stdout's reader gone (and not yet handled): the interpreter's own exit deals with it."""
    from rescue import leave as way_out

    def no_quick_exit(code: int) -> None:
        raise AssertionError(f"os._exit({code}) with an unflushed stream")

    monkeypatch.setattr(way_out, "nothing_waits", lambda: True)
    monkeypatch.setattr(way_out.os, "_exit", no_quick_exit)
    monkeypatch.setattr(sys, "stdout", _FailingStream())
    with pytest.raises(SystemExit) as left:
        way_out.leave(5)
    assert left.value.code == 5


# Every command that writes files, each on an emulated drive; after each returns, no file
# object the process opened for writing is still open (the quick way out would drop what
# such a file still buffers).
WRITERS = [
    ["scan", "emu:generic-dvd", "--end", "64", "--reports", "r", "--mapfile", "scan.map",
     "--journal", "scan.jsonl"],
    ["backup", "emu:tsst-se506cb", "-o", "backup.bin", "--journal", "backup.jsonl"],
    ["flash", "emu:btc-drw1004im,rev=0043,disc=none,state=drive.state", "V0050.bin", "--yes",
     "--no-backup", "--reports", "r", "--journal", "flash.jsonl"],
    ["info", "emu:generic-dvd", "--journal", "info.jsonl"],
]  # fmt: skip
CHECK_OPEN = """
import gc, io, json, sys
from rescue.cli import main
argv = json.loads(sys.argv[1])
code = main(argv)
def standard(f):
    try:
        return f.fileno() in (1, 2)
    except (OSError, ValueError):
        return False
left = [
    getattr(f, "name", repr(f)) for f in gc.get_objects()
    if isinstance(f, io.IOBase) and not f.closed and not standard(f)
    and getattr(f, "mode", "r") not in ("r", "rb")
]
print(json.dumps({"code": code, "left": [str(name) for name in left]}))
"""


@pytest.mark.parametrize("argv", WRITERS, ids=[a[0] for a in WRITERS])
def test_a_command_has_closed_every_file_it_wrote_when_it_returns(
    argv: list[str], tmp_path: Path
) -> None:
    if argv[0] == "flash":
        made = subprocess.run(
            [sys.executable, "-m", "rescue.emulator.images", "btc", "0050", "-o", "V0050.bin"],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
    done = subprocess.run(
        [sys.executable, "-c", CHECK_OPEN, json.dumps(argv)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "left": []}, done.stdout[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".jsonl") == [
        f"{argv[0]}.jsonl"
    ]
