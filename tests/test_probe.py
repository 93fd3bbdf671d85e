"""`rescue probe`: one zero-length WRITE BUFFER in data mode, and its answer in plain words."""

from __future__ import annotations

import json
from pathlib import Path

from rescue.cli import main
from rescue.drive import Drive
from rescue.emulator.registry import create
from rescue.emulator.sense import NO_MEDIUM_TRAY_CLOSED, CheckCondition
from rescue.ops.probe import probe
from rescue.transport.emulated import EmulatedTransport
from rescue.transport.journal import read_journal

WRITE_BUFFER = 0x3B


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(["probe", *argv])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_drive_without_write_buffer_is_explained_as_5_20_00(bench: Path, capsys):
    journal = bench / "probe.jsonl"
    code, out = run(capsys, "emu:generic-dvd,disc=none", "--journal", str(journal))
    assert code == 9  # sense key 5: the drive rejected the command
    assert "refused (5/20/00 INVALID COMMAND OPERATION CODE)" in out
    assert "does not implement the command" in out
    assert "no update protocol is known for this drive" in out
    sent = [bytes.fromhex(str(r["cdb"])) for r in read_journal(journal)]
    probes = [c for c in sent if c[0] == WRITE_BUFFER]
    assert probes == [bytes([WRITE_BUFFER, 0x02]) + bytes(8)], "mode 02h, ID 0, offset 0, length 0"
    assert all(r["out_len"] == 0 for r in read_journal(journal))


def test_a_known_family_refusing_the_opcode_points_to_its_own_protocol(bench: Path, capsys):
    code, out = run(capsys, "emu:tsst-shd163c,disc=none")
    assert code == 9
    assert "5/20/00" in out
    assert "it is a TSST MediaTek DVD-ROM drive" in out
    assert "rescue plan emu:tsst-shd163c,disc=none --to REV" in out


def test_write_buffer_present_but_not_mode_02_is_told_apart(bench: Path, capsys):
    code, out = run(capsys, "--json", "emu:btc-drw1004im,disc=none")
    result = json.loads(out)
    assert code == result["exit_code"] == 9
    assert result["accepted"] is False
    assert result["sense"]["triple"] == "5/24/00"
    assert "vendor modes" in result["verdict"]
    assert result["family"] == "BTC / MediaTek MT1x08"


def test_a_drive_that_accepts_is_reported_open_and_nothing_is_written():
    device = create("generic-dvd,disc=none")
    received: list[tuple[bytes, bytes | None]] = []

    def accept(cdb: bytes, data_out: bytes | None) -> bytes:
        received.append((cdb, data_out))
        return b""

    device.handlers[WRITE_BUFFER] = accept  # a drive with SPC's plain WRITE BUFFER
    result = probe(Drive(EmulatedTransport(device, name="emu:accepting")))
    assert result.accepted and result.exit_code == 0
    assert result.sense is None
    assert "update path is open" in result.verdict
    assert received == [(bytes([WRITE_BUFFER, 0x02]) + bytes(8), None)]


def test_not_ready_is_no_answer_about_write_buffer():
    """Like QEMU's scsi-cd: an empty drive says NO MEDIUM before it looks at the opcode."""
    device = create("generic-dvd,disc=none")

    def not_ready(cdb: bytes, data_out: bytes | None) -> bytes:
        raise CheckCondition(NO_MEDIUM_TRAY_CLOSED)

    device.handlers[WRITE_BUFFER] = not_ready
    result = probe(Drive(EmulatedTransport(device, name="emu:empty")))
    assert not result.accepted and result.exit_code == 7  # sense key 2: not ready
    assert result.verdict.startswith("not answered (2/3A/01 ")
    assert "no answer about WRITE BUFFER" in result.verdict
    assert "put any readable disc in and probe again" in result.next_step


def test_a_pending_unit_attention_is_not_taken_for_the_answer():
    device = create("generic-cd,disc=none")  # powers on with 6/29/00 queued
    result = probe(Drive(EmulatedTransport(device, name="emu:generic-cd")))
    assert result.sense is not None and result.sense["triple"] == "5/20/00"


def test_a_missing_device_is_one_line_with_its_exit_code(bench: Path, capsys):
    code, out = run(capsys, "emu:no-such-model")
    assert code == 2
    assert out.startswith("error:") and "Traceback" not in out


def _bridged(spec: str):
    from rescue.emulator.usb_bridge import BridgedDevice

    return Drive(EmulatedTransport(BridgedDevice(create(spec)), name=f"emu:{spec}"))


def test_behind_a_usb_bridge_a_refused_opcode_the_family_implements_is_the_bridges():
    result = probe(_bridged("btc-drw1004im,disc=none"))
    assert result.accepted is False and result.exit_code == 9
    assert result.sense["triple"] == "5/20/00"
    assert result.refused_by["who"] == "bridge"
    assert result.verdict.startswith("refused (5/20/00 INVALID COMMAND OPERATION CODE): "
                                     "the USB bridge refused it, not the drive")  # fmt: skip
    assert "implements opcode 3Bh" in result.verdict and "152d:2339" in result.verdict
    assert "SATA or IDE port" in result.next_step
    assert result.path["attachment"] == "usb-bot"


def test_behind_a_usb_bridge_without_evidence_either_may_have_refused():
    result = probe(_bridged("generic-dvd,disc=none"))
    assert result.refused_by["who"] == "bridge or drive"
    assert "does not implement the command" in result.verdict
    assert "or the USB bridge refused it" in result.verdict
    assert "to rule the bridge out" in result.next_step


def test_without_a_bridge_the_answer_stays_the_drives():
    result = probe(Drive(EmulatedTransport(create("btc-drw1004im,disc=none"), name="emu:btc")))
    assert result.refused_by is None and result.sense["triple"] == "5/24/00"
    assert result.path["attachment"] == "emulated"
