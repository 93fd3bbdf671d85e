"""The flash's "no disc" check on emulated drives: only 2/3A/xx means empty.

A fault rule makes the emulated drive answer TEST UNIT READY (opcode 00) with
a chosen sense. 2/3A/xx passes, a unit attention is consumed and the question
asked again, 2/04/xx is refused as busy, and every other answer stops the
flash with the sense explained (``rescue.scsi.advice``), before any write.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.devices import open_device
from rescue.drive import Drive
from rescue.emulator.images import make_btc_image
from rescue.errors import ExitCode, Refused
from rescue.ops.safety import check_no_disc

WRITE_BUFFER = 0x3B


def _drive(spec: str) -> Drive:
    return Drive(open_device(f"emu:{spec}"))


def test_an_empty_drive_passes() -> None:
    assert check_no_disc(_drive("generic-dvd,disc=none")) == "empty (2/3A/01)"


def test_a_tray_open_answer_counts_as_empty() -> None:
    assert "2/3A/02" in check_no_disc(_drive("generic-dvd,disc=none,fault=sense:2/3A/02@00"))


def test_a_unit_attention_is_consumed_and_the_question_asked_again() -> None:
    drive = _drive("generic-dvd,disc=none,fault=sense:6/29/00@00.1")
    assert check_no_disc(drive) == "empty (2/3A/01)"


def test_a_disc_in_the_drive_is_refused() -> None:
    with pytest.raises(Refused, match="a disc is in the drive") as refused:
        check_no_disc(_drive("generic-dvd"))
    assert "`disc=none`" in (refused.value.hint or "")  # an emulated drive has no tray to open


def test_the_eject_suggested_names_the_node_quoted() -> None:
    """Once `eject DEV` was printed literally; the step must work as printed."""
    from rescue.emulator.registry import create
    from rescue.transport.emulated import EmulatedTransport

    drive = Drive(EmulatedTransport(create("generic-dvd"), name="/dev/sg 7"))
    with pytest.raises(Refused) as refused:
        check_no_disc(drive)
    assert "`eject '/dev/sg 7'`" in (refused.value.hint or "")


def test_becoming_ready_is_refused_as_busy() -> None:
    with pytest.raises(Refused, match="busy or loading"):
        check_no_disc(_drive("generic-dvd,disc=none,fault=sense:2/04/01@00"))


@pytest.mark.parametrize(
    ("triple", "words"),
    [
        ("2/30/00", "cannot be used"),  # a disc the drive cannot read: a disc all the same
        ("4/44/00", "failed inside"),
        ("5/20/00", "does not implement"),
        ("3/31/00", "format is corrupt"),
        ("2/3E/00", "2/3E/00"),  # not ready for another reason than "no medium"
        ("B/00/00", "B/00/00"),
    ],
)
def test_every_other_answer_stops_with_its_sense_explained(triple: str, words: str) -> None:
    drive = _drive(f"generic-dvd,disc=none,fault=sense:{triple}@00")
    with pytest.raises(Refused) as caught:
        check_no_disc(drive)
    assert triple in caught.value.message and words in caught.value.message
    assert "did not say it is empty" in caught.value.message
    assert caught.value.hint  # the advice's next step
    assert "\n" not in caught.value.message


@pytest.mark.parametrize("triple", ["2/30/00", "4/44/00", "5/20/00"])
def test_a_flash_on_such_an_answer_sends_no_write(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, triple: str
) -> None:
    monkeypatch.setenv("RESCUE_LOCK_DIR", str(tmp_path / "locks"))
    image = tmp_path / "fw.bin"
    image.write_bytes(make_btc_image("0050"))
    journal = tmp_path / "journal.jsonl"
    device = f"emu:btc-drw1004im,disc=none,fault=sense:{triple}@00"
    argv = ["flash", device, str(image), "--yes", "--no-backup", "--journal", str(journal)]
    code = main([*argv, "--reports", str(tmp_path / "reports")])
    err = capsys.readouterr().err
    assert code == ExitCode.REFUSED
    assert triple in err and "Traceback" not in err
    sent = [bytes.fromhex(json.loads(line)["cdb"]) for line in journal.read_text().splitlines()]
    assert sent and not [cdb for cdb in sent if cdb[0] == WRITE_BUFFER]
