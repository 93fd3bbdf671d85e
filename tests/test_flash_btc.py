"""`rescue flash` / `plan` end to end on the emulated BTC DRW-1004IM, through the CLI.

Every invocation builds a fresh model from ``state=FILE``, so several
commands see one drive, as on a repair bench. The drive's flash is read
straight from that file to prove what it holds; the journal written by
every flash proves what was (and was not) sent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.devices import open_device
from rescue.emulator.images import make_btc_image
from rescue.ops.safety import drive_key, exclusive_lock


class Bench:
    def __init__(self, tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.tmp = tmp
        self.capsys = capsys
        self.state = tmp / "btc.state"
        self.reports = tmp / "reports"

    def spec(self, extra: str = "") -> str:
        disc = "" if extra.startswith("disc=") else ",disc=none"
        spec = f"emu:btc-drw1004im,rev=0043{disc},state={self.state}"
        return spec + ("," + extra if extra else "")

    def image(self, revision: str, product: str = "DVDRW IDE1004") -> Path:
        path = self.tmp / f"V{revision}-{product}.bin"
        path.write_bytes(make_btc_image(revision, product=product))
        return path

    def run(self, *argv: str) -> tuple[int, str]:
        code = main(list(argv))
        captured = self.capsys.readouterr()
        return code, captured.out + captured.err

    def flash(self, image: Path, *options: str, extra: str = "") -> tuple[int, str]:
        journal = self.tmp / f"journal-{len(list(self.tmp.glob('journal-*')))}.jsonl"
        self.last_journal = journal
        return self.run(
            "flash", self.spec(extra), str(image), "--yes", "--no-backup",
            "--journal", str(journal), *options,
        )  # fmt: skip

    def sent_opcodes(self) -> list[int]:
        lines = self.last_journal.read_text().splitlines()
        return [bytes.fromhex(json.loads(line)["cdb"])[0] for line in lines]

    def flash_holds(self) -> bytes:
        return self.state.read_bytes()

    def prime(self) -> bytes:
        """Make the state file exist (the model writes it on first creation)."""
        with open_device(self.spec()):
            pass
        return self.flash_holds()


@pytest.fixture
def bench(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Bench:
    monkeypatch.setenv("RESCUE_REPORTS", str(tmp_path / "reports"))
    monkeypatch.setenv("RESCUE_LOCK_DIR", str(tmp_path / "locks"))
    return Bench(tmp_path, capsys)


WRITE_BUFFER = 0x3B


def test_flash_0050_end_to_end(bench: Bench) -> None:
    image = bench.image("0050")
    code, out = bench.flash(image)
    assert code == 0, out
    assert "success" in out and "0050" in out
    assert bench.flash_holds() == image.read_bytes()
    assert bench.sent_opcodes().count(WRITE_BUFFER) == 258
    report = json.loads(next(bench.reports.glob("flash-*.json")).read_text())
    assert report["result"] == "success"
    assert report["drive_before"]["revision"] == "0043"
    assert report["drive_after"]["revision"] == "0050"
    assert report["steps_sent"] == report["steps_total"] == 258
    outcomes = {c["name"]: c["outcome"] for c in report["preflight"]}
    assert outcomes["identity"] == outcomes["plan"] == outcomes["verify"] == "ok"
    assert outcomes["backup"] == "skipped" and outcomes["media polling"] == "skipped"


def test_seed_scenario_0043_to_0151_through_0050(bench: Bench) -> None:
    original = bench.prime()
    v0151 = bench.image("0151")
    code, out = bench.flash(v0151)
    assert code == 6 and "rescue plan" in out and "0050" in out and "success" not in out
    assert WRITE_BUFFER not in bench.sent_opcodes()
    code, out = bench.flash(v0151, "--force", "plan")
    assert code == 9 and "success" not in out
    assert "5/20/00" in out and "0043 -> 0050 -> 0151" in out and "rescue plan" in out
    assert "the same command can try again" in " ".join(out.split())
    assert bench.flash_holds() == original
    code, out = bench.run("plan", bench.spec(), "--to", "0151", "--json")
    assert code == 0
    assert [step["to"] for step in json.loads(out)["steps"]] == ["0050", "0151"]
    assert bench.flash(bench.image("0050"))[0] == 0
    code, out = bench.flash(v0151)
    assert code == 0, out
    assert bench.flash_holds() == v0151.read_bytes()
    code, out = bench.run("plan", bench.spec(), "--to", "0151", "--json")
    assert json.loads(out)["drive"]["revision"] == "0151"


def test_dry_run_lists_btcflash_sequence_and_sends_nothing(bench: Bench) -> None:
    original = bench.prime()
    image = bench.image("0050")
    code, out = bench.flash(image, "--dry-run")
    assert code == 0 and "success" not in out
    assert WRITE_BUFFER not in bench.sent_opcodes()
    assert bench.flash_holds() == original
    cdbs = [line.split("[")[0].split(None, 1)[1].strip() for line in out.splitlines()
            if line.strip()[:1].isdigit() and "  3b " in line]  # fmt: skip
    expected = [
        f"3b 06 00 {(o + 0x20) >> 16:02x} {(o + 0x20) >> 8 & 0xFF:02x} {(o + 0x20) & 0xFF:02x} "
        "00 10 00 00"
        for o in range(0, 0x100000, 0x1000)
    ]
    expected += ["3b 06 00 00 00 00 00 00 20 00", "3b 07 00 00 00 00 00 00 00 00"]
    assert cdbs == expected


def test_another_drives_image_is_refused_and_nothing_sent(bench: Bench) -> None:
    original = bench.prime()
    code, out = bench.flash(bench.image("0050", product="DRW-1008IM"))
    assert code == 6 and "DRW-1008IM" in out and "--force identity" in out
    assert WRITE_BUFFER not in bench.sent_opcodes() and bench.flash_holds() == original
    foreign = bench.tmp / "se506.bin"
    foreign.write_bytes(bytes(0x200000))
    code, out = bench.flash(foreign, "--force", "identity")
    assert code == 5 and WRITE_BUFFER not in bench.sent_opcodes()


def test_cross_flash_with_force_identity_is_done_and_reported(bench: Bench) -> None:
    image = bench.image("0050", product="DRW-1008IM")
    code, out = bench.flash(image, "--force", "identity")
    assert code == 0, out
    report = json.loads(next(bench.reports.glob("flash-*.json")).read_text())
    identity = next(c for c in report["preflight"] if c["name"] == "identity")
    assert identity["outcome"] == "overridden" and "DRW-1008IM" in identity["detail"]


def test_a_second_flash_of_a_locked_drive_is_refused(bench: Bench) -> None:
    original = bench.prime()
    with open_device(bench.spec()) as transport, exclusive_lock(drive_key(transport)):
        code, out = bench.flash(bench.image("0050"))
    assert code == 6 and "another rescue process" in out
    assert WRITE_BUFFER not in bench.sent_opcodes() and bench.flash_holds() == original


def test_backup_is_refused_with_the_reason(bench: Bench) -> None:
    code, out = bench.run("backup", bench.spec(), "-o", str(bench.tmp / "b.bin"))
    assert code == 6 and "cannot be backed up" in out
    assert not (bench.tmp / "b.bin").exists()


def test_flash_without_no_backup_is_refused_for_btc(bench: Bench) -> None:
    code, out = bench.run("flash", bench.spec(), str(bench.image("0050")), "--yes")
    assert code == 6 and "--no-backup" in out


@pytest.mark.parametrize(
    ("fault", "exit_code"),
    [
        ("fault=sense:4/44/00@3b.7", 8),  # chunk 7 fails inside the drive
        ("fault=hang@3b.7", 11),  # chunk 7 never answers
        ("fault=reset@3b.100", 10),  # power-on reset mid-download
        ("commit=badsum", 9),  # the drive refuses the header sum at commit
        ("commit=powerloss", 1),  # burn interrupted: comes back in recovery mode
        ("disc=pattern", 6),  # a disc is in the drive
        ("fault=busy@3b.1", None),  # drive busy
    ],
)
def test_every_fault_fails_clearly_and_the_same_command_then_succeeds(
    bench: Bench, fault: str, exit_code: int | None
) -> None:
    image = bench.image("0050")
    code, out = bench.flash(image, extra=fault)
    assert code != 0 and "success" not in out.lower()
    if exit_code is not None:
        assert code == exit_code, out
    assert "error:" in out and "Traceback" not in out
    code, out = bench.flash(image)
    assert code == 0, out
    assert bench.flash_holds() == image.read_bytes()


def test_the_journal_of_a_flash_replays_as_the_same_flash(bench: Bench) -> None:
    image = bench.image("0050")
    assert bench.flash(image)[0] == 0
    recorded = bench.last_journal
    code, out = bench.run(
        "flash", f"replay:{recorded}", str(image), "--yes", "--no-backup",
        "--journal", str(bench.tmp / "replayed.jsonl"),
    )  # fmt: skip
    assert code == 0, out
    assert "success" in out
    sent = [json.loads(line)["cdb"] for line in recorded.read_text().splitlines()]
    again = (bench.tmp / "replayed.jsonl").read_text().splitlines()
    assert [json.loads(line)["cdb"] for line in again] == sent


@pytest.mark.parametrize(("target", "kind"), [("0040", "a downgrade"), ("0043", "a sidegrade")])
def test_downgrade_and_sidegrade_need_their_own_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, kind: str
) -> None:
    """0043 -> 0040 once went out with no warning (258 WRITE BUFFERs); now it is named and
    refused with nothing sent, and only --force downgrade (not identity or plan) admits it."""
    from flash_cli import flash_and_journal

    from rescue.emulator.images import make_btc_image

    spec = f"emu:btc-drw1004im,rev=0043,disc=none,state={tmp_path / 'btc.state'}"
    image = make_btc_image(target)
    for force in ((), ("--force", "identity"), ("--force", "plan")):
        code, sent = flash_and_journal(spec, tmp_path, image, *force)
        assert code == 6 and not any(cdb[0] == 0x3B for cdb in sent)
        assert f"0043 -> {target} is {kind}" in capsys.readouterr().err
    code, sent = flash_and_journal(spec, tmp_path, image, "--force", "downgrade")
    assert code == 0 and sum(cdb[0] == 0x3B for cdb in sent) == 258
