"""Flashing Pioneer DVR drives as DVRFlash 2.2b does (docs/families/pioneer.md).

The host side against DVRFlash's facts (``rpc1dev/DVRFlash`` ``DVRFlash.cpp``):
the write phase byte for byte against the capture of DVRFlash flashing the
emulated DVR-108 (tests/data/peers/dvrflash-pioneer.jsonl), the INQUIRY check
after the key block that stops everything when the drive stayed in normal
mode, and every image DVRFlash refuses refused here too, before any write.
Each test fails if the check it names is taken out.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from peer_streams import PEERS, first_difference, journal_commands, load_capture, write_phase
from stubs import Ident

from rescue.cli import main
from rescue.devices import open_device
from rescue.drive import Drive
from rescue.emulator.images import make_pioneer_image
from rescue.errors import Refused
from rescue.families import drive_family, family_named
from rescue.families.base import run_steps, wait_until_back
from rescue.families.pioneer import (
    UNIVERSAL_KEY,
    c_atoi,
    c_strncmp_equal,
    check_kernel_mode,
    key_block,
)

INQUIRY_60 = bytes([0x12, 0, 0, 0, 0x60, 0])


def spec(tmp: Path, extra: str = "") -> str:
    return f"emu:pioneer-dvr108,disc=none,state={tmp / 'dvr108.state'}{extra}"


def flash_cli(tmp: Path, image: bytes, extra: str = "") -> tuple[int | str, list[dict]]:
    """`rescue flash` on the emulated DVR-108; the exit code (or error) and the journal."""
    path, journal = tmp / "fw.bin", tmp / "rescue.jsonl"
    path.write_bytes(image)
    argv = ["flash", spec(tmp, extra), str(path), "--yes", "--no-backup", "--journal", str(journal)]
    try:
        code: int | str = main([*argv, "--reports", str(tmp / "reports")])
    except Exception as err:  # noqa: BLE001 - the CLI's error is the result here
        code = type(err).__name__
    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    return code, entries


def writes(entries: list[dict]) -> list[dict]:
    return [e for e in entries if e["cdb"].startswith("3b")]


# --- the emulated drive, end to end ------------------------------------------------------


def test_host_family_enters_kernel_checks_it_sends_normal_and_saves(bench: Path) -> None:
    image = make_pioneer_image("1.17")
    with open_device(spec(bench)) as transport:
        drive = Drive(transport)
        drive.settle()
        family = drive_family(drive)
        assert family.name == "pioneer"
        steps = family.flash_steps(family.prepare(drive, image), drive.identity)
        shape = [(s.cdb[0], s.cdb[1], s.cdb[2]) for s in steps]
        assert shape == [(0x3B, 4, 0xFF), (0x12, 0, 0)] + [(0x3B, 7, 0xF0)] * 32 + [(0x3B, 5, 0xFF)]
        assert steps[1].cdb == INQUIRY_60 and steps[1].check is check_kernel_mode
        run_steps(drive, steps)
        assert wait_until_back(drive, family)[-3:] == ["6/29/00", "6/3F/01", "2/3A/01"]
        assert drive.inquiry().revision.strip() == "1.17"
    assert (bench / "dvr108.state").read_bytes() == image


def test_write_phase_is_dvrflashs_byte_for_byte(bench: Path) -> None:
    capture = load_capture("dvrflash-pioneer")
    assert capture.meta["expect"] == "same"
    code, _ = flash_cli(bench, make_pioneer_image("1.17"))
    assert code == 0
    ours = write_phase(journal_commands(bench / "rescue.jsonl"))
    assert first_difference(capture.writes, ours) is None
    assert len(ours) == 1 + 1 + 32 + 1  # key block, INQUIRY, Normal part, save


def test_a_drive_that_stays_in_normal_mode_stops_the_flash_after_the_inquiry(
    bench: Path,
) -> None:
    """DVRFlash: 'Could not set drive to Kernel mode!' and nothing more; rescue the same."""
    code, entries = flash_cli(bench, make_pioneer_image("1.17"), ",kernel=stays")
    assert code != 0
    key = next(i for i, e in enumerate(entries) if e["cdb"].startswith("3b04ff"))
    after = [e["cdb"] for e in entries[key + 1 :]]
    assert after == [INQUIRY_60.hex()]  # the check, then nothing at all
    peer = journal_commands(PEERS / "dvrflash-pioneer-kernel-stays.jsonl")
    assert write_phase(journal_commands(bench / "rescue.jsonl")) == write_phase(peer)
    assert [c.cdb for c in peer][-2:] == ["3b04ff00000000010000", INQUIRY_60.hex()]
    report = json.loads(next((bench / "reports").glob("flash-*.json")).read_text())
    assert "did not enter kernel mode" in report["error"]["message"]
    assert "revision 1.16" in report["error"]["message"]


def test_kernel_mode_check_reads_the_revision() -> None:
    kernel = bytearray(0x60)
    kernel[32:36] = b"0000"
    check_kernel_mode(bytes(kernel))
    kernel[32:36] = b"1.16"
    with pytest.raises(Refused, match="still reports revision 1.16"):
        check_kernel_mode(bytes(kernel))


def test_kernel_type_mismatch_is_refused_before_any_write_as_dvrflash_does(bench: Path) -> None:
    code, entries = flash_cli(bench, make_pioneer_image("1.17", kernel_type="PIO_ADV"))
    assert code != 0 and writes(entries) == []
    peer = journal_commands(PEERS / "dvrflash-pioneer-kernel-type.jsonl")
    assert write_phase(peer) == []  # DVRFlash: "Firmware and Drive type mismatch"
    meta = json.loads((PEERS / "dvrflash-pioneer-kernel-type.refusal.json").read_text())
    assert meta["image"][-2:] == ["--kernel-type", "PIO_ADV"]


def test_another_generations_part_is_refused(bench: Path) -> None:
    image = make_pioneer_image("1.17", generation="0009")
    with open_device(spec(bench)) as transport:
        drive = Drive(transport)
        drive.settle()
        with pytest.raises(Refused, match="generation 9"):
            drive_family(drive).prepare(drive, image)


# --- the family against a scripted drive --------------------------------------------------


@dataclass
class Answer:
    data: bytes


@dataclass
class PioneerStub:
    """Answers the two reads of the family's prepare: INQUIRY (0x60) and READ BUFFER 0xF1."""

    product: str = "DVD-RW  DVR-108"
    revision: str = "1.16"
    generation: str = "0008"
    kernel_type: str = "GENERAL"
    date: str = "05/07/01"
    asked: list[bytes] = field(default_factory=list)

    @property
    def identity(self) -> Ident:
        return Ident("PIONEER", self.product, self.revision)

    def command(self, cdb: bytes, *, data_in: int = 0, **_: object) -> Answer:
        self.asked.append(bytes(cdb))
        if cdb[0] == 0x12:
            data = bytearray(0x60)
            data[8:16] = b"PIONEER ".ljust(8)
            data[16:32] = self.product.encode().ljust(16)
            data[32:36] = self.revision.encode()
            data[37:45] = self.date.encode()
        else:
            data = bytearray(b"SERIAL0123456789ATA " + self.generation.encode())
            data += self.kernel_type.encode().ljust(8) + b"GENERAL 1.00"
        return Answer(bytes(data)[:data_in])


