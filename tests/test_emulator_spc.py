"""The emulator's SPC microcode drive, driven with hand-built WRITE BUFFER modes 0E / 0F."""

from __future__ import annotations

import pytest
from raw_cdb import TUR, powered_on, sense_of
from raw_cdb import inquiry_revision as revision

from rescue.emulator.base import CHECK_CONDITION, GOOD
from rescue.emulator.images import SPC_SIZE, make_spc_image
from rescue.emulator.spc import ACTIVATE_SECONDS, SpcDrive

CHUNK = 0x1000


def buffer_cdb(op: int, mode: int, offset: int, length: int, buffer_id: int = 0) -> bytes:
    return (
        bytes([op, mode, buffer_id]) + offset.to_bytes(3, "big") + length.to_bytes(3, "big") + b"\0"
    )


ACTIVATE = buffer_cdb(0x3B, 0x0F, 0, 0)


def drive() -> SpcDrive:
    return powered_on("generic-spc,disc=none", SpcDrive)


def download(d: SpcDrive, image: bytes, order: range | None = None) -> None:
    for offset in order or range(0, len(image), CHUNK):
        piece = image[offset : offset + CHUNK]
        assert d.submit(buffer_cdb(0x3B, 0x0E, offset, len(piece)), piece, 0).status == GOOD


def test_advertises_microcode_upgrade_feature() -> None:
    d = drive()
    reply = d.submit(bytes([0x46, 0x02, 0x01, 0x04, 0, 0, 0, 0, 64, 0]), None, 64)
    assert reply.status == GOOD and reply.data[8:10] == b"\x01\x04"


def test_read_buffer_descriptor_gives_the_capacity() -> None:
    reply = drive().submit(buffer_cdb(0x3C, 0x03, 0, 4), None, 4)
    assert reply.data == b"\x00" + SPC_SIZE.to_bytes(3, "big")


def test_deferred_download_activates_only_on_mode_0f() -> None:
    d = drive()
    image = make_spc_image("1.01")
    download(d, image, range(len(image) - CHUNK, -1, -CHUNK))  # offsets in any order
    assert revision(d) == b"1.00" and d.submit(TUR, None, 0).status == CHECK_CONDITION
    assert d.submit(ACTIVATE, None, 0).status == GOOD
    assert sense_of(d.submit(TUR, None, 0)) == (2, 0x04, 0x07)
    d.clock.sleep(ACTIVATE_SECONDS)
    assert sense_of(d.submit(TUR, None, 0)) == (6, 0x29, 0)
    assert sense_of(d.submit(TUR, None, 0)) == (6, 0x3F, 0x01)
    assert revision(d) == b"1.01" and d.flash == image


def test_activation_without_a_whole_download_is_a_sequence_error() -> None:
    d = drive()
    assert sense_of(d.submit(ACTIVATE, None, 0)) == (5, 0x2C, 0)
    download(d, make_spc_image("1.01")[: SPC_SIZE // 2])
    assert sense_of(d.submit(ACTIVATE, None, 0)) == (5, 0x2C, 0)
    assert revision(d) == b"1.00"


def test_microcode_for_another_drive_is_refused() -> None:
    d = drive()
    download(d, make_spc_image("1.01", product="OTHER DVD"))
    assert sense_of(d.submit(ACTIVATE, None, 0)) == (5, 0x26, 0)
    assert sense_of(d.submit(ACTIVATE, None, 0)) == (5, 0x2C, 0)  # it was dropped
    assert revision(d) == b"1.00"


@pytest.mark.parametrize(
    "cdb,data",
    [
        (buffer_cdb(0x3B, 0x05, 0, CHUNK), bytes(CHUNK)),  # mode 5 not offered
        (buffer_cdb(0x3B, 0x0E, SPC_SIZE - 1, 2), bytes(2)),  # past the capacity
        (buffer_cdb(0x3B, 0x0E, 0, CHUNK, buffer_id=1), bytes(CHUNK)),
        (buffer_cdb(0x3B, 0x0F, 0, 4), bytes(4)),
        (buffer_cdb(0x3C, 0x02, 0, 4), None),  # no data read-back
    ],
)
def test_wrong_fields_are_invalid(cdb: bytes, data: bytes | None) -> None:
    assert sense_of(drive().submit(cdb, data, 4)) == (5, 0x24, 0)
