"""Waiting for a drive that rewrites its flash, and the no-disc check, on scripted answers."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from rescue.errors import CommandTimeout, Refused
from rescue.families import family_named
from rescue.families.base import wait_until_back
from rescue.ops.safety import check_no_disc
from rescue.scsi.sense import parse_triple


class Scripted:
    """A drive whose TEST UNIT READY answers come from a list (None = GOOD, "busy" = timeout)."""

    def __init__(self, answers: list[str | None]) -> None:
        self._answers: Iterator[str | None] = iter(answers)
        self.clock = 0.0
        self.polls = 0
        self.transport = SimpleNamespace(name="/dev/sg3")  # what a refusal's hint names

    def test_unit_ready(self):  # noqa: ANN201
        self.polls += 1
        answer = next(self._answers, "2/04/07")
        if answer == "busy":
            raise CommandTimeout("no answer")
        return None if answer is None else parse_triple(answer)

    def sleep(self, seconds: float) -> None:
        self.clock += seconds

    def now(self) -> float:
        return self.clock


def test_wait_rides_out_busy_and_unit_attentions_then_returns() -> None:
    drive = Scripted(["busy", "2/04/07", "2/04/07", "6/29/00", "6/3F/01", None])
    events = wait_until_back(drive, family_named("btc"))
    assert events == ["no answer (busy)", "2/04/07", "6/29/00", "6/3F/01"]
    assert drive.polls == 6
    assert drive.clock >= 50  # btcflash's 50 s before the first poll


def test_empty_drive_counts_as_back() -> None:
    drive = Scripted(["6/29/00", "2/3A/01"])
    assert wait_until_back(drive, family_named("btc")) == ["6/29/00", "2/3A/01"]


def test_a_drive_that_never_comes_back_times_out_with_advice() -> None:
    drive = Scripted([])
    with pytest.raises(CommandTimeout, match="did not come back within 300 s") as caught:
        wait_until_back(drive, family_named("btc"))
    assert "same `rescue flash`" in (caught.value.hint or "")
    assert 350 <= drive.clock <= 360


def test_no_disc_check() -> None:
    assert "2/3A/01" in check_no_disc(Scripted(["2/3A/01"]))
    assert "2/3A/00" in check_no_disc(Scripted(["6/29/00", "6/28/00", "2/3A/00"]))
    with pytest.raises(Refused, match="a disc is in the drive"):
        check_no_disc(Scripted([None]))
    with pytest.raises(Refused, match="busy or loading"):
        check_no_disc(Scripted(["2/04/01"]))
    with pytest.raises(Refused, match="unit attentions"):
        check_no_disc(Scripted(["6/29/00"] * 4))
