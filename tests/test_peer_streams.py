"""rescue sends what the real peer flashers send: every capture in tests/data/peers/, replayed.

For each capture (docs/peers.md) the same emulated drive is built from the
capture's spec, the same image is made with the same arguments, and
`rescue flash` runs through its CLI with a journal. The write phase rescue
sends must be the peer's, command by command and byte by byte (CDB and the
sha256 of the data each command carries). A capture marked "differs" records
a place where rescue follows another peer on purpose; the test then proves
the difference is still there, so the docs that explain it stay true.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from peer_streams import all_captures, first_difference, journal_commands, load_capture, write_phase

from rescue.cli import main

CAPTURES = all_captures()


def rescue_write_phase(capture_name: str, tmp: Path) -> tuple[int, list]:
    capture = load_capture(capture_name)
    image = tmp / "image.bin"
    subprocess.run(
        [sys.executable, "-m", "rescue.emulator.images", *capture.meta["image"], "-o", str(image)],
        check=True,
        capture_output=True,
    )
    journal = tmp / "rescue.jsonl"
    spec = f"emu:{capture.meta['spec']},disc=none,state={tmp / 'drive.state'}"
    argv = ["flash", spec, str(image), "--yes", "--no-backup", "--journal", str(journal)]
    code = main([*argv, "--reports", str(tmp / "reports"), *capture.meta["rescue_args"]])
    return code, write_phase(journal_commands(journal))


def test_there_are_captures_of_the_debian_peer() -> None:
    assert "btcflash-btc" in CAPTURES


@pytest.mark.parametrize("name", CAPTURES)
def test_capture_is_documented(name: str) -> None:
    meta = load_capture(name).meta
    for key in ("peer", "version", "source", "command", "spec", "image", "captured"):
        assert meta.get(key), f"{name}.meta.json lacks {key!r}"
    assert meta["expect"] in ("same", "differs")
    if meta["expect"] == "differs":
        assert meta.get("why"), f"{name}: a difference from the peer must say why"


@pytest.mark.parametrize("name", CAPTURES)
def test_rescue_sends_the_peers_write_phase(name: str, tmp_path: Path) -> None:
    capture = load_capture(name)
    assert capture.writes, f"{name}: the capture holds no write-class command"
    code, ours = rescue_write_phase(name, tmp_path)
    assert code == 0, f"rescue flash failed on the capture's drive and image ({name})"
    difference = first_difference(capture.writes, ours)
    if capture.meta["expect"] == "same":
        assert difference is None, f"{name}: {difference}"
    else:
        assert difference is not None, f"{name}: marked 'differs' but rescue now sends the same"
