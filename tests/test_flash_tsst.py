"""`rescue flash` end to end on the emulated TSST SH-D163C, through the CLI.

TSST images name no drive in a public place, so the host refuses them unless
the identity check is deliberately overridden; the model then takes them.
The second half pins every rule of redumper's ``flash::mt1339`` and
``flash::sd616`` (``drive/flash_tsst.ixx``, ``drive/flash_sd616.ixx``;
docs/families/tsst.md); the write phase itself is compared with redumper's
capture in tests/test_peer_streams.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from flash_cli import flash_and_journal

from rescue.cli import main
from rescue.emulator.images import make_tsst_image
from rescue.errors import Refused
from rescue.families import family_named
from rescue.families.tsst import CHUNK, sd616_layout, vendor_flash_steps


def spec(tmp: Path) -> str:
    return f"emu:tsst-shd163c,disc=none,state={tmp / 'shd163c.state'}"


def flash(tmp: Path, image: bytes, *extra: str) -> tuple[int, list[bytes]]:
    return flash_and_journal(spec(tmp), tmp, image, *extra)


def test_flash_sb02_end_to_end(bench: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = make_tsst_image("SB02")
    code, sent = flash(bench, image, "--force", "identity")
    assert code == 0, capsys.readouterr()
    assert [cdb[5] for cdb in sent if cdb[0] == 0xFF] == [0x00, 0xFF, 0xFF, 0xFF, 0x04]
    assert (bench / "shd163c.state").read_bytes() == image
    capsys.readouterr()
    assert main(["info", spec(bench), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["inquiry"]["revision"].strip() == "SB02"


def test_without_force_nothing_is_sent(bench: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, sent = flash(bench, make_tsst_image("SB02"))
    out = capsys.readouterr()
    assert code != 0 and "identity check failed" in out.out + out.err
    assert not any(cdb[0] == 0xFF for cdb in sent)
    assert (bench / "shd163c.state").read_bytes() == make_tsst_image("SB01")


# --- redumper's checks and layouts (drive/flash_tsst.ixx, drive/flash_sd616.ixx) -------------


class _Drive:
    """What ``TsstFamily.prepare`` looks at: the drive's INQUIRY identity (it sends nothing)."""

    def __init__(self, vendor: str, product: str) -> None:
        self.identity = SimpleNamespace(vendor=vendor, product=product, revision="0001")


def _states(steps: list) -> list[int]:  # noqa: ANN001
    return [step.cdb[5] for step in steps]


def test_redumper_write_phase_from_source() -> None:
    """flash::mt1339: 12-byte FF 00 01 00 00 SS, 0xFC00 chunks, 00 / FF... / 04, file as is."""
    image = make_tsst_image("SB02")
    family = family_named("tsst")
    data = family.prepare(_Drive("TSSTcorp", "DVD-ROM SH-D163C"), image)
    assert data == image
    steps = family.flash_steps(data, _Drive("TSSTcorp", "DVD-ROM SH-D163C").identity)
    assert [s.cdb for s in steps] == [bytes([0xFF, 0, 1, 0, 0, m]) + bytes(6) for m in
                                      (0x00, 0xFF, 0xFF, 0xFF, 0x04)]  # fmt: skip
    assert [len(s.data) for s in steps] == [0xFC00] * 4 + [0x40000 - 4 * 0xFC00]
    assert b"".join(s.data for s in steps) == image


def test_128k_file_refused_on_a_tsst_drive(bench: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, sent = flash(bench, make_tsst_image("SB02")[:0x20000], "--force", "identity")
    out = capsys.readouterr()
    assert code != 0 and "takes a 256 KiB image" in out.out + out.err
    assert not any(cdb[0] == 0xFF for cdb in sent)


def _sd616_expected(data: bytes) -> bytes:
    """The rearrangement, written per output byte (an independent reading of redumper)."""
    out = []
    for at in range(0x30000):
        if at < 0x10000:
            out.append(data[at])
        elif 0x10400 <= at < 0x1FC00:
            out.append(data[at - 0x400])
        elif 0x20000 <= at < 0x20800:
            out.append(data[at - 0x800])
        elif 0x20800 <= at < 0x2FC00:
            out.append(data[at - 0x10400])
        else:
            out.append(0)
    return bytes(out)


def test_sd616_rearranges_128k_into_0x30000_and_ends_with_02() -> None:
    data = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(0x20000))
    sd616 = _Drive("SAMSUNG", "DVD-ROM SD-616F")
    family = family_named("tsst")
    sent = family.prepare(sd616, data)
    assert sent == sd616_layout(data) == _sd616_expected(data)
    steps = family.flash_steps(sent, sd616.identity)
    assert _states(steps) == [0x00, 0xFF, 0x02]
    assert [len(s.data) for s in steps] == [0x10000] * 3
    assert all(len(s.cdb) == 12 and s.cdb[:5] == bytes([0xFF, 0, 1, 0, 0]) for s in steps)


def test_sd616_takes_only_exactly_128k() -> None:
    family = family_named("tsst")
    for size in (0x1FFFF, 0x20001, 0x40000):
        with pytest.raises(Refused, match="takes a 128 KiB file"):
            family.prepare(_Drive("SAMSUNG", "DVD-ROM SD-616F"), bytes(size))


def test_one_chunk_image_gets_only_the_first_state() -> None:
    """flash_tsst picks START for offset 0 before looking at the end."""
    steps = vendor_flash_steps(bytes(0x100), CHUNK, 0x04)
    assert _states(steps) == [0x00] and steps[0].commit
