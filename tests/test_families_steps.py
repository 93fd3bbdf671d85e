"""Every family's command list against the public sequence in docs/protocols.md.

CDB fields are decoded by hand here (SPC-4 WRITE BUFFER layout; the 12-byte
MediaTek 0xFF command), so a mistake in rescue.scsi.cdb or in a family shows.
The device models of these families come later; until then these tests pin
the host side to the sources.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stubs import Ident

from rescue.errors import Refused
from rescue.families import family_for, family_named


@dataclass
class Answer:
    data: bytes


@dataclass
class FakeDrive:
    """Answers the one read a family's ``prepare`` makes; records what was asked."""

    identity: Ident
    reply: bytes
    asked: list[bytes] = field(default_factory=list)
    transport: None = None  # no path to ask: reads keep their own size (pathcheck.fit)

    def command(self, cdb: bytes, *, data_in: int = 0, **_: object) -> Answer:
        self.asked.append(bytes(cdb))
        return Answer(self.reply[:data_in])


def wb(cdb: bytes) -> tuple[int, int, int, int]:
    """(mode, buffer id, offset, length) of a 10-byte WRITE BUFFER."""
    assert len(cdb) == 10 and cdb[0] == 0x3B
    return cdb[1] & 0x1F, cdb[2], int.from_bytes(cdb[3:6], "big"), int.from_bytes(cdb[6:9], "big")


def joined(steps) -> bytes:  # noqa: ANN001
    return b"".join(s.data for s in steps if s.data is not None and not s.probe)


def test_tsst_256k_uses_fc00_chunks_and_end_state_04() -> None:
    image = os.urandom(0x40000)
    drive = Ident("TSSTcorp", "DVD-ROM SH-D163A", "SB02")
    family = family_for(drive)
    assert family is not None and family.name == "tsst"
    steps = family.flash_steps(image, drive)
    assert [len(s.data) for s in steps] == [0xFC00] * 4 + [0x40000 - 4 * 0xFC00]
    for step in steps:
        assert len(step.cdb) == 12 and step.cdb[:5] == bytes([0xFF, 0, 1, 0, 0])
        assert step.cdb[6:] == bytes(6)
    assert [s.cdb[5] for s in steps] == [0x00, 0xFF, 0xFF, 0xFF, 0x04]
    assert joined(steps) == image and [s.commit for s in steps] == [False] * 4 + [True]


def test_mt1939_sends_2mib_in_f800_chunks_ending_with_2k_state_02() -> None:
    image = os.urandom(0x200000)
    drive = Ident("TSSTcorp", "BDDVDW SE-506CB", "TS01")
    family = family_for(drive)
    assert family is not None and family.name == "mt1939" and family.can_backup
    steps = family.flash_steps(image, drive)
    assert len(steps) == 34 and len(steps[-1].data) == 0x800
    assert all(len(s.data) == 0xF800 for s in steps[:-1])
    assert [s.cdb[5] for s in steps] == [0x00] + [0xFF] * 32 + [0x02]
    assert all(s.cdb[:5] == bytes([0xFF, 0, 1, 0, 0]) for s in steps)
    assert joined(steps) == image


def test_mt1939_backup_reads_flash_with_read_buffer_mode_6() -> None:
    flash = os.urandom(0x200000)

    class Flash(FakeDrive):
        def command(self, cdb: bytes, *, data_in: int = 0, **_: object) -> Answer:
            assert cdb[0] == 0x3C and cdb[1] == 0x06 and cdb[2] == 0
            address = int.from_bytes(cdb[3:6], "big")
            assert int.from_bytes(cdb[6:9], "big") == data_in
            return Answer(flash[address : address + data_in])

    drive = Flash(Ident("TSSTcorp", "BDDVDW SE-506CB", "TS01"), b"")
    progress: list[int] = []
    family = family_named("mt1939")
    assert family.backup(drive, lambda done, total: progress.append(done)) == flash
    assert progress[-1] == 0x200000
    changed = flash[:0x10000] + bytes(0x1F0000)
    assert family.read_back(drive, flash) is True
    assert family.read_back(drive, changed) is False


