"""`fw inspect` and `flash` never disagree on whether a firmware file is usable.

A user checks a download with `rescue fw inspect FILE --family F`, then
flashes it onto a drive of that family. If the first said "usable" and the
second refused the file as invalid (or the other way round), one of them is
lying. For every family's emulated drive, good images and damaged ones
(truncated, one byte changed, blanked, random) go through both commands: the
flash's verdict on validity (exit 5, "cannot be flashed") must be fw
inspect's (exit 5, "NOT usable"). `--dry-run` sends no write, and the identity
check comes after validity, so it cannot mask the answer.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.emulator.images import OTHER_MAKERS, make_btc_image
from rescue.emulator.registry import MODELS
from rescue.errors import ExitCode

MAKERS = {"btc": make_btc_image, **{name: make for name, (make, _) in OTHER_MAKERS.items()}}
MODEL_OF_FAMILY = {info.family: name for name, info in MODELS.items() if info.family in MAKERS}


def variants(good: bytes) -> dict[str, bytes]:
    middle = len(good) // 2
    flipped = bytearray(good)
    flipped[middle] ^= 0x5A
    return {
        "as made": good,
        "one byte short": good[:-1],
        "one byte changed": bytes(flipped),
        "blanked": bytes(len(good)),
        "random": hashlib.shake_256(good[:64]).digest(len(good)),
    }


CASES = [
    (family, label)
    for family in sorted(MODEL_OF_FAMILY)
    for label in ("as made", "one byte short", "one byte changed", "blanked", "random")
]


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(argv)
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip().startswith("{") else {}


@pytest.mark.parametrize(("family", "label"), CASES)
def test_fw_inspect_and_flash_agree(
    family: str, label: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    revision = "TS02" if family == "mt1939" else "SB02" if family == "tsst" else "0050"
    good = MAKERS[family](revision)
    path = tmp_path / "fw.bin"
    path.write_bytes(variants(good)[label])
    inspect_code, doc = run_json(["fw", "inspect", str(path), "--family", family, "--json"], capsys)
    usable = inspect_code == ExitCode.OK
    assert doc.get("usable") is usable
    spec = f"emu:{MODEL_OF_FAMILY[family]},disc=none,state={tmp_path / 'drive.state'}"
    flash_code, answer = run_json(
        ["flash", spec, str(path), "--dry-run", "--json", "--no-backup", "--yes",
         "--reports", str(tmp_path / "reports")],
        capsys,
    )  # fmt: skip
    refused_as_invalid = flash_code == ExitCode.BAD_INPUT and "cannot be flashed" in str(
        answer.get("message", "")
    )
    assert refused_as_invalid is not usable, (
        f"{family} image {label!r}: fw inspect says usable={usable}, flash answered "
        f"{flash_code} {answer.get('message', '')}"
    )
    if label == "as made":
        assert usable
