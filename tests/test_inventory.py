"""`rescue list` and `rescue info` through the CLI, on emulated drives and fake trees."""

from __future__ import annotations

import json

import pytest

from rescue.cli import main
from rescue.drive import Drive
from rescue.emulator.registry import MODELS, create
from rescue.errors import ExitCode
from rescue.scsi.sense import SenseError
from rescue.transport.emulated import EmulatedTransport


def _json(capsys, argv: list[str]) -> tuple[int, dict]:  # noqa: ANN001
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_info_json_reports_identity_profiles_and_capabilities(capsys) -> None:  # noqa: ANN001
    code, report = _json(capsys, ["info", "emu:generic-dvd", "--json"])
    assert code == 0
    inq = report["inquiry"]
    assert (inq["vendor"], inq["product"], inq["revision"]) == ("RESCUE", "EMU DVD-ROM", "1.00")
    assert inq["device_type"] == 5
    assert report["current_profile"] == "DVD-ROM"
    assert {p["name"] for p in report["profiles"]} >= {"DVD-ROM", "CD-ROM"}
    assert report["capabilities"]["read_dvd_rom"] is True
    assert report["unit_attentions"] == ["6/29/00"]  # the power-on attention was consumed
    assert report["ready"] is True
    assert "ata_identify" in report["errors"]  # the model refuses ATA PASS-THROUGH: reported


def test_info_human_output_names_the_drive(capsys) -> None:  # noqa: ANN001
    assert main(["info", "emu:btc-drw1004im,rev=0043,disc=none"]) == 0
    out = capsys.readouterr().out
    assert "BTC DVDRW IDE1004 revision 0043" in out
    assert "2/3A/01" in out  # not ready: no disc, said in words next to the triple


def test_info_on_an_unknown_model_is_a_usage_error(capsys) -> None:  # noqa: ANN001
    assert main(["info", "emu:no-such-drive"]) == ExitCode.USAGE
    assert "no-such-drive" in capsys.readouterr().err


def test_info_on_a_missing_node_is_no_device(capsys) -> None:  # noqa: ANN001
    assert main(["info", "/dev/sg-missing-42"]) == ExitCode.NO_DEVICE


def test_list_emulated_names_every_model(capsys) -> None:  # noqa: ANN001
    code, models = _json(capsys, ["list", "--emulated", "--json"])
    assert code == 0 and set(models) == set(MODELS)
    assert models["btc-drw1004im"]["device"] == "emu:btc-drw1004im"


def test_list_reads_sysfs_and_says_so(capsys, monkeypatch, tmp_path) -> None:  # noqa: ANN001
    import rescue.discovery as discovery

    real = discovery.discover
    monkeypatch.setattr(
        discovery, "discover", lambda include_all=False: real(include_all, sysfs_root=str(tmp_path))
    )
    code, inventory = _json(capsys, ["list", "--json"])
    assert code == 0 and inventory["source"] == "sysfs" and inventory["drives"] == []


def test_journal_records_every_info_command(tmp_path, capsys) -> None:  # noqa: ANN001
    journal = tmp_path / "info.jsonl"
    assert main(["info", "emu:generic-cd", "--journal", str(journal)]) == 0
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert lines[0]["cdb"].startswith("12")  # INQUIRY first
    assert {line["cdb"][:2] for line in lines} >= {"12", "00", "46", "5a"}
    # the same session replays byte for byte
    capsys.readouterr()
    assert main(["info", f"replay:{journal}", "--json"]) == 0


def test_drive_raises_sense_error_with_the_triple() -> None:
    drive = Drive(EmulatedTransport(create("generic-dvd"), "emu:generic-dvd"))
    drive.settle()
    with pytest.raises(SenseError) as caught:
        drive.read_buffer(2, 0, 0, 16)
    assert caught.value.triple in {"5/20/00", "5/24/00"}
    assert caught.value.exit_code == ExitCode.ILLEGAL_REQUEST


def test_settle_consumes_attentions_then_reports_readiness() -> None:
    drive = Drive(EmulatedTransport(create("generic-cd,disc=none"), "emu:generic-cd"))
    sense, attentions = drive.settle()
    assert [a.triple for a in attentions] == ["6/29/00"]
    assert sense is not None and sense.triple.startswith("2/3A/")
