"""A developer's tool, not part of the suite: redumper flashes the emulated drives again.

Not named test_*: CI cannot build redumper (clang >= 18, about half an hour),
and a test that skips there would hide a gap. What CI checks is
tests/test_peer_streams.py against the committed captures. Run it by hand in
a guest with a redumper build (docs/peers.md):

    REDUMPER=/path/to/redumper .venv/bin/python tests/vm/harness.py -- \
        /work/main/.venv/bin/python -m pytest -q -m "" tests/guest/recapture_redumper.py

Each case re-makes a committed capture (tests/data/peers/redumper-*.jsonl)
and requires the same write phase, which is what ``tests/test_peer_streams.py``
then holds ``rescue flash`` to.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from guestlib import emulate_command

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from peer_streams import journal_commands, load_capture, write_phase  # noqa: E402

REDUMPER = os.environ.get("REDUMPER", "")
CASES = ["redumper-mt1959", "redumper-tsst", "redumper-plextor"]


@pytest.mark.peer
@pytest.mark.skipif(not os.access(REDUMPER, os.X_OK), reason="REDUMPER names no redumper binary")
@pytest.mark.parametrize("name", CASES)
def test_redumper_sends_what_was_captured(tmp_path: Path, name: str) -> None:
    capture = load_capture(name)
    meta = capture.meta
    image = tmp_path / "fw.bin"
    subprocess.run(
        [sys.executable, "-m", "rescue.emulator.images", *meta["image"], "-o", str(image)],
        check=True,
        capture_output=True,
    )
    journal = tmp_path / "served.jsonl"
    command = str(meta["command"]).split()[1]
    with emulate_command([str(meta["spec"])], journal) as process:
        sr = process.drives[0]["sr"]
        Path(f"/sys/block/{Path(sr).name}/events_poll_msecs").write_text("0\n")
        done = subprocess.run(
            [REDUMPER, command, f"--drive={sr}", f"--firmware={image}"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "flashing success" in done.stdout
    assert write_phase(journal_commands(journal)) == capture.writes
