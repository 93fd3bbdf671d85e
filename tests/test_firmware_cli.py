"""``rescue fw inspect``: text and JSON output, exit codes 0 and 5."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from test_firmware_builders import btc_hex_lines, btc_image, mt1939_image, to_text

from rescue import cli
from rescue.errors import ExitCode, RescueError
from rescue.firmware.catalog import CatalogError
from rescue.ops import fw_inspect


def run(argv: list[str]) -> int:
    """The CLI frame's dispatch, limited to this command (other commands are not needed)."""
    parser = argparse.ArgumentParser(prog="rescue")
    fw_inspect.register(parser.add_subparsers(dest="command"), cli.common_options())
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except RescueError as err:
        return cli.report_error(err, args.json)


def test_registered_in_cli() -> None:
    assert "rescue.ops.fw_inspect" in cli.COMMANDS


def test_valid_hex_text_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = btc_image(revision="0151")
    path = tmp_path / "V0151.HEX"
    path.write_bytes(to_text(btc_hex_lines(image)))
    assert run(["fw", "inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "family: btc" in out and "format: hex" in out
    assert "revision: 0151" in out
    assert f"0x{sum(image) & 0xFFFF:04X}" in out
    assert "usable for flashing" in out and "problem" not in out


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "fw.bin"
    path.write_bytes(mt1939_image())
    assert run(["fw", "inspect", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["family"] == "mt1939" and doc["usable"] is True
    assert doc["identity"]["revision"] == "TS01"
    assert doc["checksum"]["valid"] is True and doc["checksum"]["stored_at"] == 0x1FFFFE
    assert doc["problems"] == [] and len(doc["sha256"]) == 64


def test_problems_exit_5_and_say_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = bytearray(mt1939_image())
    data[0x20000] ^= 0x10
    path = tmp_path / "bad.bin"
    path.write_bytes(bytes(data))
    assert run(["fw", "inspect", str(path)]) == ExitCode.BAD_INPUT
    out = capsys.readouterr().out
    assert "INVALID" in out and "checksum mismatch" in out
    assert "NOT usable for flashing" in out
    assert run(["fw", "inspect", "--json", str(path)]) == ExitCode.BAD_INPUT
    assert json.loads(capsys.readouterr().out)["usable"] is False


def test_unusable_file_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "V0050.HEX"
    path.write_text(":00000155AA\n:00000001FF\n")
    assert run(["fw", "inspect", str(path)]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert "error:" in err and str(path) in err and "1 bank separators" in err
    assert "Traceback" not in err
    assert run(["fw", "inspect", "--json", str(tmp_path / "missing.bin")]) == 5
    doc = json.loads(capsys.readouterr().out)
    assert doc["error"] == "BadInput" and doc["exit_code"] == 5


def test_family_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "V0050.bin"
    path.write_bytes(btc_image())
    assert run(["fw", "inspect", "--family", "mt1939", str(path)]) == ExitCode.BAD_INPUT
    assert "does not match the mt1939 layout" in capsys.readouterr().out


def test_broken_catalog_is_reported_not_fatal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def tampered() -> None:
        raise CatalogError("catalog.json: sha256 does not match its manifest")

    monkeypatch.setattr(fw_inspect, "load_catalog", tampered)
    path = tmp_path / "V0050.bin"
    path.write_bytes(btc_image())
    assert run(["fw", "inspect", str(path)]) == 0
    assert "catalog unavailable: catalog.json: sha256 does not match" in capsys.readouterr().out


def test_catalog_contradiction_makes_image_unusable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "odd.bin"
    path.write_bytes(btc_image(vendor="TSSTcorp", product="BDDVDW SE-506CB"))
    assert run(["fw", "inspect", "--json", str(path)]) == ExitCode.BAD_INPUT
    doc = json.loads(capsys.readouterr().out)
    assert any("as a mt1939 drive" in p for p in doc["problems"])
