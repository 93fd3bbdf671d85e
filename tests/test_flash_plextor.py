"""`rescue flash` end to end on the emulated Plextor PX-716A, through the CLI.

Each command builds a fresh model from ``state=FILE`` (one drive across runs);
the state file proves what the flash holds, the journal what was sent.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from flash_cli import flash_and_journal
from peer_streams import PEERS, load_capture
from stubs import Ident

from rescue.cli import main
from rescue.emulator.images import make_plextor_image
from rescue.errors import Refused
from rescue.families import family_named

TEST_UNIT_READY, WRITE_BUFFER = 0x00, 0x3B


def spec(tmp: Path) -> str:
    return f"emu:plextor-px716a,disc=none,state={tmp / 'px716a.state'}"


def flash(tmp: Path, image: bytes, *extra: str) -> tuple[int, list[bytes]]:
    return flash_and_journal(spec(tmp), tmp, image, *extra)


def revision(tmp: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["info", spec(tmp), "--json"]) == 0
    return str(json.loads(capsys.readouterr().out)["inquiry"]["revision"]).strip()


def test_flash_1_11_end_to_end(bench: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = make_plextor_image("1.11")
    code, sent = flash(bench, image)
    assert code == 0, capsys.readouterr()
    writes = [cdb for cdb in sent if cdb[0] == WRITE_BUFFER]
    assert [cdb[1] for cdb in writes] == [4] * 59 + [5]
    first_write = sent.index(writes[0])
    assert sent[first_write - 1][0] == TEST_UNIT_READY
    assert (bench / "px716a.state").read_bytes() == image
    assert revision(bench, capsys) == "1.11"


def test_other_models_image_is_refused_before_sending(
    bench: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["info", spec(bench)]) == 0  # creates the drive and its state file
    original = (bench / "px716a.state").read_bytes()
    code, sent = flash(bench, make_plextor_image("1.11", product="DVDR   PX-760A"))
    assert code != 0
    assert not any(cdb[0] == WRITE_BUFFER for cdb in sent)
    assert (bench / "px716a.state").read_bytes() == original


def test_cross_flash_forced_still_meets_pxfws_model_rule(
    bench: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """pxfw refuses a PX-716AL image on a PX-716A ("FW is not for selected dev"), no override."""
    assert main(["info", spec(bench)]) == 0
    original = (bench / "px716a.state").read_bytes()
    other = make_plextor_image("1.11", product="DVDR   PX-716AL")  # same layout, other drive
    code, sent = flash(bench, other, "--force", "identity")
    out = capsys.readouterr()
    assert code != 0 and "success" not in out.out
    assert "pxfw refuses it too" in out.out + out.err
    assert not any(cdb[0] == WRITE_BUFFER for cdb in sent)
    assert (bench / "px716a.state").read_bytes() == original
    assert revision(bench, capsys) == "1.10"


@dataclass
class Stub:
    identity: Ident


@pytest.mark.parametrize(
    "drive,image_product,ok",
    [
        ("DVDR   PX-716A", "DVDR   PX-716A", True),
        ("DVDR   PX-714A", "DVDR   PX-716A", True),  # pxfw: a 716A image serves the 714A
        ("DVDR   PX-708A2", "DVDR   PX-712A", True),  # and a 712A image the 708A2
        ("DVDR   PX-755A", "DVDR   PX-760A", True),
        ("DVDR   PX-708A2", "DVDR   PX-708A", False),
        ("DVDR   PX-716AL", "DVDR   PX-716A", False),
        ("DVDR   PX-716A", "DVDR   PX-760A", False),
        ("CD-R   PREMIUM2", "CD-R   PREMIUM", False),
    ],
)
def test_image_model_must_serve_the_drive_as_pxfw_requires(
    drive: str, image_product: str, ok: bool
) -> None:
    family = family_named("plextor")
    image = make_plextor_image("1.11", product=image_product)
    if ok:
        assert family.prepare(Stub(Ident("PLEXTOR", drive, "1.00")), image) == image  # type: ignore[arg-type]
    else:
        with pytest.raises(Refused, match="pxfw refuses it too"):
            family.prepare(Stub(Ident("PLEXTOR", drive, "1.00")), image)  # type: ignore[arg-type]


def test_pxfw_capture_differs_where_the_docs_say(bench: Path) -> None:
    """pxfw: 240 x 0x1000, no TUR; rescue keeps redumper's 60 x 0x4000 with TUR before each."""
    capture = load_capture("pxfw-plextor")
    assert capture.meta["expect"] == "differs" and "redumper" in capture.meta["why"]
    peer = [c for c in capture.commands if c.cdb.startswith("3b")]
    assert len(peer) == 240 and all(int(c.cdb[12:18], 16) == 0x1000 for c in peer)
    assert [int(c.cdb[2:4], 16) for c in peer] == [4] * 239 + [5]
    first = capture.commands.index(peer[0])
    between = capture.commands[first : first + 480]
    assert all(c.cdb.startswith("3b") for c in between[:240])  # nothing between the chunks
    code, sent = flash(bench, make_plextor_image("1.11"))
    assert code == 0
    ours = [cdb for cdb in sent if cdb[0] == WRITE_BUFFER]
    assert len(ours) == 60 and all(int.from_bytes(c[6:9], "big") == 0x4000 for c in ours)
    assert all(sent[sent.index(c) - 1][0] == TEST_UNIT_READY for c in ours)
    image = make_plextor_image("1.11")  # the capture's data is this image, chunk by chunk
    chunks = [hashlib.sha256(image[o : o + 0x1000]).hexdigest() for o in range(0, 0xF0000, 0x1000)]
    assert [c.out_sha256 for c in peer] == chunks


def test_pxfw_refusal_capture_sent_no_write_buffer() -> None:
    entries = [json.loads(line) for line in (PEERS / "pxfw-plextor-wrong-model.jsonl").open()]
    assert not any(e["cdb"].startswith("3b") for e in entries)
    meta = json.loads((PEERS / "pxfw-plextor-wrong-model.refusal.json").read_text())
    assert meta["expect"] == "refused" and meta["image"][-1] == "DVDR   PX-760A"
