"""A flash whose journal cannot be written, or whose report a late Ctrl-C would cut (issue 11).

Before the commit, a journal that stops taking lines (a full medium) stops the flash
at a chunk boundary with the drive as it was; after the commit it never stops it:
the wait and the verify go on and the report says where the journal ends. The full
medium is a fake file object under the journal (no root, no tmpfs mount needed).

Checked by mutation, once each: dropping the per-step journal check, the journal's
``caller_reports_failure``, the guard's ``saving`` (the guard lowered after the
verify as before) or ``let_through`` for the read test each fails a test here.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from full_medium import fill_the_medium

from rescue.cli import main
from rescue.emulator.images import make_btc_image

engine = importlib.import_module("rescue.engine.flash")  # the package's `flash` is the function
COMMIT = '"cdb": "3b07'  # the BTC family's save-to-flash WRITE BUFFER (mode 7)


def flash(tmp: Path, *extra: str) -> int:
    image = tmp / "V0050.bin"
    image.write_bytes(make_btc_image("0050"))
    spec = f"emu:btc-drw1004im,rev=0043,disc=none,state={tmp / 'btc.state'}"
    return main(["flash", spec, str(image), "--yes", "--no-backup", "--journal",
                 str(tmp / "j.jsonl"), "--reports", str(tmp / "reports"), *extra])  # fmt: skip


def revision(tmp: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    main(["info", f"emu:btc-drw1004im,disc=none,state={tmp / 'btc.state'}", "--json"])
    return str(json.loads(capsys.readouterr().out)["inquiry"]["revision"]).strip()


def the_report(tmp: Path) -> dict[str, Any]:
    (path,) = (tmp / "reports").glob("flash-*.json")
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    "lines, where",
    [(3, "stopped before the first write"), (120, "stopped after 117 of 258 commands")],
)
def test_a_full_journal_before_the_commit_stops_the_flash_unsaved(
    bench: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lines: int,
    where: str,
) -> None:
    fill_the_medium(monkeypatch, lambda written, data: written >= lines)
    code = flash(bench)
    err = capsys.readouterr().err
    assert code == 5, err
    assert f"journal {bench / 'j.jsonl'}: cannot write it (No space left on device)" in err
    assert f"{where}: nothing was committed, the drive is as it was (revision 0043)" in err
    kept = (bench / "j.jsonl").read_text().splitlines()
    assert len(kept) == lines and not any(COMMIT in line for line in kept)
    report = the_report(bench)
    assert report["result"] == "failed" and report["steps_sent"] < report["steps_total"]
    monkeypatch.undo()
    assert revision(bench, capsys) == "0043"


@pytest.mark.parametrize("its_own_line", [False, True], ids=["after it", "the commit's line"])
def test_a_journal_full_after_the_commit_never_stops_the_flash(
    bench: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    its_own_line: bool,
) -> None:
    """The commit was sent either way; when its own line is the one lost, the check
    after that step must already count it as committed (checked: removing that
    condition from ``_stop_if_journal_lost`` fails the second case)."""
    seen = {"commit": False}

    def after_the_commit(lines: int, data: bytes) -> bool:
        commit = COMMIT.encode() in data
        full = seen["commit"] or (its_own_line and commit)
        seen["commit"] = seen["commit"] or commit
        return full

    fill_the_medium(monkeypatch, after_the_commit)
    code = flash(bench)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"the journal is incomplete: {bench / 'j.jsonl'}: No space left on device" in err
    report = the_report(bench)
    assert report["result"] == "success" and report["drive_after"]["revision"] == "0050"
    assert report["wait_events"] and "verify" in [c["name"] for c in report["preflight"]]
    assert report["journal_incomplete"].startswith(f"{bench / 'j.jsonl'}: No space left")
    assert f"journal: {bench / 'j.jsonl'} (incomplete)" in out.replace("\n", " ")
    assert (COMMIT in (bench / "j.jsonl").read_text().splitlines()[-1]) is not its_own_line


def test_ctrl_c_while_the_report_is_saved_keeps_the_report(
    bench: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    original = engine.FlashJob._save

    def save(self: engine.FlashJob) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # the user's Ctrl-C, just after "success"
        original(self)

    monkeypatch.setattr(engine.FlashJob, "_save", save)
    code = flash(bench)
    err = capsys.readouterr().err
    assert code == 0, err
    assert "rescue saves its report, then ends" in err
    assert the_report(bench)["result"] == "success"


def test_ctrl_c_during_the_read_test_ends_only_the_read_test(
    bench: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def read_test(*args: object) -> dict[str, Any]:
        os.kill(os.getpid(), signal.SIGINT)
        raise AssertionError("the Ctrl-C did not reach the read test")

    monkeypatch.setattr(engine, "read_test_after_flash", read_test)
    code = flash(bench, "--read-test")
    assert code == 0, capsys.readouterr().err
    report = the_report(bench)
    assert report["result"] == "success"
    assert report["read_test"] == {"status": "skipped", "verdict": "read test interrupted"}


def test_ctrl_c_while_the_json_is_printed_keeps_the_printout(
    bench: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json's printout is the last thing a flash does: a Ctrl-C then once exited 130 with
    no JSON on stdout although the drive was flashed and verified."""
    ops_flash = importlib.import_module("rescue.ops.flash")

    def print_after_ctrl_c(*args: Any, **kwargs: Any) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # the user's Ctrl-C, as the printout starts
        print(*args, **kwargs)

    monkeypatch.setattr(ops_flash, "print", print_after_ctrl_c, raising=False)
    code = flash(bench, "--json")
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["result"] == "success"
