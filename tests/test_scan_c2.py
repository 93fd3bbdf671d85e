"""`rescue scan` with READ CD and C2 pointers, the READ CD fallback, and READ(12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rescue.cli import main
from rescue.devices import open_device
from rescue.diagnostics import mapfile as mf
from rescue.diagnostics.readmethod import ReadMethod, choose
from rescue.diagnostics.scan import Scanner, ScanResult
from rescue.drive import Drive
from rescue.emulator.base import VirtualClock
from rescue.emulator.mmc import PROFILE_CD_ROM, Identity, MmcDrive
from rescue.emulator.registry import create
from rescue.errors import ExitCode
from rescue.transport.emulated import EmulatedTransport

READ_10, READ_12, READ_CD = 0x28, 0xA8, 0xBE
WEAK_CD = "emu:generic-cd,sectors=4096,c2=100-103;2000,bad=500-509"


def _scan(capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str) -> tuple[int, dict]:
    code = main(["scan", *argv, "--json", "--reports", str(tmp_path / "reports")])
    return code, json.loads(capsys.readouterr().out)


def _reads(journal: Path) -> list[tuple[int, int]]:
    """(opcode, lba) of every read command the journal recorded."""
    out = []
    for line in journal.read_text().splitlines():
        cdb = bytes.fromhex(json.loads(line)["cdb"])
        if cdb[0] in (READ_10, READ_12, READ_CD):
            out.append((cdb[0], int.from_bytes(cdb[2:6], "big")))
    return out


def _flagged(spec: str, lbas: range) -> int:
    """What the emulated disc's C2 pointers flag over ``lbas`` (the model's own answer)."""
    disc = create(spec.removeprefix("emu:")).disc  # type: ignore[attr-defined]
    return sum(disc.c2_errors(lba) for lba in lbas)


def test_weak_and_unreadable_ranges_are_reported_apart(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    mapfile, journal = tmp_path / "cd.map", tmp_path / "j.jsonl"
    code, body = _scan(
        capsys, tmp_path, WEAK_CD, "--mapfile", str(mapfile), "--journal", str(journal)
    )
    assert code == ExitCode.MEDIUM_ERROR
    assert body["read_method"] == "READ CD with C2 error pointers" and body["fallback"] is None
    assert [(r["first"], r["last"], r["detail"]) for r in body["bad"]] == [(500, 509, "3/11/00")]
    assert [(r["first"], r["last"]) for r in body["weak"]] == [(100, 103), (2000, 2000)]
    assert [r["c2_bytes"] for r in body["weak"]] == [
        _flagged(WEAK_CD, range(100, 104)),
        _flagged(WEAK_CD, range(2000, 2001)),
    ]
    per_sector = [_flagged(WEAK_CD, range(n, n + 1)) for n in range(100, 104)]
    assert len(set(per_sector)) > 1  # counted per sector, not per block
    assert body["weak"][0]["worst_sector_c2_bytes"] == max(per_sector)
    # weak sectors are copyable ('+'); only the unreadable ones are '-'
    parsed = mf.parse_mapfile(mapfile.read_text())
    assert [(b.pos // 2048, b.size // 2048) for b in parsed.blocks if b.status == "-"] == [
        (500, 10)
    ]
    reads = _reads(journal)
    assert {op for op, _ in reads} == {READ_CD, READ_10}
    # READ(10) only asks about sectors READ CD flagged, LBA 16 for the layout check,
    # and LBA 0 (16 sectors) for the disc's fingerprint in the mapfile
    flagged = {0, 16, *range(100, 104), 2000, *range(500, 510)}
    assert {lba for op, lba in reads if op == READ_10} == flagged


def test_a_resumed_scan_still_lists_the_weak_sectors_it_read_before(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    mapfile = tmp_path / "cd.map"
    _, first = _scan(capsys, tmp_path, WEAK_CD, "--mapfile", str(mapfile), "--end", "2500")
    assert "# rescue-c2 100:" in mapfile.read_text()  # ddrescue skips comment lines
    _, second = _scan(capsys, tmp_path, WEAK_CD, "--mapfile", str(mapfile))
    assert second["sectors_read_now"] == 4096 - 2500
    assert second["weak"][0] == first["weak"][0]  # 100..103, read in the first run only
    assert [(r["first"], r["last"]) for r in second["weak"]] == [(100, 103), (2000, 2000)]


def test_human_output_names_the_weak_range(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    assert main(["scan", WEAK_CD, "--reports", str(tmp_path)]) == ExitCode.MEDIUM_ERROR
    out = " ".join(capsys.readouterr().out.split())
    assert "weak LBA 100..103 (4 sectors) read with C2 errors" in out
    assert "unreadable LBA 500..509" in out and "READ CD with C2 error pointers" in out


def test_drive_refusing_read_cd_falls_back_to_read10(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    journal = tmp_path / "j.jsonl"
    spec = "emu:generic-cd,sectors=2048,c2=10,bad=700-701,fault=sense:5/20/00@be"
    code, body = _scan(capsys, tmp_path, spec, "--read", "cd", "--journal", str(journal))
    assert code == ExitCode.MEDIUM_ERROR
    assert body["read_method"] == "READ(10)" and "5/20/00" in body["fallback"]
    assert [(r["first"], r["last"]) for r in body["bad"]] == [(700, 701)]
    assert body["weak"] == []  # READ(10) cannot see C2 errors
    assert [op for op, _ in _reads(journal)].count(READ_CD) == 1  # asked once, then given up


def _no_c2_drive() -> Drive:
    device = MmcDrive(
        identity=Identity("RESCUE", "NO C2 CD", "1.00"),
        profiles=(PROFILE_CD_ROM,),
        clock=VirtualClock(),
        disc=create("generic-cd,sectors=512,c2=9,bad=300").disc,  # type: ignore[attr-defined]
        c2_pointers=False,
    )
    drive = Drive(EmulatedTransport(device, "emu:no-c2"))
    drive.settle()
    return drive


def test_auto_uses_read10_when_the_drive_claims_no_c2() -> None:
    drive = _no_c2_drive()
    method, why = choose(drive, ReadMethod.AUTO)
    assert method is ReadMethod.READ10 and "does not claim C2" in why
    result = Scanner(drive, method=method).run(ScanResult(0, 512, bytearray(b"?" * 512)))
    assert [r.first for r in result.bad] == [300] and result.weak == []


def test_forced_read_cd_on_a_drive_without_c2_falls_back() -> None:
    drive = _no_c2_drive()
    result = Scanner(drive, method=ReadMethod.CD).run(ScanResult(0, 512, bytearray(b"?" * 512)))
    assert result.method is ReadMethod.READ10 and "5/24/00" in (result.fallback or "")
    assert [r.first for r in result.bad] == [300] and not result.interrupted


def test_auto_on_a_dvd_reads_with_read10(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    journal = tmp_path / "j.jsonl"
    code, body = _scan(capsys, tmp_path, "emu:generic-dvd,sectors=256", "--journal", str(journal))
    assert code == 0 and body["read_method"] == "READ(10)"
    assert body["read_method_why"] == "the medium is not a CD"
    assert {op for op, _ in _reads(journal)} == {READ_10}


def test_read12_is_selectable_and_maps_bad_ranges(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    journal = tmp_path / "j.jsonl"
    spec = "emu:generic-dvd,sectors=1024,bad=100-104;900"
    code, body = _scan(capsys, tmp_path, spec, "--read", "read12", "--journal", str(journal))
    assert code == ExitCode.MEDIUM_ERROR and body["read_method"] == "READ(12)"
    assert [(r["first"], r["last"]) for r in body["bad"]] == [(100, 104), (900, 900)]
    assert {op for op, _ in _reads(journal)} == {READ_12}


def test_a_weak_sector_inside_a_failed_block_is_still_found() -> None:
    """The first READ CD fails outright: the per-sector re-reads keep C2 pointers on."""
    drive = Drive(open_device("emu:generic-cd,sectors=256,c2=5,fault=sense:3/11/00@be.1"))
    drive.settle()
    result = Scanner(drive, method=ReadMethod.CD).run(ScanResult(0, 256, bytearray(b"?" * 256)))
    assert result.bad == [] and [(w.first, w.count) for w in result.weak] == [(5, 1)]


def test_c2_key_needs_a_cd(capsys) -> None:  # noqa: ANN001
    assert main(["scan", "emu:generic-dvd,c2=5"]) == ExitCode.USAGE
    assert "media=cd" in capsys.readouterr().err


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    weak=st.sets(st.integers(0, 255), max_size=12),
    bad=st.sets(st.integers(0, 255), max_size=6),
    block=st.sampled_from([1, 7, 32, 64]),
)
def test_weak_and_bad_sectors_come_out_exactly(weak: set[int], bad: set[int], block: int) -> None:
    def spec_list(lbas: set[int]) -> str:
        return ";".join(map(str, sorted(lbas)))

    spec = "emu:generic-cd,sectors=256"
    spec += f",c2={spec_list(weak)}" if weak else ""
    spec += f",bad={spec_list(bad)}" if bad else ""
    drive = Drive(open_device(spec))
    drive.settle()
    result = Scanner(drive, block=block, method=ReadMethod.CD)
    out = result.run(ScanResult(0, 256, bytearray(b"?" * 256)))
    assert {lba for r in out.bad for lba in range(r.first, r.last + 1)} == bad
    assert set(out.c2) == weak - bad
    assert all(out.c2[lba] == _flagged(spec, range(lba, lba + 1)) for lba in out.c2)
    assert sum(w.count for w in out.weak) == len(weak - bad)


def test_read_cd_answer_without_c2_pointers_falls_back() -> None:
    """A drive that ignores the Error Field sends 2048-byte blocks: unusable, so READ(10)."""
    device = create("generic-cd,sectors=256,bad=77")
    device.handlers[READ_CD] = (
        lambda cdb, _: device.read_user_data(  # type: ignore[attr-defined]
            int.from_bytes(cdb[2:6], "big"), int.from_bytes(cdb[6:9], "big")
        )
    )
    drive = Drive(EmulatedTransport(device, "emu:ignores-c2"))
    drive.settle()
    result = Scanner(drive, method=ReadMethod.CD).run(ScanResult(0, 256, bytearray(b"?" * 256)))
    assert result.method is ReadMethod.READ10 and "unusable" in (result.fallback or "")
    assert [r.first for r in result.bad] == [77] and not result.interrupted


def test_drive_ignoring_the_error_field_is_caught_before_its_pointers_are_trusted() -> None:
    """As QEMU's ATAPI CD does under SG_IO: bare 2048-byte sectors in a buffer sized for C2."""
    device = create("generic-cd,sectors=256")

    def user_data_only(cdb: bytes, _: bytes | None) -> bytes:
        count = int.from_bytes(cdb[6:9], "big")
        data = device.read_user_data(int.from_bytes(cdb[2:6], "big"), count).data  # type: ignore[attr-defined]
        return data.ljust(count * (2048 + 294), b"\0")

    device.handlers[READ_CD] = user_data_only  # type: ignore[attr-defined]
    drive = Drive(EmulatedTransport(device, "emu:ignores-error-field"))
    drive.settle()
    result = Scanner(drive, method=ReadMethod.CD).run(ScanResult(0, 256, bytearray(b"?" * 256)))
    assert result.method is ReadMethod.READ10 and "Error Field" in (result.fallback or "")
    assert result.weak == [] and result.bad == []


@pytest.mark.parametrize("c2", [True, False])
def test_without_the_cd_read_feature_mode_page_2a_decides(c2: bool) -> None:
    """Older drives report no feature 001Eh; page 2Ah's C2 bit then says what they can do."""
    device = create("generic-cd,sectors=64")
    device.c2_pointers = c2  # type: ignore[attr-defined]
    every = device.features  # type: ignore[attr-defined]
    device.features = lambda: [f for f in every() if f[0] != 0x001E]  # type: ignore[attr-defined]
    drive = Drive(EmulatedTransport(device, "emu:mmc2-era"))
    drive.settle()
    assert drive.configuration().feature(0x001E) is None
    method, _ = choose(drive, ReadMethod.AUTO)
    assert method is (ReadMethod.CD if c2 else ReadMethod.READ10)
