"""Every command that moves data fits the path: info, doctor, backup, flash under a cap.

An emulated drive with ``maxxfer=N`` behaves as one behind a bridge whose
queue takes N bytes: a larger command fails as the kernel fails it (EINVAL,
``TransportError``) and never reaches the drive. So each command is run as a
user runs it, with a journal, and must both succeed and leave no command in
the journal moving more than N (rescue/ops/pathcheck.py ``fit``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rescue.cli import main
from rescue.emulator.images import make_btc_image
from rescue.transport.journal import read_journal

CAP = 16 * 1024  # below the 32 KiB doctor reads and the 64 KiB MT1939 backup asks


def largest(journal: Path) -> int:
    entries = read_journal(journal)
    assert entries, "nothing was sent"
    return max(max(int(e["in_len"]), int(e["out_len"])) for e in entries)


def run(tmp_path: Path, *args: str) -> tuple[int, Path]:
    journal = tmp_path / "sent.jsonl"
    code = main([*args, "--journal", str(journal)])
    return code, journal


# generic-cd: a CD in a drive with C2 pointers, READ CD moves 2048 + 294 bytes a sector
@pytest.mark.parametrize("model", ["generic-cd", "generic-dvd"])
def test_doctor_reads_fit_the_cap(tmp_path: Path, model: str, capsys) -> None:
    spec = f"emu:{model},maxxfer={CAP}"
    code, journal = run(tmp_path, "doctor", spec, "--reports", str(tmp_path))
    out = capsys.readouterr().out
    assert code == 0 and "fine" in out, out
    assert largest(journal) <= CAP
    reads = [e for e in read_journal(journal) if str(e["cdb"])[:2] in ("28", "be")]
    assert reads and all(int(e["in_len"]) <= CAP for e in reads)


def test_info_fits_the_cap(tmp_path: Path, capsys) -> None:
    code, journal = run(tmp_path, "info", f"emu:tsst-se506cb,maxxfer={CAP}")
    assert code == 0, capsys.readouterr().err
    assert largest(journal) <= CAP


def test_a_backup_reads_the_flash_in_pieces_the_path_carries(tmp_path: Path, capsys) -> None:
    out = tmp_path / "flash.bin"
    code, journal = run(tmp_path, "backup", f"emu:tsst-se506cb,maxxfer={CAP}", "-o", str(out))
    assert code == 0, capsys.readouterr().err
    assert out.stat().st_size == 0x200000
    reads = [e for e in read_journal(journal) if str(e["cdb"]).startswith("3c")]
    assert len(reads) == 0x200000 // CAP and {int(e["in_len"]) for e in reads} == {CAP}


def test_a_flash_under_the_cap_sends_nothing_larger(tmp_path: Path, capsys) -> None:
    image = tmp_path / "V0050.bin"
    image.write_bytes(make_btc_image("0050"))
    spec = f"emu:btc-drw1004im,rev=0043,disc=none,maxxfer={CAP}"
    code, journal = run(
        tmp_path, "flash", spec, str(image), "--yes", "--no-backup", "--reports", str(tmp_path)
    )
    out = " ".join(capsys.readouterr().out.split())
    assert code == 0 and "success" in out, out
    assert "largest chunk 4 KiB (0x1000 bytes) fits" in out and "16 KiB" in out
    assert largest(journal) == 0x1000  # the chunks themselves: nothing else was larger


READ_10, READ_CD = "28", "be"


@pytest.mark.parametrize(
    ("model", "opcode", "per_read"),
    [
        # 16384 // 2048 = 8 sectors would be 18736 bytes with C2: the block is 6 (14052)
        ("generic-cd", READ_CD, 6),
        ("generic-dvd", READ_10, 8),
    ],
)
def test_a_scan_fits_the_cap_in_the_bytes_each_sector_moves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], model: str, opcode: str, per_read: int
) -> None:
    code, journal = run(
        tmp_path, "scan", f"emu:{model},sectors=600,maxxfer={CAP}", "--reports", str(tmp_path)
    )
    out = " ".join(capsys.readouterr().out.split())
    assert code == 0 and "every sector read" in out, out
    assert largest(journal) <= CAP
    reads = [e for e in read_journal(journal) if str(e["cdb"])[:2] == opcode]
    sizes = {int(e["in_len"]) for e in reads}
    per_sector = 2048 + (294 if opcode == READ_CD else 0)
    assert max(sizes) == per_read * per_sector  # as large as fits: not cut further than needed
    assert f"{per_read} sectors per READ" in out and f"at {per_sector} bytes a sector" in out


@pytest.mark.parametrize("model", ["generic-cd", "generic-dvd"])
@pytest.mark.parametrize("cap", [4096, CAP])
def test_a_resumable_scan_fits_even_a_one_sector_cap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], model: str, cap: int
) -> None:
    """The mapfile's disc fingerprint (16 sectors, 32 KiB) and READ CD's layout probe (two
    sectors, 4684 bytes) are cut to the path too; the fingerprint is the same as uncut."""
    mapfile = tmp_path / "disc.map"
    spec = f"emu:{model},sectors=300"
    argv = ["scan", f"{spec},maxxfer={cap}", "--mapfile", str(mapfile), "--reports", str(tmp_path)]
    code, journal = run(tmp_path, *argv)
    out = " ".join(capsys.readouterr().out.split())
    assert code == 0 and "every sector read" in out, out
    assert largest(journal) <= cap
    if model == "generic-cd":
        assert "READ CD with C2 error pointers" in out and "note:" not in out  # no fallback
    # the same disc without a cap: the fingerprint matches, nothing is left to read
    again = main(["scan", spec, "--mapfile", str(mapfile), "--reports", str(tmp_path), "--json"])
    assert again == 0 and '"sectors_read_now": 0' in capsys.readouterr().out


def test_doctor_on_a_cd_behind_a_one_sector_cap_still_reads_c2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, journal = run(
        tmp_path, "doctor", "emu:generic-cd,maxxfer=4096", "--reports", str(tmp_path)
    )
    assert code == 0, capsys.readouterr().out
    sent = read_journal(journal)
    assert largest(journal) <= 4096
    assert [int(e["in_len"]) for e in sent if str(e["cdb"]).startswith("be")][-1] == 2342
