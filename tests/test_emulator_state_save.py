"""An emulated drive whose state= file cannot take its new flash (a full disc, mid-flash)."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from rescue import durable
from rescue.cli import main
from rescue.emulator.images import make_btc_image


def test_a_state_file_that_cannot_be_saved_is_named_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The drive saves its flash at the end of the burn, inside the flash's wait: a full disc
    there was a bare OSError (exit 1, "No space left on device", no report at all)."""
    state = tmp_path / "btc.state"
    spec = f"emu:btc-drw1004im,rev=0043,disc=none,state={state}"
    assert main(["info", spec]) == 0  # the state file and its marker exist now
    before = state.read_bytes()
    image = tmp_path / "V0050.bin"
    image.write_bytes(make_btc_image("0050"))
    original = durable.write_bytes

    def disc_full(path: str | Path, data: bytes) -> Path:
        if Path(path) == state:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(path, data)

    monkeypatch.setattr(durable, "write_bytes", disc_full)
    capsys.readouterr()
    reports = tmp_path / "reports"
    argv = ["flash", spec, str(image), "--yes", "--no-backup", "--reports", str(reports)]
    assert main(argv) == 5
    err = capsys.readouterr().err
    assert f"state={state}: the emulated drive's new flash could not be saved" in err
    assert "No space left on device" in err and "Traceback" not in err
    (report,) = reports.glob("flash-*.json")
    outcome = json.loads(report.read_text())
    assert outcome["result"] == "failed" and outcome["error"]["exit_code"] == 5
    assert state.read_bytes() == before
