"""Ctrl-C during a flash: a request answered at a safe point (rescue/engine/interrupts.py).

SIGINT is sent to this very process from inside the emulated drive's command
path, as a user's Ctrl-C would arrive in the middle of the flash.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.drive import Drive
from rescue.emulator.images import make_btc_image

WRITE_BUFFER = 0x3B


def press_ctrl_c_at(monkeypatch: pytest.MonkeyPatch, when: str, count: int = 1) -> None:
    """Raise SIGINT just after the Nth command whose CDB starts with ``when`` (hex)."""
    original = Drive.command
    seen = {"n": 0}

    def command(self: Drive, cdb: bytes, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        result = original(self, cdb, *args, **kwargs)
        if bytes(cdb).hex().startswith(when):
            seen["n"] += 1
            if seen["n"] == count:
                os.kill(os.getpid(), signal.SIGINT)
        return result

    monkeypatch.setattr(Drive, "command", command)


def flash(tmp: Path, *extra: str) -> tuple[int, list[bytes]]:
    image = tmp / "V0050.bin"
    image.write_bytes(make_btc_image("0050"))
    journal = tmp / "j.jsonl"
    spec = f"emu:btc-drw1004im,rev=0043,disc=none,state={tmp / 'btc.state'}"
    code = main(["flash", spec, str(image), "--yes", "--no-backup", "--journal", str(journal),
                 "--reports", str(tmp / "reports"), *extra])  # fmt: skip
    sent = [bytes.fromhex(json.loads(line)["cdb"]) for line in journal.read_text().splitlines()]
    return code, sent


def revision(tmp: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    main(["info", f"emu:btc-drw1004im,disc=none,state={tmp / 'btc.state'}", "--json"])
    return str(json.loads(capsys.readouterr().out)["inquiry"]["revision"]).strip()


def test_during_the_upload_it_stops_at_a_chunk_boundary_before_the_commit(
    bench: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    press_ctrl_c_at(monkeypatch, "3b06", count=10)
    code, sent = flash(bench)
    err = capsys.readouterr().err
    assert code == 130
    writes = [cdb for cdb in sent if cdb[0] == WRITE_BUFFER]
    assert len(writes) == 10 and not any(cdb[1] & 0x1F == 7 for cdb in writes)
    assert "after 10 of 258 commands" in err and "nothing was saved to flash" in err
    assert "0043" in err
    monkeypatch.undo()
    assert revision(bench, capsys) == "0043"


def test_after_the_commit_it_goes_on_and_says_why(
    bench: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    press_ctrl_c_at(monkeypatch, "3b07")  # the commit itself
    code, sent = flash(bench)
    err = capsys.readouterr().err
    assert code == 0, err
    assert "rewriting its flash" in err
    monkeypatch.undo()
    assert revision(bench, capsys) == "0050"


def test_a_second_ctrl_c_after_the_commit_gets_the_reason(
    bench: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    press_ctrl_c_at(monkeypatch, "3b07")
    polls, sent = Drive.test_unit_ready, Drive.command
    committed = {"yes": False}

    def note_commit(self: Drive, cdb: bytes, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        committed["yes"] |= bytes(cdb).hex().startswith("3b07")
        return sent(self, cdb, *args, **kwargs)

    def poll_and_press(self: Drive):  # type: ignore[no-untyped-def]
        if committed["yes"]:
            os.kill(os.getpid(), signal.SIGINT)  # the user presses again while it waits
        return polls(self)

    monkeypatch.setattr(Drive, "command", note_commit)

    monkeypatch.setattr(Drive, "test_unit_ready", poll_and_press)
    code, _ = flash(bench)
    err = capsys.readouterr().err
    assert code == 0 and "will not stop now" in err


def test_before_the_first_write_nothing_is_sent(
    bench: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def confirm(*_question_and_how: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib.import_module("rescue.engine.flash"), "confirm", confirm)
    code, sent = flash(bench, "--json")
    out = capsys.readouterr().out
    assert code == 130
    assert not any(cdb[0] == WRITE_BUFFER for cdb in sent)
    assert "before the first write" in json.loads(out)["message"]
