"""A drive that vanishes after its commit and comes back as a new node is followed.

On a real USB path (tests/guest/test_usb_bot.py) the bridge resets after the
commit and usb-storage gives the drive a new host. Here the engine's two
hooks are replaced: the first wait meets DeviceNotFound, as on the real
path, and discovery "finds" the drive again under its new name, an
emulated spec holding the same flash (state=).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from flash_cli import flash_and_journal

from rescue.emulator.images import make_btc_image
from rescue.errors import DeviceNotFound

engine = importlib.import_module("rescue.engine.flash")


@dataclass
class Found:
    node: str
    matched_by: str = "unit serial"
    moved: bool = True

    def in_recovery(self, revisions: tuple[str, ...]) -> bool:
        return False


def test_the_flash_follows_the_drive_to_its_new_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "btc.state"
    spec = f"emu:btc-drw1004im,rev=0043,disc=none,state={state}"
    waits = {"n": 0}
    real_wait = engine.wait_until_back

    def wait(drive, family):  # type: ignore[no-untyped-def]
        waits["n"] += 1
        events = real_wait(drive, family)  # the burn ends and the flash is saved (state=)
        if waits["n"] == 1:  # ... but the old node is gone: the bridge re-enumerated
            raise DeviceNotFound("/dev/sg3: the drive vanished during command 00h")
        return events

    asked = {}

    def find_again(key, *, timeout, poll):  # type: ignore[no-untyped-def]
        asked["key"] = key
        return Found(f"emu:btc-drw1004im,disc=none,state={state}")

    monkeypatch.setattr(engine, "remember", lambda transport: "the drive's key")
    monkeypatch.setattr(engine, "wait_until_back", wait)
    monkeypatch.setattr("rescue.discovery.refind.find_again", find_again)
    code, _ = flash_and_journal(spec, tmp_path, make_btc_image("0050"))
    out = capsys.readouterr()
    assert code == 0, out.err
    assert asked["key"] == "the drive's key" and waits["n"] == 2
    assert "came back as emu:btc-drw1004im" in out.out
    assert "now runs 0050" in out.out


def test_without_a_key_the_vanished_drive_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def wait(drive, family):  # type: ignore[no-untyped-def]
        raise DeviceNotFound("/dev/sg3: the drive vanished during command 00h")

    monkeypatch.setattr(engine, "wait_until_back", wait)
    spec = f"emu:btc-drw1004im,rev=0043,disc=none,state={tmp_path / 's'}"
    code, _ = flash_and_journal(spec, tmp_path, make_btc_image("0050"))
    assert code == 3 and "vanished" in capsys.readouterr().err
