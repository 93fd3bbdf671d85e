"""The Pioneer DVR-108 model, driven with hand-built CDBs in DVRFlash's order."""

from __future__ import annotations

import pytest
from raw_cdb import INQUIRY, TUR, powered_on, sense_of

from rescue.emulator.base import GOOD
from rescue.emulator.images import PIONEER_GENERATION_AT, make_pioneer_image
from rescue.emulator.pioneer import CHUNK, KEY_BLOCK, SAVE_SECONDS, PioneerDrive


def buffer_cdb(op: int, mode: int, buffer_id: int, offset: int, length: int) -> bytes:
    return (
        bytes([op, mode, buffer_id]) + offset.to_bytes(3, "big") + length.to_bytes(3, "big") + b"\0"
    )


ENTER = buffer_cdb(0x3B, 4, 0xFF, 0, 0x100)
SAVE = buffer_cdb(0x3B, 5, 0xFF, 0, 0x100)


def drive() -> PioneerDrive:
    return powered_on("pioneer-dvr108,disc=none", PioneerDrive)


def inquiry(d: PioneerDrive) -> bytes:
    reply = d.submit(INQUIRY, None, 96)
    assert reply.status == GOOD
    return reply.data


def send_normal(d: PioneerDrive, image: bytes) -> None:
    for offset in range(0, len(image), CHUNK):
        piece = image[offset : offset + CHUNK]
        assert d.submit(buffer_cdb(0x3B, 7, 0xF0, offset, CHUNK), piece, 0).status == GOOD


def test_inquiry_and_drive_information_as_dvrflash_reads_them() -> None:
    d = drive()
    data = inquiry(d)
    assert data[8:36] == b"PIONEER DVD-RW  DVR-108 1.16"
    assert data[37:45] == b"05/07/01" and data[47:54] == b"PIONEER"
    info = d.submit(buffer_cdb(0x3C, 2, 0xF1, 0, 0x30), None, 0x30).data
    assert len(info) == 0x30 and info[16:20] == b"ATA " and info[20:24] == b"0008"


def test_dvrflash_sequence_flashes_the_normal_part() -> None:
    d = drive()
    image = make_pioneer_image("1.17")
    assert d.submit(ENTER, KEY_BLOCK, 0).status == GOOD
    data = inquiry(d)
    assert data[32:36] == b"0000" and data[37:45] == b"00/00/00"
    send_normal(d, image)
    assert d.submit(SAVE, KEY_BLOCK, 0).status == GOOD
    assert sense_of(d.submit(TUR, None, 0)) == (2, 0x04, 0x07)
    d.clock.sleep(SAVE_SECONDS)
    assert sense_of(d.submit(TUR, None, 0)) == (6, 0x29, 0)
    assert sense_of(d.submit(TUR, None, 0)) == (6, 0x3F, 0x01)
    assert inquiry(d)[32:36] == b"1.17" and d.flash == image


def test_wrong_key_keeps_the_drive_in_normal_mode() -> None:
    d = drive()
    bad = KEY_BLOCK[:0x10] + bytes(0xF0)
    assert sense_of(d.submit(ENTER, bad, 0)) == (5, 0x26, 0)
    assert inquiry(d)[32:36] == b"1.16"


def test_normal_data_outside_kernel_mode_is_a_sequence_error() -> None:
    d = drive()
    piece = bytes(CHUNK)
    assert sense_of(d.submit(buffer_cdb(0x3B, 7, 0xF0, 0, CHUNK), piece, 0)) == (5, 0x2C, 0)
    assert sense_of(d.submit(SAVE, KEY_BLOCK, 0)) == (5, 0x2C, 0)


def test_refused_save_stays_in_kernel_mode_and_can_be_retried() -> None:
    d = drive()
    other = bytearray(make_pioneer_image("1.17"))
    other[PIONEER_GENERATION_AT : PIONEER_GENERATION_AT + 4] = b"0009"  # a DVR-109 part
    assert d.submit(ENTER, KEY_BLOCK, 0).status == GOOD
    send_normal(d, bytes(other))
    assert sense_of(d.submit(SAVE, KEY_BLOCK, 0)) == (5, 0x26, 0)
    assert inquiry(d)[32:36] == b"0000"
    assert sense_of(d.submit(SAVE, KEY_BLOCK, 0)) == (5, 0x2C, 0)  # the download was dropped
    send_normal(d, make_pioneer_image("1.17"))
    assert d.submit(SAVE, KEY_BLOCK, 0).status == GOOD
    d.clock.sleep(SAVE_SECONDS)
    assert inquiry(d)[32:36] == b"1.17"


@pytest.mark.parametrize(
    "cdb,data",
    [
        (buffer_cdb(0x3B, 7, 0xFE, 0, CHUNK), bytes(CHUNK)),  # kernel part: not modelled
        (buffer_cdb(0x3B, 6, 0xF0, 0, CHUNK), bytes(CHUNK)),
        (buffer_cdb(0x3C, 2, 0xF0, 0, 0x30), None),
    ],
)
def test_other_buffers_and_modes_are_invalid(cdb: bytes, data: bytes | None) -> None:
    d = drive()
    assert d.submit(ENTER, KEY_BLOCK, 0).status == GOOD
    assert sense_of(d.submit(cdb, data, 0x30)) == (5, 0x24, 0)
