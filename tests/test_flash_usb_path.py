"""`rescue flash` on a drive behind a USB bridge (emulated: ``bridge=`` and ``maxxfer=`` keys).

The path checks live in rescue/ops/pathcheck.py; these pin that the flash engine
uses them: a chunk larger than the path carries is refused before anything is
sent, and a vendor command the bridge drops is blamed on the bridge, not on a
missing stepping-stone revision.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flash_cli import flash_and_journal

from rescue.emulator.images import make_btc_image, make_tsst_image


def test_a_chunk_larger_than_the_path_is_refused_before_anything_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = f"emu:btc-drw1004im,rev=0043,disc=none,maxxfer=2048,state={tmp_path / 's'}"
    code, sent = flash_and_journal(spec, tmp_path, make_btc_image("0050"))
    err = capsys.readouterr().err
    assert code == 6
    assert not any(cdb[0] == 0x3B for cdb in sent)
    assert "SATA or IDE" in err


def test_a_vendor_command_the_bridge_drops_is_blamed_on_the_bridge(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = f"emu:tsst-shd163c,disc=none,bridge=usb-novendor,state={tmp_path / 's'}"
    code, sent = flash_and_journal(spec, tmp_path, make_tsst_image("SB02"), "--force", "identity")
    err = capsys.readouterr().err
    assert code == 9
    assert "USB bridge refused it, not the drive" in err
    assert "stepping-stone" not in err
