"""`rescue list`'s table drawn without rich (issue 15, item 3): fits the terminal, plain ASCII."""

from __future__ import annotations

import pytest

from rescue.cli import main
from rescue.discovery.model import DriveNode, Inventory, Media, SkippedDevice
from rescue.plaintable import render

HEADER = ("#", "node", "model", "media")


def test_columns_are_padded_to_their_widest_cell() -> None:
    rows = [(0, "/dev/sr0", "DVD-ROM X", "disc"), (1, "/dev/sr1", "B", "")]
    out = render("Drives", HEADER, rows, 80)
    assert out.splitlines() == [
        "Drives",
        "#  node      model      media",
        "-  --------  ---------  -----",
        "0  /dev/sr0  DVD-ROM X  disc",
        "1  /dev/sr1  B",
    ]


def test_a_narrow_terminal_wraps_the_widest_column_first() -> None:
    rows = [(0, "/dev/sr0", "HL-DT-ST DVDRAM GH24NSD1 with a long name", "empty")]
    lines = render("Drives", HEADER, rows, 40).splitlines()
    assert max(len(line) for line in lines) <= 40
    assert lines[3].startswith("0  /dev/sr0  HL-DT-ST DVDRAM") and lines[3].endswith("empty")
    assert " ".join(line[13:].split("  ")[0].strip() for line in lines[3:]).split() == (
        "HL-DT-ST DVDRAM GH24NSD1 with a long name".split()
    )  # every word kept, in order


def test_a_terminal_narrower_than_the_headers_keeps_the_headers_whole() -> None:
    lines = render("Drives", HEADER, [(0, "/dev/sr0", "M", "disc")], 5).splitlines()
    assert lines[1] == "#  node  model  media"  # the terminal wraps it; nothing is cut


def test_a_drive_string_cannot_move_the_cursor() -> None:
    out = render("Drives", HEADER, [(0, "/dev/sr0", "EVIL\x1b[2J\x07\tX", "disc")], 80)
    assert "\x1b" not in out and "\x07" not in out and "\t" not in out
    assert "EVIL\ufffd[2J\ufffd X" in out


@pytest.fixture
def drives(monkeypatch: pytest.MonkeyPatch) -> Inventory:
    import rescue.discovery as discovery

    inventory = Inventory(
        "udev",
        drives=[
            DriveNode(0, "1:0:0:0", "/dev/sr0", "/dev/sg1", "HL-DT-ST", "DVDRAM GH24NSD1",
                      "LG00", "sata", "sr", media=Media(present=True)),
            DriveNode(1, "6:0:0:0", "/dev/sr1", "/dev/sg2", "[bold]BTC", "DVDRW IDE1004",
                      "0043", "usb", "sr", usb_id="152d:0578"),
        ],  # fmt: skip
        skipped=[SkippedDevice("7:0:0:0", "not an optical drive (type 0)")],
    )
    monkeypatch.setattr(discovery, "discover", lambda include_all=False: inventory)
    return inventory


def test_list_prints_every_drive_plainly(
    drives: Inventory, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Optical drives (from udev)"
    assert lines[1].split() == ["#", "node", "sg", "H:C:T:L", "vendor", "model", "rev", "bus",
                                "media"]  # fmt: skip
    assert max(len(line) for line in lines) <= 80
    words = "\n".join(lines).split()  # a cell may wrap at 80 columns, its words all kept
    assert {"/dev/sg1", "LG00", "disc", "152d:0578", "GH24NSD1"} <= set(words)
    assert "[bold]BTC" in words  # shown as given, never read as markup
    assert lines[-1] == "  left out 7:0:0:0: not an optical drive (type 0)"
