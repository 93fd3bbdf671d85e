"""The proof after a flash: each way it can fail is caught by its own branch.

`rescue flash` ends by waiting for the drive and reading it again
(rescue/engine/flash.py ``_verify``, rescue/families/base.py
``wait_until_back``). Each test below drives one failure and pins the message
only its branch gives, so deleting that branch makes the test fail. Checked
by mutation on 2026-12-03, one branch at a time, each run against this file:

- recovery-mode branch removed: the powerloss case fell through to the
  revision branch ("reports revision BOOT") and
  ``test_a_drive_back_in_its_boot_loader_is_not_a_success`` failed;
- wrong-revision branch removed: the flash reported success and
  ``test_a_drive_on_another_revision_is_not_a_success`` failed;
- read-back branch removed: success was reported and
  ``test_a_flash_that_reads_back_different_is_not_a_success`` failed;
- the time limit in ``wait_until_back`` removed: the wait never ended and
  ``test_a_drive_that_never_comes_back_is_reported`` failed on the alarm.
"""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from flash_cli import flash_and_journal

from rescue import record
from rescue.drive import Drive
from rescue.emulator.images import make_btc_image, make_mt1939_image
from rescue.families.mt1939 import Mt1939Family


def btc(tmp: Path, *keys: str) -> str:
    return ",".join(["emu:btc-drw1004im,rev=0043,disc=none", *keys, f"state={tmp / 'b.state'}"])


def test_a_drive_back_in_its_boot_loader_is_not_a_success(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = flash_and_journal(btc(tmp_path, "commit=powerloss"), tmp_path, make_btc_image("0050"))
    err = capsys.readouterr().err
    assert code == 1 and "came back in recovery mode" in err


def test_a_drive_on_another_revision_is_not_a_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The drive answers, but with a revision that is not the image's."""
    original = Drive.inquiry
    committed = {"yes": False}
    command = Drive.command

    def note(self: Drive, cdb: bytes, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        committed["yes"] |= bytes(cdb)[:2] == b"\x3b\x07"
        return command(self, cdb, *args, **kwargs)

    def inquiry(self: Drive):  # type: ignore[no-untyped-def]
        parsed = original(self)
        return record.replace(parsed, revision="0049") if committed["yes"] else parsed

    monkeypatch.setattr(Drive, "command", note)
    monkeypatch.setattr(Drive, "inquiry", inquiry)
    code, _ = flash_and_journal(btc(tmp_path), tmp_path, make_btc_image("0050"))
    err = capsys.readouterr().err
    assert code == 1 and "reports revision 0049, the image is 0050" in err


def test_a_flash_that_reads_back_different_is_not_a_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real read-back of the MT1939 model, held against one byte changed."""
    original = Mt1939Family.read_back

    def read_back(self: Mt1939Family, drive: Drive, data: bytes) -> bool | None:
        return original(self, drive, data[:-3] + bytes([data[-3] ^ 0x01]) + data[-2:])

    monkeypatch.setattr(Mt1939Family, "read_back", read_back)
    spec = f"emu:tsst-se506cb,disc=none,state={tmp_path / 'm.state'}"
    code, _ = flash_and_journal(spec, tmp_path, make_mt1939_image("TS02"), "--force", "identity")
    err = capsys.readouterr().err
    assert code == 1 and "read back differs" in err


def test_a_drive_that_never_comes_back_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every TEST UNIT READY after the first few says 'operation in progress'."""

    def endless(*_: object) -> None:
        raise TimeoutError("the wait for the drive never ended")

    previous = signal.signal(signal.SIGALRM, endless)
    signal.alarm(60)
    try:
        spec = btc(tmp_path, "fault=sense:2/04/07@00.4-1000000")
        code, _ = flash_and_journal(spec, tmp_path, make_btc_image("0050"))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    err = capsys.readouterr().err
    assert code == 11 and "did not come back" in err
