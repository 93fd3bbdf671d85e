"""The seed story, end to end through the CLI on one emulated BTC DRW-1004IM.

A drive on firmware 0043 stopped reading DVDs (the model's ``dvdread``
quirk: reads past the middle of a DVD fail while 0043 runs). The person runs
doctor, which names the failure and points to the plan; the plan says
0043 -> 0050 -> 0151 (the ``stepping`` quirk refuses the direct jump, as the
field report says); both flashes go on with the drive empty; doctor with the
DVD back in says it reads fine, and a scan of the DVD finds nothing wrong.
Every command builds the drive afresh from one ``state=`` file, as separate
runs on a bench see one drive.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.emulator.images import make_btc_image
from rescue.errors import ExitCode


def test_dvd_reads_fail_on_0043_and_work_after_the_planned_upgrade(  # noqa: ANN001
    bench: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drive = f"emu:btc-drw1004im,rev=0043,quirk=stepping+dvdread,state={bench / 'btc.state'}"
    with_dvd, empty = drive + ",media=dvd", drive + ",disc=none"

    def run(*argv: str) -> tuple[int, dict]:
        code = main([*argv, "--json"])
        return code, json.loads(capsys.readouterr().out)

    def flash(revision: str) -> tuple[int, dict]:
        image = bench / f"V{revision}.bin"
        image.write_bytes(make_btc_image(revision))
        return run("flash", empty, str(image), "--yes", "--no-backup", "--read-test")

    code, before = run("doctor", with_dvd)
    assert code == ExitCode.FAILURE and before["status"] == "problem"
    assert before["verdict"].startswith("DVD reads fail at LBA")
    assert before["identity"]["revision"] == "0043"
    assert f"`rescue plan {with_dvd} --to 0151`" in before["next_steps"][0]

    code, plan = run("plan", empty, "--to", "0151")
    assert code == 0
    assert [(s["from"], s["to"]) for s in plan["steps"]] == [("0043", "0050"), ("0050", "0151")]

    for revision in ("0050", "0151"):
        code, report = flash(revision)
        assert code == 0 and report["result"] == "success"
        assert report["drive_after"]["revision"] == revision
        assert report["read_test"]["verdict"] == "no disc: read test skipped"

    code, after = run("doctor", with_dvd)
    assert code == 0 and after["status"] == "ok"
    assert after["identity"]["revision"] == "0151"
    assert after["verdict"] == "reads this DVD fine (start, middle and end)"
    assert after["next_steps"] == []

    code, scan = run("scan", with_dvd, "--mapfile", str(bench / "dvd.map"))
    assert code == 0 and scan["complete"] and scan["read_method"] == "READ(10)"
    assert scan["bad"] == [] and scan["weak"] == [] and scan["sectors_read_now"] == scan["sectors"]


def test_the_direct_jump_the_plan_warns_about_is_refused(  # noqa: ANN001
    bench: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The plan's middle step is not decoration: 0043 -> 0151 is refused, nothing written."""
    spec = f"emu:btc-drw1004im,rev=0043,quirk=stepping+dvdread,disc=none,state={bench / 's'}"
    image = bench / "V0151.bin"
    image.write_bytes(make_btc_image("0151"))
    code = main(["flash", spec, str(image), "--yes", "--no-backup"])
    assert code == ExitCode.REFUSED
    assert "0050" in capsys.readouterr().err
    code = main(["doctor", spec.replace(",disc=none", ""), "--json"])
    assert json.loads(capsys.readouterr().out)["identity"]["revision"] == "0043"
