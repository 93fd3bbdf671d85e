"""An emulated drive's state= file never takes a user's file (issue 11, item 1).

The state file is a plain flash image, so by its bytes it cannot be told
from a firmware file of the same size; rescue.emulator.state marks its own
with NAME.emu.json. These tests go through the real entry point (exit codes,
one line) and through the registry (the device side), and compare the
user's files by sha256 before and after.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.emulator.images import make_btc_image
from rescue.emulator.registry import create
from rescue.emulator.state import FORMAT, SUFFIX, VERSION, marker_path
from rescue.errors import UsageError

BTC = "emu:btc-drw1004im,disc=none"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_a_users_image_of_the_right_size_is_refused_and_left_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The case of the issue: state= aimed at a real 1 MiB image, then a flash."""
    mine = tmp_path / "V0043.bin"
    mine.write_bytes(make_btc_image("0043"))
    fw = tmp_path / "V0050.bin"
    fw.write_bytes(make_btc_image("0050"))
    before = digest(mine)
    argv = ["flash", f"{BTC},state={mine}", str(fw), "--yes", "--no-backup"]
    code, said = run([*argv, "--reports", str(tmp_path / "reports")], capsys)
    assert code == 2
    assert "Traceback" not in said
    assert f"state={mine}: exists and is not an emulated drive's state file" in said
    assert f"image={mine}" in said  # the hint: how to start a drive from it
    assert digest(mine) == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith((SUFFIX, ".part"))]


def test_an_old_state_file_is_refused_with_the_way_to_start_from_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A state of a rescue before the marker is a raw image too: image=OLD,state=NEW goes on."""
    old = tmp_path / "drive.state"
    old.write_bytes(make_btc_image("0050"))
    before = digest(old)
    code, _ = run(["info", f"{BTC},state={old}"], capsys)
    assert code == 2 and digest(old) == before
    new = tmp_path / "new.state"
    code, said = run(["info", f"{BTC},image={old},state={new}"], capsys)
    assert code == 0 and "revision 0050" in said
    assert new.read_bytes() == old.read_bytes() and marker_path(new).exists()
    assert digest(old) == before


@pytest.mark.parametrize("kind", ["fifo", "folder", "device", "link", "proc"])
def test_special_paths_are_refused_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    target = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    elif kind == "link":
        (tmp_path / "fw.bin").write_bytes(make_btc_image("0043"))
        target.symlink_to(tmp_path / "fw.bin")
    paths = {"device": Path("/dev/null"), "proc": Path("/proc/self/status")}
    path = paths.get(kind, target)
    code, said = run(["info", f"{BTC},state={path}"], capsys)
    assert code == 2, said
    assert f"state={path}:" in said and len(said.strip().splitlines()) <= 2  # line + hint
    assert not marker_path(path).exists()
    if kind == "link":
        assert target.is_symlink()
        assert (tmp_path / "fw.bin").read_bytes() == make_btc_image("0043")


def test_a_missing_state_is_created_with_its_marker_and_round_trips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "drive.state"
    fw = tmp_path / "V0050.bin"
    fw.write_bytes(make_btc_image("0050"))
    spec = f"{BTC},rev=0043,state={state}"
    argv = ["flash", spec, str(fw), "--yes", "--no-backup", "--reports", str(tmp_path / "r")]
    code, said = run(argv, capsys)
    assert code == 0, said
    assert state.read_bytes() == fw.read_bytes()  # the flash, as a plain image
    marker = json.loads(marker_path(state).read_text())
    assert marker["format"] == FORMAT and marker["version"] == VERSION
    code, said = run(["info", spec], capsys)
    assert code == 0 and "revision 0050" in said  # the next run meets the flashed drive


def test_a_marked_state_may_be_edited_by_its_owner(tmp_path: Path) -> None:
    """The marker names the path, not the bytes: copying an image over a state is deliberate."""
    state = tmp_path / "drive.state"
    create(f"btc-drw1004im,disc=none,state={state}")
    state.write_bytes(make_btc_image("0040"))
    drive = create(f"btc-drw1004im,disc=none,state={state}")
    assert drive.identity.revision == "0040"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "marker",
    [
        b"someone's notes\n",
        json.dumps({"format": "something else"}).encode(),
        b"[" * 5000,
    ],
)
def test_a_file_at_the_markers_name_that_is_not_rescues_is_never_replaced(
    tmp_path: Path, marker: bytes
) -> None:
    state = tmp_path / "drive.state"
    (tmp_path / f"drive.state{SUFFIX}").write_bytes(marker)
    with pytest.raises(UsageError, match="its marker drive.state.emu.json: already exists"):
        create(f"btc-drw1004im,disc=none,state={state}")
    assert not state.exists()
    assert (tmp_path / f"drive.state{SUFFIX}").read_bytes() == marker


def test_a_marker_of_another_version_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "drive.state"
    create(f"btc-drw1004im,disc=none,state={state}")
    marker = marker_path(state)
    marker.write_text(json.dumps({"format": FORMAT, "version": VERSION + 1}))
    before = digest(state)
    with pytest.raises(UsageError, match=f"format version {VERSION + 1}"):
        create(f"btc-drw1004im,disc=none,state={state}")
    assert digest(state) == before
