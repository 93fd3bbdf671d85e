"""A reports folder that goes away at the end loses no report, and the message names where it is.

The folder is checked before the drive is touched; these tests take it away
afterwards, at the moment the report is written (as a stick pulled mid-run
would), by moving the stick's folder aside: reports/ and the folder above it
are gone, so nothing can make them again. Each command must still
print its outcome, keep the report in the temporary folder, name that file in
one line, and keep what the moved folder already held as it was.
"""

from __future__ import annotations

import importlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rescue.cli import main
from rescue.emulator.images import make_btc_image


@pytest.fixture
def tmp(bench: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder of this test only, so the kept report is found and nothing else."""
    (bench / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(bench / "tmp"))
    monkeypatch.setattr(tempfile, "tempdir", None)
    return bench / "tmp"


def pull_before(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, folder: Path) -> None:
    """Move ``folder`` aside just before ``owner.name`` (the report's writer) runs."""
    original: Callable[..., Any] = getattr(owner, name)

    def pulled(*args: Any, **kwargs: Any) -> Any:
        folder.rename(folder.with_name(folder.name + "-pulled"))
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, pulled)


def kept(tmp: Path, kind: str, err: str) -> dict[str, Any]:
    (report,) = tmp.glob(f"rescue-{kind}-*.json")
    assert f"kept in {report}" in err
    return json.loads(report.read_text())


def test_a_flash_whose_reports_folder_is_gone_keeps_its_report_in_the_temp_folder(
    bench: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    image = bench / "V0050.bin"
    image.write_bytes(make_btc_image("0050"))
    reports = bench / "stick" / "reports"
    reports.mkdir(parents=True)
    flash = importlib.import_module("rescue.engine.flash")
    pull_before(monkeypatch, flash.FlashJob, "_save", reports.parent)
    device = "emu:btc-drw1004im,rev=0043,disc=none"
    code = main(["flash", device, str(image), "--yes", "--no-backup", "--reports", str(reports)])
    out, err = capsys.readouterr()
    assert code == 0  # the drive was flashed and verified: the outcome stands
    assert "DVDRW IDE1004 now runs 0050" in out
    (line,) = [line for line in err.splitlines() if "report" in line]
    assert line.startswith(f"error: report {reports}/flash-"), line
    assert "No such file or directory" in line
    document = kept(tmp, "flash", line)
    assert document["result"] == "success" and document["drive_after"]["revision"] == "0050"
    pulled = bench / "stick-pulled" / "reports"
    assert [p.suffix for p in pulled.iterdir()] == [".jsonl"]  # the journal, nothing else
    assert not reports.parent.exists()  # no folder was made again in its place


@pytest.mark.parametrize(
    ("command", "verdict"),
    [
        (["doctor", "emu:generic-dvd"], "verdict:"),
        (["scan", "emu:generic-dvd,sectors=300"], "Scan of LBAs 0..299 complete"),
    ],
)
def test_doctor_and_scan_show_their_results_and_keep_the_report(
    bench: Path,
    tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    verdict: str,
) -> None:
    reports = bench / "stick" / "reports"
    reports.mkdir(parents=True)
    ops = importlib.import_module(f"rescue.ops.{command[0]}")
    pull_before(monkeypatch, ops, "save_report", reports.parent)
    code = main([*command, "--reports", str(reports)])
    out, err = capsys.readouterr()
    assert code == 5, err  # the report's own failure: input/output unusable (README table)
    assert verdict in out
    document = kept(tmp, command[0], err)
    assert document["kind"] == command[0]
    # The summary names it too (scan's rich output may wrap a long path: read it unwrapped).
    assert out.replace("\n", "").count(f"report: {tmp}/rescue-{command[0]}-") == 1
    assert list((bench / "stick-pulled" / "reports").iterdir()) == []
    assert not reports.parent.exists()