def test_plextor_chunks_follow_the_model_table_with_tur_before_each() -> None:
    image = os.urandom(0xF0000)
    drive = Ident("PLEXTOR", "DVDR   PX-716A", "1.11")  # INQUIRY pads with spaces
    family = family_for(drive)
    assert family is not None and family.name == "plextor"
    steps = family.flash_steps(image, drive)
    probes, writes = steps[0::2], steps[1::2]
    assert all(p.probe and p.cdb == bytes(6) for p in probes)
    assert len(writes) == 0xF0000 // 0x4000
    for index, step in enumerate(writes):
        mode, buffer_id, offset, length = wb(step.cdb)
        assert (buffer_id, offset, length) == (0, index * 0x4000, 0x4000)
        assert mode == (5 if index == len(writes) - 1 else 4)
    assert joined(steps) == image and writes[-1].commit
    small = Ident("PLEXTOR", "CD-R   PX-W4824A", "1.04")
    assert all(wb(s.cdb)[3] == 0x1000 for s in family.flash_steps(bytes(0x80000), small)[1::2])


def test_mt1959_prepares_the_image_with_the_drives_config_block() -> None:
    config = b"MT1959 Boot JB8 " + os.urandom(16)
    drive = FakeDrive(Ident("ASUS", "BW-16D1HT", "3.10"), config)
    family = family_for(drive.identity)
    assert family is not None and family.name == "mt1959"
    image = bytearray(os.urandom(0x100000))
    image[0x3000:0x3010] = b"MT1959 Boot JB8 "  # the file's id: the drive's must equal it
    image = bytes(image)
    sent = family.prepare(drive, image)
    assert drive.asked == [bytes([0x3C, 0x06, 0, 0, 0x30, 0, 0, 0, 0x20, 0])]
    assert sent[:0x3000] == b"\xff" * 0x3000 and sent[0x3020:0x10000] == b"\xff" * 0xCFE0
    assert sent[0x3000:0x3020] == config and sent[0x10000:] == image[0x10000:]
    steps = family.flash_steps(sent, drive.identity)
    assert wb(steps[0].cdb) == (1, 0, 0, 0) and steps[0].data is None
    for index, step in enumerate(steps[1:]):
        assert wb(step.cdb) == (6, 0, index * 0x4000, 0x4000)
    assert joined(steps) == sent


def test_mt1959_refuses_a_drive_with_another_config_block() -> None:
    drive = FakeDrive(Ident("ASUS", "BW-16D1HT", "3.10"), b"MT1959 Boot BU5 " + bytes(16))
    image = bytearray(0x100000)
    image[0x3000:0x3010] = b"MT1959 Boot JB8 "
    with pytest.raises(Refused, match="drive's configuration id is 'MT1959 Boot BU5 '"):
        family_named("mt1959").prepare(drive, bytes(image))


def test_spc_downloads_deferred_then_activates() -> None:
    image = os.urandom(0x2800)
    steps = family_named("spc").flash_steps(image, Ident("ACME", "DVD", "1"))
    assert [wb(s.cdb) for s in steps] == [
        (0x0E, 0, 0, 0x1000),
        (0x0E, 0, 0x1000, 0x1000),
        (0x0E, 0, 0x2000, 0x800),
        (0x0F, 0, 0, 0),
    ]
    assert steps[-1].commit and joined(steps) == image
    assert family_for(Ident("ACME", "DVD", "1")) is None
    assert family_for(Ident("ACME", "DVD", "1"), [0x0104]).name == "spc"


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from(["btc", "tsst", "mt1939", "mt1959", "spc"]),
    st.integers(min_value=1, max_value=0x48000),
)
def test_every_byte_goes_out_once_in_order_and_exactly_one_commit(name: str, size: int) -> None:
    image = bytes(range(256)) * (size // 256) + bytes(size % 256)
    steps = family_named(name).flash_steps(image, Ident("X", "Y", "Z"))
    chunks = [s for s in steps if s.label.startswith("chunk")]
    assert b"".join(s.data for s in chunks) == image
    assert sum(s.commit for s in steps) == 1
    assert all(len(s.data or b"") <= 0x10000 for s in steps)  # under SG_IO's usual limit
    assert all(s.timeout > 0 for s in steps)
