"""Flashing the emulated ASUS BW-16D1HT (MT1959) with the project's host side.

Every check redumper makes (``drive/flash_mt1959.ixx``, ``redumper_flash_mt1959``;
docs/families/mt1959.md) has a test here that fails when the check is
removed: the file's minimum size, the table's configuration id, the drive's
own id (never overridable), and the rewrite of the boot area. The write phase
is compared with redumper's capture in tests/test_peer_streams.py; here it is
pinned against the sequence as read from redumper's source.

The CLI run also pins that ``rescue flash`` consumes the drive's pending
power-on unit attention before reading its configuration block.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.devices import open_device
from rescue.drive import Drive
from rescue.emulator.images import (
    MT1959_BOOT_AREA,
    MT1959_CONFIG,
    MT1959_CONFIG_AT,
    make_mt1959_image,
)
from rescue.errors import Refused
from rescue.families import drive_family
from rescue.families.base import run_steps, wait_until_back

FORCE = ("--force", "identity")  # refusals below must survive it (the id check is not identity)


def spec(tmp: Path) -> str:
    return f"emu:asus-bw16d1ht,disc=none,state={tmp / 'bw16d1ht.state'}"


def with_config(image: bytes, config_id: bytes) -> bytes:
    data = bytearray(image)
    data[MT1959_CONFIG_AT : MT1959_CONFIG_AT + len(config_id)] = config_id
    return bytes(data)


def flash(tmp: Path, image: bytes, *extra: str) -> tuple[int, list[dict[str, object]]]:
    path = tmp / "fw.bin"
    path.write_bytes(image)
    journal = tmp / "journal.jsonl"
    argv = ["flash", spec(tmp), str(path), "--yes", "--no-backup", "--journal", str(journal)]
    code = main([*argv, "--reports", str(tmp / "reports"), *extra])
    return code, [json.loads(line) for line in journal.read_text().splitlines()]


def redumper_write_phase(image: bytes, drive_block: bytes) -> list[tuple[str, bytes | None]]:
    """The write phase as read from redumper's source (flash_mt1959, cmd_write_buffer)."""
    data = bytearray(image)
    data[:0x10000] = b"\xff" * 0x10000
    data[0x3000:0x3020] = drive_block
    sent: list[tuple[str, bytes | None]] = [("3b010000000000000000", None)]
    for offset in range(0, len(data), 0x4000):
        piece = bytes(data[offset : offset + 0x4000])
        cdb = bytes([0x3B, 0x06, 0x00]) + offset.to_bytes(3, "big") + len(piece).to_bytes(3, "big")
        sent.append(((cdb + b"\0").hex(), piece))
    return sent


def test_host_family_prepares_and_flashes(bench: Path) -> None:
    image = make_mt1959_image("3.10")
    with open_device(spec(bench)) as transport:
        drive = Drive(transport)
        drive.settle()
        boot = (bench / "bw16d1ht.state").read_bytes()[:MT1959_BOOT_AREA]
        family = drive_family(drive)
        assert family.name == "mt1959"
        data = family.prepare(drive, image)
        steps = family.flash_steps(data, drive.identity)
        want = redumper_write_phase(image, MT1959_CONFIG)
        assert [(s.cdb.hex(), s.data) for s in steps] == want
        run_steps(drive, steps)
        assert wait_until_back(drive, family)[-3:] == ["6/29/00", "6/3F/01", "2/3A/01"]
        assert drive.inquiry().revision.strip() == "3.10"
    assert (bench / "bw16d1ht.state").read_bytes() == boot + image[MT1959_BOOT_AREA:]


def test_boot_area_is_blanked_and_the_drives_block_put_in(bench: Path) -> None:
    """modify_firmware: 0x10000 bytes of 0xFF, then the drive's 0x20 bytes at 0x3000."""
    image = make_mt1959_image("3.10")
    with open_device(spec(bench)) as transport:
        drive = Drive(transport)
        drive.settle()
        data = drive_family(drive).prepare(drive, image)
    assert data[:MT1959_CONFIG_AT] == b"\xff" * MT1959_CONFIG_AT
    assert data[MT1959_CONFIG_AT : MT1959_CONFIG_AT + 0x20] == MT1959_CONFIG
    assert data[MT1959_CONFIG_AT + 0x20 : MT1959_BOOT_AREA] == b"\xff" * (
        MT1959_BOOT_AREA - MT1959_CONFIG_AT - 0x20
    )
    assert data[MT1959_BOOT_AREA:] == image[MT1959_BOOT_AREA:]


