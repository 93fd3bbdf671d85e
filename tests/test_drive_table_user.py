"""The drive table a user extends without rebuilding: --drives FILE and drives.d/*.json.

A user row makes an unknown drive known (info says which file), never
replaces a shipped row, and still leaves every flash check in place: the
image's own identity is compared with the drive. A malformed file stops the
command before anything is sent, with one line naming the file and the entry.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from cli_run import Run

from rescue.cli import main
from rescue.families import table

UNKNOWN = "emu:generic-dvd,disc=none"
GENERIC_AS_BTC = {
    "families": {
        "btc": {
            "drives": [
                {"vendor": "RESCUE", "product": "EMU DVD-ROM", "source": "my drive's INQUIRY"}
            ]
        }
    }
}
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def run(bench: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.delenv(table.DRIVES_DIR_ENV, raising=False)
    monkeypatch.setattr(table, "DATA_DRIVES_DIR", bench / "no-stick")
    return Run(bench, capsys)


def test_drives_file_makes_an_unknown_drive_known_and_info_names_the_file(run: Run) -> None:
    rows = run.write("mine.json", GENERIC_AS_BTC)
    code, out, _ = run("info", UNKNOWN, "--json")
    assert json.loads(out)["drive_table"]["known"] is False
    code, out, _ = run("--drives", str(rows), "info", UNKNOWN, "--json")
    found = json.loads(out)["drive_table"]
    assert code == 0 and found["known"] is True
    assert found["family"] == "btc" and found["user_file"] == str(rows)
    assert found["row"]["source"] == "my drive's INQUIRY"
    code, out, _ = run("info", UNKNOWN, "--drives", str(rows))  # among the command's options
    assert "protocol: btc" in out and f"user table {rows}" in " ".join(out.split())


def test_a_user_row_still_leaves_the_image_identity_check(run: Run) -> None:
    rows = run.write("mine.json", GENERIC_AS_BTC)
    image = str(run.btc_image())
    code, out, err = run("--drives", str(rows), "flash", UNKNOWN, image, "--yes", "--no-backup")
    assert code == 6
    assert "identity check failed: the image is for BTC DVDRW IDE1004, the drive is RESCUE" in err
    assert "not in rescue's drive table" not in err  # the row made it known ...
    assert "warning" not in out  # ... so no --family risk either
    assert 0x3B not in run.opcodes() and run.opcodes()
    report = json.loads(next((run.tmp / "reports").glob("flash-*.json")).read_text())
    assert report["family"] == "btc" and report["family_match"]["user_file"] == str(rows)


def test_user_rows_never_replace_shipped_ones(run: Run) -> None:
    rows = run.write(
        "steal.json",
        {"families": {"plextor": {"drives": [
            {"vendor": "BTC", "product": "DVDRW IDE1004", "params": {"chunk": 4096}}]}}},
    )  # fmt: skip
    code, out, _ = run("--drives", str(rows), "info", "emu:btc-drw1004im", "--json")
    found = json.loads(out)["drive_table"]
    assert code == 0 and found["family"] == "btc" and found["user_file"] is None


def test_drives_dir_from_the_environment(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = run.tmp / "drives.d"
    folder.mkdir()
    (folder / "generic.json").write_text(json.dumps(GENERIC_AS_BTC))
    monkeypatch.setenv(table.DRIVES_DIR_ENV, str(folder))
    code, out, _ = run("info", UNKNOWN, "--json")
    found = json.loads(out)["drive_table"]
    assert found["family"] == "btc" and found["user_file"] == str(folder / "generic.json")


def test_drives_d_on_the_sticks_data_partition(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    data = run.tmp / "data" / "drives.d"  # what the boot image mounts as /data/drives.d
    data.mkdir(parents=True)
    (data / "generic.json").write_text(json.dumps(GENERIC_AS_BTC))
    (data / "notes.txt").write_text("not a table")
    monkeypatch.setattr(table, "DATA_DRIVES_DIR", data)
    code, out, _ = run("info", UNKNOWN, "--json")
    assert json.loads(out)["drive_table"]["user_file"] == str(data / "generic.json")


def test_the_boot_image_points_rescue_at_drives_d() -> None:
    session = (REPO / "iso/overlay/usr/libexec/rescue/session").read_text()
    sysinit = (REPO / "iso/overlay/usr/libexec/rescue/sysinit").read_text()
    assert f"export {table.DRIVES_DIR_ENV}=/data/drives.d" in session
    assert "/data/drives.d" in sysinit
    assert table.DATA_DRIVES_DIR == Path("/data/drives.d")


def row(**fields: Any) -> dict[str, Any]:
    return {"families": {"btc": {"drives": [{"vendor": "RESCUE", "product": "EMU", **fields}]}}}


def plextor(params: Any) -> dict[str, Any]:
    drive = {"vendor": "PLEXTOR", "product": "DVDR PX-999A", "params": params}
    return {"families": {"plextor": {"drives": [drive]}}}


MALFORMED = [
    ("{not json", "not JSON (line 1"),
    ({"drives": []}, 'want {"families"'),
    ({"families": {}, "extra": 1}, "unknown top-level key 'extra'"),
    ({"families": {"mt9999": {"drives": []}}}, "families.mt9999: unknown family"),
    ({"families": {"btc": []}}, 'families.btc: want {"drives": [rows]}'),
    ({"families": {"btc": {"drives": [], "rows": []}}}, "families.btc: unknown key 'rows'"),
    ({"families": {"btc": {"drives": ["BTC"]}}}, "families.btc.drives[0]: a row is an object"),
    ({"families": {"btc": {"drives": [{"vendor": "X"}]}}}, "drives[0] (X): missing 'product'"),
    (row(vendor=42), "drives[0] (EMU): 'vendor' must be a string, not int"),
    (row(revision=None), "drives[0] (RESCUE EMU): 'revision' must be a string, not null"),
    (row(product="  "), "drives[0] (RESCUE): 'product' is empty"),
    (row(chunk=4096), "drives[0] (RESCUE EMU): unknown key 'chunk'"),
    (row(vendor="*", product="*"), "vendor and product both match anything"),
    (row(aliases="DRW"), "'aliases' must be a list of strings"),
    (row(params={"chunk": 4096}), "btc takes no parameter 'chunk'"),
    (plextor({}), "drives[0] (PLEXTOR DVDR PX-999A): the plextor family needs params.chunk"),
    (plextor([]), "'params' must be an object, not a list"),
    (plextor({"chunk": "4096"}), "params.chunk must be int, not str"),
    (plextor({"chunk": True}), "params.chunk must be int, not true/false"),
    (plextor({"chunk": 5000}), "params.chunk is 5000, want one of 4096, 16384"),
    (plextor({"chunk": 4096, "speed": 8}), "plextor takes no parameter 'speed'"),
]


@pytest.mark.parametrize(("document", "message"), MALFORMED)
def test_a_malformed_file_is_one_line_naming_the_entry_and_nothing_is_sent(
    run: Run, document: Any, message: str
) -> None:
    path = run.write("bad.json", document)
    code, _, err = run("--drives", str(path), "flash", UNKNOWN, str(run.btc_image()), "--yes")
    assert code == 5  # BadInput
    error = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and error[0] == err.splitlines()[0]
    assert error[0].startswith(f"error: drive table {path}: ")
    assert message in error[0]
    assert run.opcodes() == []  # the device was never opened


def test_a_missing_drives_file_is_bad_input(run: Run) -> None:
    code, _, err = run("--drives", str(run.tmp / "nope.json"), "info", UNKNOWN)
    assert code == 5 and "nope.json" in err and run.opcodes() == []


def test_a_fifo_as_drives_file_is_refused_not_waited_on(run: Run) -> None:
    """Nothing writes to the FIFO: a reader that opened it plainly would wait forever
    (the alarm turns that wait into a failure)."""
    fifo = run.tmp / "drives.json"
    os.mkfifo(fifo)

    def waited(*_: object) -> None:
        raise TimeoutError("rescue waited on the FIFO")

    previous = signal.signal(signal.SIGALRM, waited)
    signal.alarm(20)
    try:
        code, _, err = run("--drives", str(fifo), "info", UNKNOWN)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert code == 5 and "drives.json" in err and run.opcodes() == []


def test_a_bad_file_in_drives_d_stops_drive_commands_only(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = run.tmp / "drives.d"
    folder.mkdir()
    (folder / "broken.json").write_text(json.dumps(row(vendor=1)))
    monkeypatch.setenv(table.DRIVES_DIR_ENV, str(folder))
    code, _, err = run("info", UNKNOWN)
    assert code == 5 and f"drive table {folder / 'broken.json'}" in err
    assert run.opcodes() == []
    code, out, _ = run("explain", "5/20/0")  # no drive involved: the table is not needed
    assert code == 0 and "INVALID COMMAND OPERATION CODE" in out


def test_the_menu_hands_its_drives_files_to_every_command(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    rows = run.write("mine.json", GENERIC_AS_BTC)
    monkeypatch.setattr("sys.stdin", Tty("1\n1\n\n"))
    assert main(["--drives", str(rows), "menu", UNKNOWN]) == 0
    # The menu breaks a long echoed command between words with a backslash-newline.
    out = " ".join(run.capsys.readouterr().out.replace(" \\\n", " ").split())
    assert f"$ rescue --drives {rows} info {UNKNOWN}" in out
    assert "protocol: btc (" in out
    assert f"row vendor 'RESCUE' product 'EMU DVD-ROM' of user table {rows}" in out
    assert "Not in rescue's drive table" not in out
