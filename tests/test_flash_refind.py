"""A drive that vanishes after its commit and comes back as a new node is followed.

On a real USB path (tests/guest/test_usb_bot.py) the bridge resets after the
commit and usb-storage gives the drive a new host. Here the engine's two
hooks are replaced: the first wait meets DeviceNotFound, as on the real
path, and discovery "finds" the drive again under its new name, an
emulated spec holding the same flash (state=).
"""

from __future__ import annotations

import importlib
import json
import re
import shlex
from pathlib import Path

import pytest
from flash_cli import flash_and_journal

from rescue.cli import main
from rescue.discovery.model import DriveNode
from rescue.discovery.refind import Refound
from rescue.emulator.images import make_btc_image
from rescue.errors import DeviceNotFound

engine = importlib.import_module("rescue.engine.flash")


def found_at(node: str, scanned: str = "0043") -> Refound:
    """The drive as discovery shows it on NODE: its revision is the kernel's copy from the
    scan of the new node, which behind USB comes while the drive still burns."""
    drive = DriveNode(7, "7:0:0:0", None, node, "BTC", "DVDRW IDE1004", scanned, "usb", "sr")
    return Refound(drive=drive, moved=True, matched_by="unit serial number")


def re_enumerate(monkeypatch: pytest.MonkeyPatch, new: str, scanned: str = "0043") -> dict:
    """The first wait ends with the old node gone; discovery then "finds" the drive at NEW."""
    seen: dict = {"waits": 0}
    real_wait = engine.wait_until_back

    def wait(drive, family):  # type: ignore[no-untyped-def]
        seen["waits"] += 1
        events = real_wait(drive, family)  # the burn ends and the flash is saved (state=)
        if seen["waits"] == 1:  # ... but the old node is gone: the bridge re-enumerated
            raise DeviceNotFound("/dev/sg3: the drive vanished during command 00h")
        return events

    def find_again(key, *, timeout, poll):  # type: ignore[no-untyped-def]
        seen["key"] = key
        return found_at(new, scanned)

    monkeypatch.setattr(engine, "remember", lambda transport: "the drive's key")
    monkeypatch.setattr(engine, "wait_until_back", wait)
    monkeypatch.setattr("rescue.discovery.refind.find_again", find_again)
    return seen


def lose_power_and_move(
    tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    scanned: str = "0043",
) -> tuple[int, pytest.CaptureResult[str], str]:
    """Flash a BTC that loses power in its burn (boot loader after) and re-enumerates;
    (exit code, what was said, the new node)."""
    state = tmp / "btc.state"
    old = f"emu:btc-drw1004im,rev=0043,disc=none,commit=powerloss,state={state}"
    new = f"emu:btc-drw1004im,disc=none,state={state}"
    re_enumerate(monkeypatch, new, scanned)
    code, _ = flash_and_journal(old, tmp, make_btc_image("0050"))
    return code, capsys.readouterr(), new


def suggestions(text: str) -> list[list[str]]:
    return [shlex.split(c) for c in re.findall(r"`(rescue [^`]+)`", text)]


def test_the_flash_follows_the_drive_to_its_new_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "btc.state"
    spec = f"emu:btc-drw1004im,rev=0043,disc=none,state={state}"
    seen = re_enumerate(monkeypatch, f"emu:btc-drw1004im,disc=none,state={state}")
    code, _ = flash_and_journal(spec, tmp_path, make_btc_image("0050"))
    out = capsys.readouterr()
    assert code == 0, out.err
    assert seen["key"] == "the drive's key" and seen["waits"] == 2
    assert "came back as emu:btc-drw1004im" in out.out
    assert "now runs 0050" in out.out


def test_advice_after_a_re_enumeration_names_the_new_node_and_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 13: the drive loses power in its burn and comes back, in its boot loader, on a
    new node; "run the same command again" would open the old one. The advice is the flash
    on the new node, and pasted, it flashes the drive there."""
    code, out, new = lose_power_and_move(tmp_path, monkeypatch, capsys)
    err = out.err
    assert code == 1 and "came back in recovery mode" in err
    assert "commit=powerloss" not in err  # the old node is named nowhere
    (command,) = suggestions(err)
    assert command[:3] == ["rescue", "flash", new] and "--no-backup" in command
    report = json.loads(next((tmp_path / "reports").glob("flash-*.json")).read_text())
    assert report["device_after"] == new and report["error"]["hint"].count(new) == 1
    monkeypatch.undo()
    again = [*command[1:], "--yes", "--reports", str(tmp_path / "again")]
    assert main(again) == 0
    assert "now runs 0050" in capsys.readouterr().out


def test_the_read_test_after_a_re_enumeration_names_the_new_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "btc.state"
    new = f"emu:btc-drw1004im,disc=none,serial=NEW,state={state}"
    re_enumerate(monkeypatch, new)
    spec = f"emu:btc-drw1004im,rev=0043,disc=none,state={state}"
    code, _ = flash_and_journal(spec, tmp_path, make_btc_image("0050"), "--read-test")
    out = capsys.readouterr().out
    assert code == 0
    assert f"rescue doctor {shlex.quote(new)}" in out.replace("\n", " ")
    assert shlex.quote(spec) not in out


def test_without_a_key_the_vanished_drive_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def wait(drive, family):  # type: ignore[no-untyped-def]
        raise DeviceNotFound("/dev/sg3: the drive vanished during command 00h")

    monkeypatch.setattr(engine, "wait_until_back", wait)
    spec = f"emu:btc-drw1004im,rev=0043,disc=none,state={tmp_path / 's'}"
    code, _ = flash_and_journal(spec, tmp_path, make_btc_image("0050"))
    assert code == 3 and "vanished" in capsys.readouterr().err


def test_a_drive_back_in_its_boot_loader_on_a_new_node_is_flagged_when_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 13: the scan of the new node said 0043 (mid-burn); once the drive answers there,
    its own INQUIRY says BOOT, and the line that it came back says so, before the verify."""
    code, out, new = lose_power_and_move(tmp_path, monkeypatch, capsys)
    said = " ".join(out.out.split())
    assert code == 1
    found = said.index(f"the drive came back as {new}, matched by unit serial number")
    boot = said.index(f"the drive came back in its boot loader (revision BOOT) as {new}")
    assert found < boot
    report = json.loads(next((tmp_path / "reports").glob("flash-*.json")).read_text())
    (row,) = [r for r in report["preflight"] if r["name"] == "re-enumerated"]
    assert "in its boot loader (revision BOOT)" in row["detail"]
    checks = [r["name"] for r in report["preflight"]]
    assert checks.index("re-enumerated") < checks.index("verify")


def test_a_drive_the_scan_already_saw_in_its_boot_loader_is_said_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = lose_power_and_move(tmp_path, monkeypatch, capsys, scanned="BOOT")
    assert code == 1
    assert out.out.count("came back in its boot loader (revision BOOT)") == 1