def test_only_the_id_is_compared_and_the_drives_whole_block_is_sent(bench: Path) -> None:
    """redumper compares 16 bytes; the block's other 16 come from the drive, not the file."""
    image = with_config(make_mt1959_image("3.10"), MT1959_CONFIG[:16] + b"\x00" * 16)
    with open_device(spec(bench)) as transport:
        drive = Drive(transport)
        drive.settle()
        data = drive_family(drive).prepare(drive, image)
    assert data[MT1959_CONFIG_AT : MT1959_CONFIG_AT + 0x20] == MT1959_CONFIG


def test_cli_flash_end_to_end(bench: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = make_mt1959_image("3.10")
    code, journal = flash(bench, image)  # its own image needs no --force (the id binds it)
    assert code == 0, capsys.readouterr()
    state = (bench / "bw16d1ht.state").read_bytes()
    assert state[MT1959_BOOT_AREA:] == image[MT1959_BOOT_AREA:]
    cdbs = [e["cdb"] for e in journal]
    first = cdbs.index("3b010000000000000000")
    assert "3c060000300000002000" in cdbs[:first]  # the drive's block is read first
    assert not any(c.startswith("3b07") for c in cdbs)  # no commit: redumper sends none


def test_drive_with_another_id_refuses_even_forced(
    bench: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """redumper's 'firmware id mismatch': checked even with --force-flash; here past --force."""
    other = with_config(make_mt1959_image("3.00"), b"MT1959 Boot XX1 ")
    open_device(spec(bench)).close()  # the state file (and its marker) exist: then replaced
    (bench / "bw16d1ht.state").write_bytes(other)
    code, journal = flash(bench, make_mt1959_image("3.10"), *FORCE)
    out = capsys.readouterr()
    assert code != 0 and "no --force overrides" in out.out + out.err
    cdbs = [e["cdb"] for e in journal]
    assert "3c060000300000002000" in cdbs
    assert not any(c.startswith("3b") for c in cdbs)
    assert (bench / "bw16d1ht.state").read_bytes() == other


def test_image_for_other_drives_refused_before_any_command(
    bench: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """redumper's table check: the table's id for the drive against the file's, before reading."""
    image = with_config(make_mt1959_image("3.10"), b"MT1959 Boot BU5 ")
    code, journal = flash(bench, image, *FORCE)
    out = capsys.readouterr()
    assert code != 0 and "MT1959 Boot BU5" in out.out + out.err
    assert not any(e["cdb"].startswith(("3c", "3b")) for e in journal)


def test_table_check_alone(bench: Path) -> None:
    """The family's own check, apart from the drive's: a row's config_id binds."""
    with open_device(spec(bench)) as transport:
        drive = Drive(transport)
        drive.settle()
        family = drive_family(drive)
        family.table_check(drive.identity, make_mt1959_image("3.10"))
        with pytest.raises(Refused, match="drive table gives 'MT1959 Boot JB8 '"):
            family.table_check(
                drive.identity, with_config(make_mt1959_image("3.10"), b"MT1959 Boot BU5 ")
            )


def test_file_smaller_than_the_boot_area_refused(
    bench: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """redumper: 'firmware data too small' under 0x10000 bytes."""
    tiny = make_mt1959_image("3.10")[: MT1959_BOOT_AREA - 1]
    code, journal = flash(bench, tiny, *FORCE)
    out = capsys.readouterr()
    assert code != 0 and "smaller than the 0x10000-byte area" in out.out + out.err
    assert not any(e["cdb"].startswith(("3c", "3b")) for e in journal)


def test_file_without_configuration_id_refused(
    bench: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blank = with_config(make_mt1959_image("3.10"), b"\xff" * 0x20)
    code, journal = flash(bench, blank, *FORCE)
    out = capsys.readouterr()
    assert code != 0 and "no configuration id at 0x3000" in out.out + out.err
    assert not any(e["cdb"].startswith(("3c", "3b")) for e in journal)


def test_reads_the_block_as_redumper_does_before_writing(bench: Path) -> None:
    """Before its write phase redumper sends one READ BUFFER (tests/data/peers/redumper-mt1959);
    rescue sends the same CDB, also before its first WRITE BUFFER."""
    peers = Path(__file__).parent / "data" / "peers" / "redumper-mt1959.jsonl"
    theirs = [json.loads(line)["cdb"] for line in peers.read_text().splitlines()]
    their_reads = [c for c in theirs[: theirs.index("3b010000000000000000")] if c[:2] == "3c"]
    assert their_reads == ["3c060000300000002000"]
    code, journal = flash(bench, make_mt1959_image("3.10"))
    assert code == 0
    ours = [e["cdb"] for e in journal]
    assert [c for c in ours[: ours.index("3b010000000000000000")] if c[:2] == "3c"] == their_reads