def part(generation: str = "0008", size: int = 0x100000, **kw: str) -> bytes:
    image = bytearray(make_pioneer_image("1.17", generation=generation, **kw))
    return bytes(image[:size]).ljust(size, b"\xa5")


def test_prepare_reads_inquiry_then_drive_information_as_dvrflash() -> None:
    drive = PioneerStub()
    family = family_named("pioneer")
    family.prepare(drive, part())  # type: ignore[arg-type]
    assert drive.asked == [INQUIRY_60, bytes([0x3C, 0x02, 0xF1, 0, 0, 0, 0, 0, 0x30, 0])]


def test_a_drive_without_a_pioneer_date_is_refused() -> None:
    with pytest.raises(Refused, match="does not look like a Pioneer DVR"):
        family_named("pioneer").prepare(PioneerStub(date="20050701"), part())  # type: ignore[arg-type]


def test_a_drive_already_in_kernel_mode_gets_no_key_block_and_no_check() -> None:
    family = family_named("pioneer")
    drive = PioneerStub(revision="0000")
    steps = family.flash_steps(family.prepare(drive, part()), drive.identity)  # type: ignore[arg-type]
    assert steps[0].cdb[:3] == bytes([0x3B, 7, 0xF0]) and len(steps) == 33
    assert steps[-1].cdb[:3] == bytes([0x3B, 5, 0xFF]) and steps[-1].commit


