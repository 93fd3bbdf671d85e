"""A drive no table row serves: info, plan, flash, backup and the menu say what it reports,
which families it could be and how to go on, and send nothing write-class.

``emu:generic-dvd`` (INQUIRY 'RESCUE' / 'EMU DVD-ROM') is such a drive; the
journal of every run proves what was sent: never WRITE BUFFER (3Bh) nor a
vendor opcode (C0h and up).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from cli_run import Run

from rescue.cli import main
from rescue.drive import DriveIdentity
from rescue.emulator.images import make_btc_image
from rescue.families import all_families
from rescue.families.unknown import candidates

UNKNOWN = "emu:generic-dvd,disc=none"
BTC = "emu:btc-drw1004im,rev=0043,disc=none"
WRITE_BUFFER = 0x3B


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def run(bench: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    return Run(bench, capsys)


def test_info_says_what_the_drive_reports_and_how_to_go_on(run: Run) -> None:
    code, out, _ = run("info", UNKNOWN)
    assert code == 0
    assert "not in rescue's drive table" in out
    # exactly as INQUIRY sends them, padding shown
    assert "vendor 'RESCUE  ', product 'EMU DVD-ROM     ', revision '1.00'" in out
    assert "no evidence points at a family" in out
    assert "--family NAME" in out and "--drives FILE" in out and "drives.d/" in out
    assert run.nothing_written() and run.opcodes()


def test_info_json_carries_the_same_facts(run: Run) -> None:
    code, out, _ = run("info", UNKNOWN, "--json")
    table = json.loads(out)["drive_table"]
    assert code == 0 and table["known"] is False
    assert table["reports"] == {"vendor": "RESCUE  ", "product": "EMU DVD-ROM     ",
                                "revision": "1.00"}  # fmt: skip
    assert table["candidates"] == []
    assert any("--family NAME" in step for step in table["next_steps"])


def test_info_of_a_known_drive_names_its_row(run: Run) -> None:
    code, out, _ = run("info", BTC, "--json")
    table = json.loads(out)["drive_table"]
    assert table["known"] is True and table["family"] == "btc" and table["user_file"] is None
    assert table["row"]["vendor"] == "BTC"
    code, out, _ = run("info", BTC)
    assert "protocol: btc" in out and "of rescue's table" in out


def test_plan_for_an_unknown_drive_names_reports_and_next_steps(run: Run) -> None:
    code, _, err = run("plan", UNKNOWN, "--to", "1.01")
    assert code == 6
    assert "not in the catalog" in err and "not in rescue's drive table" in err
    assert "'EMU DVD-ROM     '" in err and "--family NAME" in err and "--drives FILE" in err
    assert run.nothing_written()


def test_flash_of_an_unknown_drive_is_refused_with_the_evidence(run: Run) -> None:
    code, _, err = run("flash", UNKNOWN, str(run.btc_image()), "--yes", "--no-backup")
    assert code == 6
    assert "RESCUE EMU DVD-ROM is not in rescue's drive table" in err
    assert "vendor 'RESCUE  ', product 'EMU DVD-ROM     ', revision '1.00'" in err
    assert "no evidence points at a family" in err
    assert "--family NAME" in err and "--drives FILE" in err
    assert run.opcodes() and run.nothing_written()


def test_flash_json_and_report_carry_the_candidates(run: Run, bench: Path) -> None:
    code, out, _ = run("flash", UNKNOWN, str(run.btc_image()), "--yes", "--no-backup", "--json")
    error = json.loads(out)
    assert code == 6 and error["unknown_drive"]["reports"]["vendor"] == "RESCUE  "
    assert error["unknown_drive"]["candidates"] == []
    (report,) = (bench / "reports").glob("flash-*.json")
    assert json.loads(report.read_text())["error"]["unknown_drive"]["next_steps"]


def test_family_on_an_unknown_drive_still_checks_the_image_identity(run: Run) -> None:
    image = run.btc_image()
    code, out, err = run("flash", UNKNOWN, str(image), "--yes", "--no-backup", "--family", "btc")
    assert code == 6
    assert "warning: this drive is not in rescue's table" in out
    assert "you chose the btc protocol; a wrong protocol can leave the drive unusable" in out
    assert "identity check failed: the image is for BTC DVDRW IDE1004" in err
    assert run.nothing_written()


def test_the_confirmation_names_the_risk(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", Tty("no\n"))
    code, out, err = run(
        "flash", UNKNOWN, str(run.btc_image()), "--no-backup", "--family", "btc",
        "--force", "identity",
    )  # fmt: skip
    assert code == 6 and "not confirmed" in err
    question = out[out.index("Warning:") :]
    assert question.startswith(
        "Warning: this drive is not in rescue's table; you chose the btc protocol; "
        "a wrong protocol can leave the drive unusable."
    )
    assert run.nothing_written()


def test_family_other_than_the_tables_is_refused_unless_forced(run: Run) -> None:
    image = str(run.btc_image())
    code, _, err = run("flash", BTC, image, "--yes", "--no-backup", "--family", "spc")
    assert code == 6 and "is a btc drive" in err and "--force family" in err
    assert run.nothing_written()
    raw = run.tmp / "microcode.bin"  # what an SPC download takes: any file, no identity
    raw.write_bytes(bytes(range(256)) * 16)
    code, out, err = run(
        "flash", BTC, str(raw), "--yes", "--no-backup", "--family", "spc", "--force", "family"
    )
    assert "the drive table serves this drive as btc" in out
    assert "you forced the spc protocol" in out
    assert code == 6 and "identity check failed" in err  # an SPC image names no drive
    assert run.nothing_written()


def test_a_family_needing_row_parameters_cannot_be_chosen_bare(run: Run) -> None:
    code, _, err = run(
        "flash", UNKNOWN, str(run.btc_image()), "--yes", "--no-backup", "--family", "plextor"
    )
    assert code == 6 and "needs per-drive parameters (chunk)" in err
    assert run.nothing_written()


def test_backup_of_an_unknown_drive_says_the_same(run: Run, bench: Path) -> None:
    code, _, err = run("backup", UNKNOWN, "-o", str(bench / "b.bin"))
    assert code == 6 and "not in rescue's drive table" in err and "--family NAME" in err
    assert not (bench / "b.bin").exists()


def ident(vendor: str, product: str) -> DriveIdentity:
    return DriveIdentity(vendor, product, "1.00")


@pytest.mark.parametrize(
    ("vendor", "product", "features", "families"),
    [
        ("BTC", "DVDRW IDE9999", (), ["btc"]),
        ("TSSTcorp", "CDDVDW SH-224DB", (), ["tsst", "mt1939"]),
        ("hp", "DVD Writer 1270d", (), ["tsst", "mt1939"]),
        ("PLEXTOR", "DVDR PX-999A", (), ["plextor"]),
        ("PIONEER", "BD-RW BDR-209M", (), ["pioneer"]),
        ("ASUS", "BW-12B1ST", (), ["mt1959", "pioneer"]),  # ASUS sold both
        ("HL-DT-ST", "BD-RE WH16NS40", (), ["mt1959"]),
        ("ACME", "DVDRW IDE1004", (), ["btc"]),  # BTC's product under another name
        ("ACME", "DVD", (0x0104,), ["spc"]),
        ("ACME", "DVD", (0x0001,), []),
    ],
)
def test_candidates_from_vendor_product_and_features(
    vendor: str, product: str, features: tuple[int, ...], families: list[str]
) -> None:
    found = candidates(ident(vendor, product), features, all_families())
    assert set(families) <= {c.family for c in found}
    assert families or not found
    assert all(c.reasons for c in found)


class Menu:
    def __init__(self, bench: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
        self.bench, self.monkeypatch, self.capsys = bench, monkeypatch, capsys
        self.firmware = bench / "firmware"
        self.firmware.mkdir()
        (self.firmware / "V0050.bin").write_bytes(make_btc_image("0050"))

    def run(self, keys: list[str], *global_options: str) -> str:
        self.monkeypatch.setattr("sys.stdin", Tty("".join(k + "\n" for k in keys)))
        main([*global_options, "menu", UNKNOWN, "--firmware", str(self.firmware)])
        out = self.capsys.readouterr()
        return out.out + out.err


@pytest.fixture
def menu(bench: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Menu:
    return Menu(bench, monkeypatch, capsys)


def test_menu_drive_screen_says_the_drive_is_unknown(menu: Menu) -> None:
    out = menu.run(["1", "3"])
    screen = out[out.index("Not in rescue's drive table") : out.index("Drive: RESCUE")]
    assert "  product  'EMU DVD-ROM     '" in screen and "No evidence points" in screen
    # nothing to flash or back up with: both are left out, with why
    assert "flash: no known protocol" in screen and "backup: no known protocol" in screen
    assert "3) does it take WRITE BUFFER?" in out
    assert "$ rescue flash" not in out and "$ rescue probe" in out


def test_menu_offers_the_candidates_and_flashes_with_the_picked_family(
    menu: Menu, bench: Path
) -> None:
    # A user row for another RESCUE product makes the vendor one btc serves: btc is a candidate.
    rows = bench / "cand.json"
    rows.write_text(json.dumps(
        {"families": {"btc": {"drives": [{"vendor": "RESCUE", "product": "EMU CD-ROM"}]}}}
    ))  # fmt: skip
    out = menu.run(["1", "3", "1", "1", "y"], "--drives", str(rows))
    assert "could be btc (its vendor 'RESCUE' is one btc serves" in out
    assert "Flash with which protocol?" in out
    command = out[out.index("$ rescue") :].replace(" \\\n", " ")  # the echo's line breaks
    assert " ".join(command.split()).startswith(f"$ rescue --drives {rows} flash")
    assert "--family btc" in " ".join(command.split())
    assert "you chose the btc protocol" in command
    assert "identity check failed" in command
