"""MT1959 images judged as redumper judges them: by the configuration id at 0x3000.

Source facts: redumper ``drive/flash_mt1959.ixx`` (``redumper_flash_mt1959``,
``extract_firmware_config``, ``MT1959_SUPPORTED_DRIVES``); docs/families/mt1959.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.emulator.images import MT1959_CONFIG_AT, make_mt1959_image
from rescue.firmware import load_firmware
from rescue.firmware.layouts import detect, mt1959


def with_id(data: bytes, config_id: bytes) -> bytes:
    out = bytearray(data)
    out[MT1959_CONFIG_AT : MT1959_CONFIG_AT + len(config_id)] = config_id
    return bytes(out)


def test_recognised_by_its_configuration_id_not_by_size(tmp_path: Path) -> None:
    image = make_mt1959_image("3.10")
    assert len(image) == 0x200000  # the MT1939 size: content must win over size
    assert detect(image) is mt1959
    path = tmp_path / "fw.bin"
    path.write_bytes(image)
    fw = load_firmware(path)
    assert fw.family == "mt1959" and fw.usable, fw.problems
    assert fw.identity.extra == {"config_id": "MT1959 Boot JB8 "}
    assert any("ASUS BW-16D1HT" in note and "BD-RE BH16NS40" in note for note in fw.notes)


def test_any_size_from_the_boot_area_up(tmp_path: Path) -> None:
    """redumper takes any file of at least 0x10000 bytes; no size rule beyond that."""
    image = make_mt1959_image("3.10")
    for size in (0x10000, 0x180000):
        path = tmp_path / f"fw{size:x}.bin"
        path.write_bytes(image[:size])
        fw = load_firmware(path)
        assert fw.family == "mt1959" and fw.usable
    path = tmp_path / "short.bin"
    path.write_bytes(image[:0xFFFF])
    fw = load_firmware(path, family="mt1959")
    assert not fw.usable and "smaller than the 0x10000-byte area" in fw.problems[0]


def test_id_outside_redumpers_table_is_said(tmp_path: Path) -> None:
    path = tmp_path / "fw.bin"
    path.write_bytes(with_id(make_mt1959_image("3.10"), b"MT1959 Boot ZZ9 "))
    fw = load_firmware(path)
    assert fw.family == "mt1959" and fw.usable
    assert any("not in redumper's table" in note for note in fw.notes)


@pytest.mark.parametrize("block", [b"\xff" * 16, b"\x00" * 16, b"MT1959 Boot\x01JB8 "])
def test_no_readable_id_is_a_problem_when_named(tmp_path: Path, block: bytes) -> None:
    path = tmp_path / "fw.bin"
    path.write_bytes(with_id(make_mt1959_image("3.10"), block))
    assert detect(path.read_bytes()) is not mt1959
    fw = load_firmware(path, family="mt1959")
    assert not fw.usable
    assert any("no configuration id at 0x3000" in p for p in fw.problems)


def test_fw_inspect_says_what_it_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "fw.bin"
    path.write_bytes(make_mt1959_image("3.10"))
    assert main(["fw", "inspect", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["family"] == "mt1959"
    assert doc["identity"]["extra"] == {"config_id": "MT1959 Boot JB8 "}
    assert main(["fw", "inspect", str(path)]) == 0
    assert "MT1959 Boot JB8" in capsys.readouterr().out