def test_name_is_compared_byte_for_byte_not_squeezed() -> None:
    """DVRFlash compares 24 bytes at 0x60 with INQUIRY bytes 8-31 (strncmp): spacing counts."""
    drive = PioneerStub(product="DVD-RW DVR-108")
    with pytest.raises(Refused, match="firmware and drive type mismatch"):
        family_named("pioneer").prepare(drive, part())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "drive,image,match",
    [
        (PioneerStub(kernel_type="PIO_ADV"), part(), "type mismatch"),
        (PioneerStub(), part(kernel_type="PIO_ADV"), "type mismatch"),
        (PioneerStub(), part(size=0xF8000), "size mismatch"),
        (PioneerStub(generation="0009"), part("0009", 0x100000), "size mismatch"),
        (PioneerStub(generation="0003"), part("0003"), "downgrade unlock"),
        (PioneerStub(generation="0001"), part("0001"), "downgrade unlock"),
        (PioneerStub(generation="0012"), part("0012"), "not one DVRFlash supports"),
        (PioneerStub(generation="0007"), part("0008"), "generation 8"),
    ],
)
def test_images_dvrflash_refuses_are_refused(drive: PioneerStub, image: bytes, match: str) -> None:
    with pytest.raises(Refused, match=match):
        family_named("pioneer").prepare(drive, image)  # type: ignore[arg-type]


def test_kernel_part_is_refused() -> None:
    image = bytearray(part())
    image[0x110:0x116] = b"Kernel"
    with pytest.raises(Refused, match="Kernel part"):
        family_named("pioneer").prepare(PioneerStub(), bytes(image))  # type: ignore[arg-type]


def test_109_normal_part_is_padded_to_whole_chunks_as_dvrflash_sends_it() -> None:
    family = family_named("pioneer")
    drive = PioneerStub(product="DVD-RW  DVR-109", generation="0009", kernel_type="PIO_ADV")
    image = part("0009", 0x128000 + 0x1234, product="DVD-RW  DVR-109", kernel_type="PIO_ADV")
    steps = family.flash_steps(family.prepare(drive, image), drive.identity)  # type: ignore[arg-type]
    chunks = [s for s in steps if s.cdb[:3] == bytes([0x3B, 7, 0xF0])]
    assert all(len(s.data or b"") == 0x8000 for s in chunks)
    assert b"".join(s.data or b"" for s in chunks) == image + bytes(0x8000 - 0x1234)
    assert steps[0].data[16:20] == bytes.fromhex("51B7DAC2")  # PIO_ADV key


# --- the key block ------------------------------------------------------------------------


def test_key_blocks_follow_setkern() -> None:
    assert key_block(8, b"GENERAL ")[:20] == b"PIONEER  DVR-108" + UNIVERSAL_KEY.to_bytes(4, "big")
    assert key_block(62, b"GENERAL ")[:16] == b"PIONEER  DVR-108"
    assert key_block(53, b"GENERAL ")[:16] == b"PIONEER  DVR-106"
    assert key_block(4, b"GENERAL ")[16:] == bytes(0xF0)  # the DVR-105 has no key
    assert key_block(9, b"GENERAL ")[16:20] == bytes.fromhex("5C6A8FE9")
    assert key_block(9, b"OEM_INT ")[16:20] == bytes.fromhex("1B0000B0")
    assert key_block(9, b"OEM_EXT2")[16:20] == UNIVERSAL_KEY.to_bytes(4, "big")
    # the DVR-110 adds one to the key's first byte unless it is 0x9A
    assert key_block(10, b"GENERAL ")[:20] == b"PIONEER  DVR-110" + bytes.fromhex("5D6A8FE9")
    assert key_block(10, b"OEM_EXT ")[16:20] == UNIVERSAL_KEY.to_bytes(4, "big")
    with pytest.raises(Refused, match="no key is known"):
        key_block(9, b"UNKNOWN ")


def test_c_helpers_read_as_dvrflash_reads() -> None:
    assert c_atoi(b"0008\0\0") == 8 and c_atoi(b"0064GENERAL") == 64 and c_atoi(b"GEN8") is None
    assert c_strncmp_equal(b"ABC\0xyz", b"ABC\0abc", 7)
    assert not c_strncmp_equal(b"ABCD", b"ABCE", 4) and c_strncmp_equal(b"ABCD", b"ABCE", 3)


def test_capture_metadata_names_the_peer_and_how_to_rebuild_it() -> None:
    for name in ("dvrflash-pioneer.meta.json", "dvrflash-pioneer-kernel-type.refusal.json"):
        meta = json.loads((PEERS / name).read_text())
        assert meta["peer"] == "dvrflash" and "8ccb1b7d" in meta["source"]
    made = subprocess.run(
        [sys.executable, "-m", "rescue.emulator.images", "pioneer", "1.17", "-o", "/dev/stdout"],
        capture_output=True,
        check=True,
    )
    assert made.stdout.startswith(make_pioneer_image("1.17"))
