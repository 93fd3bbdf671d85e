"""A flash recorded through the guest's real kernel replays on the host, byte for byte.

The guest's BTC family test (tests/guest/kernelbed.py) writes its flash report
and journal to $RESCUE_RESULTS/flash-btc. Replayed here through the replay
transport, the same `rescue flash` must send the same CDBs with the same data,
receive the same answers, and succeed: a field session becomes a host test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from guest_report import GuestReport

from rescue.cli import main
from rescue.emulator.images import make_btc_image
from rescue.transport.journal import read_journal

TARGET = "0050"  # kernelbed.BTC_TARGET: the family scenario's image


def _sent(entry: dict[str, object]) -> tuple[object, ...]:
    return entry["cdb"], entry["out_sha256"], entry["in_len"]


def _answered(entry: dict[str, object]) -> tuple[object, ...]:
    return entry.get("status"), entry.get("sense"), entry.get("in_sha256"), entry.get("error")


@pytest.mark.vm
def test_the_guest_flash_journal_replays_on_the_host(
    guest_report: GuestReport, tmp_path: Path
) -> None:
    journals = sorted((guest_report.run.results / "flash-btc").glob("*.journal.jsonl"))
    assert len(journals) == 1, f"the guest left {journals}"
    recorded = read_journal(journals[0])
    assert (
        len([e for e in recorded if str(e["cdb"]).startswith("3b")]) == 258
    )  # chunks+header+commit
    image = tmp_path / f"V{TARGET}.bin"
    image.write_bytes(make_btc_image(TARGET))
    replayed = tmp_path / "replayed.jsonl"
    code = main([
        "flash", f"replay:{journals[0]}", str(image), "--yes", "--no-backup",
        "--journal", str(replayed), "--reports", str(tmp_path / "reports"),
    ])  # fmt: skip
    assert code == 0
    again = read_journal(replayed)
    assert [_sent(e) for e in again] == [_sent(e) for e in recorded]
    assert [_answered(e) for e in again] == [_answered(e) for e in recorded]
