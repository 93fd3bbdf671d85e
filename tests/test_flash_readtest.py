"""`rescue flash --read-test` and the read test offered after a flash, on the emulated BTC drive.

The drive must be empty to flash, so the interesting paths are: nobody to
ask (the test is skipped and the report says so), and a person at a terminal
who inserts a disc when asked (modelled by loading one into the emulated
drive from the patched ``input``).
"""

from __future__ import annotations

import builtins
import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rescue.cli import main
from rescue.emulator.disc import Disc, MediaKind
from rescue.emulator.images import make_btc_image
from rescue.transport.journal import read_journal

DVD_SECTORS = 8192
flash = importlib.import_module("rescue.engine.flash")  # the module (the engine opens the drive)


class Terminal:
    """A fake tty: answers prompts by their text and can load a disc when asked."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, disc: Disc | None, offer: str = "y"):
        self.prompts: list[str] = []
        self.disc, self.offer = disc, offer
        self.device: Any = None
        self.on_insert: Callable[[], None] = self._insert
        real_open = flash.open_device

        def capture(*args: Any, **kwargs: Any) -> Any:
            transport = real_open(*args, **kwargs)
            self.device = transport.device
            return transport

        monkeypatch.setattr(flash, "open_device", capture)
        monkeypatch.setattr(sys, "stdin", self)
        monkeypatch.setattr(builtins, "input", self.input)

    def isatty(self) -> bool:
        return True

    def _insert(self) -> None:
        self.device.load_disc(self.disc)

    def input(self, prompt: str = "") -> str:
        self.prompts.append(prompt)
        if "Type YES" in prompt:
            return "YES"
        if "[y/N]" in prompt:
            return self.offer
        if "Insert a data CD or DVD" in prompt:
            self.on_insert()
            return ""
        raise AssertionError(f"unexpected question: {prompt}")


def _flash(
    bench: Path, capsys: pytest.CaptureFixture[str], *options: str, keys: str = ""
) -> tuple[int, dict, str]:
    image = bench / "V0050.bin"
    image.write_bytes(make_btc_image("0050"))
    spec = f"emu:btc-drw1004im,rev=0043,quirk=dvdread,disc=none,state={bench / 'btc.state'}{keys}"
    code = main(["flash", spec, str(image), "--no-backup", *options])
    out = capsys.readouterr().out
    report = json.loads(next((bench / "reports").glob("flash-*[0-9].json")).read_text())
    return code, report, " ".join(out.split())


def test_read_test_without_a_disc_and_nobody_to_ask_is_skipped(bench: Path, capsys) -> None:  # noqa: ANN001
    code, report, out = _flash(bench, capsys, "--yes", "--read-test")
    assert code == 0 and report["result"] == "success"
    assert report["read_test"]["status"] == "no-disc"
    assert report["read_test"]["verdict"] == "no disc: read test skipped"
    assert "rescue doctor" in report["read_test"]["next_steps"][0]
    assert "read test: no disc: read test skipped" in out
    assert "next: insert a data disc and run `rescue doctor emu:btc-drw1004im" in out


def test_without_the_option_and_with_yes_nothing_is_asked(bench: Path, capsys, monkeypatch) -> None:  # noqa: ANN001
    tty = Terminal(monkeypatch, None)
    code, report, out = _flash(bench, capsys, "--yes")
    assert tty.prompts == []
    assert code == 0 and report["read_test"] is None and "read test" not in out


def test_terminal_user_accepts_the_offer_and_inserts_a_dvd(  # noqa: ANN001
    bench: Path, capsys, monkeypatch
) -> None:
    tty = Terminal(monkeypatch, Disc(MediaKind.DVD, DVD_SECTORS))
    code, report, out = _flash(bench, capsys)
    assert code == 0 and report["result"] == "success"
    assert [p.split("?")[0] for p in tty.prompts if "[y/N]" in p] == [
        "Run a read test of a disc now"
    ]
    test = report["read_test"]
    assert test["status"] == "ok" and test["verdict"].startswith("reads this DVD fine")
    assert [p["failed_at"] for p in test["probes"]] == [None, None, None]
    assert test["probes"][-1]["lba"] + test["probes"][-1]["count"] == DVD_SECTORS
    assert "read test: reads this DVD fine" in out
    scan = test["short_scan"]
    assert (scan["start"], scan["end"], scan["read_method"]) == (0, 2047, "READ(10)")
    assert scan["complete"] and scan["bad"] == [] and test["verdict"].endswith("read every sector")


def test_read_test_on_a_cd_scans_with_c2_and_names_weak_and_bad_sectors(  # noqa: ANN001
    bench: Path, capsys, monkeypatch
) -> None:
    cd = Disc(MediaKind.CD, 4096, unreadable=[range(1000, 1002)], weak=[range(300, 302)])
    Terminal(monkeypatch, cd)
    code, report, out = _flash(bench, capsys, "--read-test")
    assert code == 0 and report["result"] == "success"
    test = report["read_test"]
    assert test["status"] == "problem"  # the probes passed; the scan found the bad pair
    assert [p["failed_at"] for p in test["probes"]] == [None, None, None]
    scan = test["short_scan"]
    assert scan["read_method"] == "READ CD with C2 error pointers"
    assert [(r["first"], r["last"]) for r in scan["bad"]] == [(1000, 1001)]
    assert [(r["first"], r["last"]) for r in scan["weak"]] == [(300, 301)]
    assert "found 2 unreadable and 2 weak (C2 errors) sectors" in test["verdict"]


def test_a_failing_read_test_leaves_the_flash_a_success(bench: Path, capsys, monkeypatch) -> None:  # noqa: ANN001
    middle = DVD_SECTORS // 2
    Terminal(monkeypatch, Disc(MediaKind.DVD, DVD_SECTORS, unreadable=[range(middle, middle + 1)]))
    code, report, _ = _flash(bench, capsys, "--read-test")
    assert code == 0 and report["result"] == "success"
    assert report["drive_after"]["revision"] == "0050"
    assert report["read_test"]["status"] == "problem"
    assert f"LBA {middle}" in report["read_test"]["verdict"]


def test_declining_the_offer_asks_nothing_more(bench: Path, capsys, monkeypatch) -> None:  # noqa: ANN001
    tty = Terminal(monkeypatch, None, offer="")
    code, report, _ = _flash(bench, capsys)
    assert code == 0 and report["read_test"] is None
    assert not any("Insert" in p for p in tty.prompts)


def test_ctrl_c_at_the_disc_prompt_keeps_the_success(bench: Path, capsys, monkeypatch) -> None:  # noqa: ANN001
    tty = Terminal(monkeypatch, None)

    def interrupt() -> None:
        raise KeyboardInterrupt

    tty.on_insert = interrupt
    code, report, _ = _flash(bench, capsys, "--read-test")
    assert code == 0 and report["result"] == "success"
    assert report["read_test"] == {"status": "skipped", "verdict": "read test interrupted"}


def test_no_disc_after_the_wait_is_reported(bench: Path, capsys, monkeypatch) -> None:  # noqa: ANN001
    tty = Terminal(monkeypatch, None)
    tty.on_insert = lambda: None  # the person presses Enter without inserting anything
    code, report, _ = _flash(bench, capsys, "--read-test")
    assert code == 0 and report["read_test"]["verdict"] == "no disc: read test skipped"


CAP = 16 * 1024  # a small USB bridge: below the short scan's 32-sector READs


@pytest.mark.parametrize(
    ("disc", "opcode", "per_sector"),
    [
        (Disc(MediaKind.CD, 4096, weak=[range(300, 302)]), "be", 2048 + 294),
        (Disc(MediaKind.DVD, DVD_SECTORS), "28", 2048),
    ],
)
def test_the_read_test_after_a_flash_fits_a_small_cap(  # noqa: ANN001
    bench: Path, capsys, monkeypatch, disc: Disc, opcode: str, per_sector: int
) -> None:
    """Probes and short scan alike: no READ over the cap, counted in the bytes a sector moves."""
    Terminal(monkeypatch, disc)
    journal = bench / "sent.jsonl"
    keys = f",maxxfer={CAP}"
    code, report, _ = _flash(bench, capsys, "--read-test", "--journal", str(journal), keys=keys)
    assert code == 0 and report["result"] == "success"
    assert report["read_test"]["short_scan"]["complete"], report["read_test"]
    sent = read_journal(journal)
    assert max(max(int(e["in_len"]), int(e["out_len"])) for e in sent) <= CAP
    reads = {int(e["in_len"]) for e in sent if str(e["cdb"])[:2] == opcode}
    assert max(reads) == CAP // per_sector * per_sector
