"""The Plextor PX-716A model, driven with hand-built CDBs the way redumper / pxfw flash it."""

from __future__ import annotations

from pathlib import Path

import pytest
from raw_cdb import INQUIRY, TUR, powered_on, sense_of, write_buffer
from raw_cdb import inquiry_revision as revision

from rescue.emulator.base import GOOD, Reply
from rescue.emulator.images import (
    PLEXTOR_SIZE,
    PLEXTOR_SUM_AT,
    make_plextor_image,
    read_plextor_identity,
)
from rescue.emulator.plextor import BURN_SECONDS, CHUNK, PlextorDrive


def drive(spec: str = "plextor-px716a,disc=none") -> PlextorDrive:
    return powered_on(spec, PlextorDrive)


def send(d: PlextorDrive, image: bytes) -> list[Reply]:
    """Mode 4 for every chunk but the last, mode 5 for the last, TEST UNIT READY before each."""
    offsets = range(0, len(image), CHUNK)
    replies = []
    for n, offset in enumerate(offsets):
        d.submit(TUR, None, 0)
        piece = image[offset : offset + CHUNK]
        mode = 5 if n == len(offsets) - 1 else 4
        replies.append(d.submit(write_buffer(mode, offset, len(piece)), piece, 0))
    return replies


def test_identity_comes_from_the_image_header() -> None:
    d = drive("plextor-px716a,rev=1.04,disc=none")
    assert d.submit(INQUIRY, None, 96).data[8:36] == b"PLEXTOR DVDR   PX-716A  1.04"
    image = make_plextor_image("1.11")
    assert len(image) == PLEXTOR_SIZE and image.startswith(b"PLEXTOR DVDR   PX-716A ")
    assert read_plextor_identity(image[:-1] + bytes([image[-1] ^ 1])) is None


def test_mode4_chunks_then_mode5_burns_the_new_firmware() -> None:
    d = drive()
    image = make_plextor_image("1.11")
    replies = send(d, image)
    assert len(replies) == 60 and all(r.status == GOOD for r in replies)
    assert sense_of(d.submit(TUR, None, 0)) == (2, 0x04, 0x07)
    d.clock.sleep(BURN_SECONDS)
    assert sense_of(d.submit(TUR, None, 0)) == (6, 0x29, 0)
    assert sense_of(d.submit(TUR, None, 0)) == (6, 0x3F, 0x01)
    assert revision(d) == b"1.11" and d.flash == image


def test_mode5_on_a_short_download_is_a_sequence_error() -> None:
    d = drive()
    replies = send(d, make_plextor_image("1.11")[: 3 * CHUNK])
    assert sense_of(replies[-1]) == (5, 0x2C, 0)
    assert revision(d) == b"1.10"


def test_chunks_out_of_order_are_refused() -> None:
    d = drive()
    assert d.submit(write_buffer(4, 0, CHUNK), bytes(CHUNK), 0).status == GOOD
    assert sense_of(d.submit(write_buffer(4, 2 * CHUNK, CHUNK), bytes(CHUNK), 0)) == (5, 0x2C, 0)


@pytest.mark.parametrize(
    "cdb,data",
    [
        (write_buffer(6, 0, CHUNK), bytes(CHUNK)),  # BTC's mode is not Plextor's
        (write_buffer(4, 0, CHUNK, buffer_id=1), bytes(CHUNK)),
        (write_buffer(4, 0, 2 * CHUNK), bytes(2 * CHUNK)),  # chunk too long
        (write_buffer(4, 0, CHUNK), bytes(CHUNK - 1)),  # length and data disagree
    ],
)
def test_wrong_fields_are_invalid(cdb: bytes, data: bytes) -> None:
    assert sense_of(drive().submit(cdb, data, 0)) == (5, 0x24, 0)


def test_bad_sum_or_other_model_is_refused() -> None:
    bad_sum = bytearray(make_plextor_image("1.11"))
    bad_sum[PLEXTOR_SUM_AT] ^= 1
    other = make_plextor_image("1.11", product="DVDR   PX-760A")
    for image in (bytes(bad_sum), other):
        d = drive()
        assert sense_of(send(d, image)[-1]) == (5, 0x26, 0)
        assert revision(d) == b"1.10"


def test_no_read_buffer_and_a_broken_flash_boots_the_loader(tmp_path: Path) -> None:
    assert sense_of(drive().submit(bytes([0x3C, 6]) + bytes(8), None, 16)) == (5, 0x20, 0)
    broken = bytearray(make_plextor_image("1.10"))
    broken[0x1000] ^= 0xFF
    path = tmp_path / "px.bin"
    path.write_bytes(bytes(broken))
    d = drive(f"plextor-px716a,disc=none,image={path}")
    assert revision(d) == b"BOOT"
    assert all(r.status == GOOD for r in send(d, make_plextor_image("1.11")))
    d.clock.sleep(BURN_SECONDS)
    assert revision(d) == b"1.11"
