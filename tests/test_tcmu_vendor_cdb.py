"""What the TCMU bridge restores of a vendor command the kernel's ring cut short."""

from __future__ import annotations

import pytest

from rescue.emulator.registry import create
from rescue.emulator.tcmu import full_cdb, is_data_out

CUT = bytes([0xFF, 0x00, 0x01, 0x00, 0x00, 0x00, 0, 0, 0, 0])  # the first 10 bytes of a download


@pytest.mark.parametrize("model", ["tsst-se506cb", "tsst-shd163c"])
def test_mediatek_download_is_twelve_bytes_of_data_out(model: str) -> None:
    device = create(model)
    cdb = full_cdb(device, CUT)
    assert cdb == CUT + bytes(2)
    assert is_data_out(device, cdb)


def test_models_without_vendor_lengths_get_the_cdb_unchanged() -> None:
    device = create("generic-dvd")
    assert full_cdb(device, CUT) == CUT
    assert not is_data_out(device, CUT)
    assert full_cdb(device, b"") == b""


def test_a_complete_cdb_is_never_cut_or_padded() -> None:
    device = create("tsst-se506cb")
    whole = CUT + b"\x00\x00"
    assert full_cdb(device, whole) == whole
    inquiry = bytes([0x12, 0, 0, 0, 96, 0])
    assert full_cdb(device, inquiry) == inquiry
