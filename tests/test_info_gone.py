"""`rescue info` on a drive that goes away while it is asked (rescue.ops.inventory)."""

from __future__ import annotations

import json

import pytest

from rescue.cli import main


@pytest.mark.parametrize("when", ["12.2", "46.1", "5a.1"])
def test_a_drive_that_vanishes_mid_info_is_exit_3_and_asked_nothing_more(
    when: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """It printed "ready yes", one "dropped off the bus" per later query, and exit 0."""
    assert main(["info", f"emu:btc-drw1004im,fault=gone@{when}"]) == 3
    out, err = capsys.readouterr()
    assert "dropped off the bus" not in out
    assert err.count("error: ") == 1 and "vanished during command" in err
    assert main(["info", f"emu:btc-drw1004im,fault=gone@{when}", "--json"]) == 3
    answer = json.loads(capsys.readouterr().out)
    assert "vanished during command" in answer["gone"]
    assert not [m for m in answer["errors"].values() if "dropped off the bus" in m]
