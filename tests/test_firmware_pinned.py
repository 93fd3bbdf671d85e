"""A firmware file pinned once (``rescue.firmware.image.pinned``): what loads inside it see."""

from __future__ import annotations

from pathlib import Path

import pytest

from rescue.emulator.images import make_btc_image
from rescue.errors import BadInput
from rescue.firmware.image import load_firmware, pinned


def test_inside_the_pin_loads_use_the_bytes_read_once(tmp_path: Path) -> None:
    path = tmp_path / "fw.bin"
    path.write_bytes(make_btc_image("0050"))
    with pinned(path) as pin:
        assert pin.image is not None and pin.image.family == "btc"
        path.write_bytes(make_btc_image("0151"))
        assert load_firmware(path) is pin.image
        assert load_firmware(str(path), "btc") is pin.image
        assert load_firmware(path).identity.revision == "0050"
    assert load_firmware(path).identity.revision == "0151"  # afresh once the pin is gone


def test_another_family_decodes_the_pinned_bytes_with_its_own_layout(tmp_path: Path) -> None:
    path = tmp_path / "fw.bin"
    path.write_bytes(make_btc_image("0050"))
    with pinned(path) as pin:
        path.unlink()
        other = load_firmware(path, "plextor")
    assert other.family == "plextor" and other.data == pin.raw
    assert any("does not match the plextor layout" in p for p in other.problems)


def test_a_file_no_layout_recognises_is_pinned_as_bytes_for_each_family(tmp_path: Path) -> None:
    path = tmp_path / "odd.bin"
    path.write_bytes(bytes(range(256)) * 8)
    with pinned(path) as pin:
        assert pin.image is None  # the drive's family decides, in each worker
        path.unlink()
        named = load_firmware(path, "mt1959")
        with pytest.raises(BadInput, match="no known firmware signature"):
            load_firmware(path)
    assert named.family == "mt1959" and named.data == pin.raw


def test_a_file_that_cannot_be_read_fails_at_the_pin(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="missing.bin"), pinned(tmp_path / "missing.bin"):
        pass
