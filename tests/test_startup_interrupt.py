"""Ctrl-C while `rescue` is still importing itself: exit 130 and one line, never a traceback.

The window is real: on a slow machine (the boot image under TCG, a USB stick)
the imports before ``main()`` take a noticeable time. Only the interpreter's
own start (before ``import rescue``) is outside rescue's reach.
"""

from __future__ import annotations

import subprocess
import sys

STARTED_AS_RESCUE = "import sys; sys.argv[0] = '/usr/bin/rescue'; "


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", STARTED_AS_RESCUE + code], capture_output=True, text=True, timeout=60
    )


def test_ctrl_c_during_the_imports_is_130_and_one_line() -> None:
    done = _run(
        "import os, signal, rescue; os.kill(os.getpid(), signal.SIGINT); "
        "import rescue.cli; print('not reached')"
    )
    assert done.returncode == 130
    assert done.stderr == "interrupted\n" and done.stdout == ""


def test_main_takes_ctrl_c_over_so_commands_see_keyboard_interrupt() -> None:
    done = _run(
        "import signal; from rescue.cli import main; "
        "main(['explain', '5/20/0']); "
        "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "True"


def test_imported_by_a_program_of_its_own_rescue_leaves_ctrl_c_alone() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import signal, rescue; "
         "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.stdout.strip() == "True", done.stderr
