"""An error written anywhere but a terminal is two plain lines, and rich is not loaded for it.

rich writes the same words to a pipe or a file; loading it cost an error
more start-up than the command itself under an emulated CPU (an empty
drive's scan took seconds to say so). On a terminal the colours stay.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rescue.cli import report_error
from rescue.errors import BadInput

PROBE = """
import json, sys
from rescue.cli import main
code = main(sys.argv[1:])
print(json.dumps([code, sorted(m for m in sys.modules if m.split(".")[0] == "rich")]),
      file=sys.__stdout__)
"""


def test_an_error_into_a_pipe_is_plain_and_loads_no_rich() -> None:
    env = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "scan", "emu:generic-dvd,disc=none"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    code, rich_modules = json.loads(done.stdout.splitlines()[-1])
    assert code == 7 and rich_modules == []
    lines = done.stderr.splitlines()
    assert lines[0].startswith("error: ") and lines[1].startswith("next: "), done.stderr
    assert "\x1b[" not in done.stderr


def test_the_plain_lines_are_the_words_rich_writes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    err = BadInput("a [bold]drive[/] said: 100% :smile:", hint="name another")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert report_error(err, as_json=False) == int(err.exit_code)
    plain = capsys.readouterr().err
    assert plain == "error: a [bold]drive[/] said: 100% :smile:\nnext: name another\n"
    monkeypatch.setenv("FORCE_COLOR", "1")
    report_error(err, as_json=False)
    drawn = capsys.readouterr().err
    assert "\x1b[" in drawn and "a [bold]drive[/] said: 100%" in drawn  # rich, markup escaped
