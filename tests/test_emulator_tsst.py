"""The TSST SH-D163C model, driven with hand-built 0xFF CDBs as redumper sends them."""

from __future__ import annotations

import pytest
from raw_cdb import INQUIRY, TUR, powered_on, sense_of
from raw_cdb import inquiry_revision as revision

from rescue.emulator.base import GOOD, Reply
from rescue.emulator.images import TSST_SIZE, make_tsst_image
from rescue.emulator.tsst import BURN_SECONDS, CHUNK, TsstDrive


def vendor(state: int) -> bytes:
    return bytes([0xFF, 0x00, 0x01, 0x00, 0x00, state]) + bytes(6)


def drive(spec: str = "tsst-shd163c,disc=none") -> TsstDrive:
    return powered_on(spec, TsstDrive)


def send(d: TsstDrive, image: bytes, end: int = 0x04) -> list[Reply]:
    offsets = range(0, len(image), CHUNK)
    states = [0x00] + [0xFF] * (len(offsets) - 2) + [end]
    return [
        d.submit(vendor(s), image[o : o + CHUNK], 0) for s, o in zip(states, offsets, strict=True)
    ]


def test_identity_from_image() -> None:
    d = drive("tsst-shd163c,rev=SB00,disc=none")
    assert d.submit(INQUIRY, None, 96).data[8:36] == b"TSSTcorpDVD-ROM SH-D163CSB00"


def test_256k_download_ends_with_state_04_and_burns() -> None:
    d = drive()
    image = make_tsst_image("SB02")
    replies = send(d, image)
    assert len(replies) == 5 and all(r.status == GOOD for r in replies)
    assert sense_of(d.submit(TUR, None, 0)) == (2, 0x04, 0x07)
    d.clock.sleep(BURN_SECONDS)
    assert sense_of(d.submit(TUR, None, 0)) == (6, 0x29, 0)
    assert sense_of(d.submit(TUR, None, 0)) == (6, 0x3F, 0x01)
    assert sense_of(d.submit(TUR, None, 0)) == (2, 0x3A, 0x01)
    assert revision(d) == b"SB02" and d.flash == image


def test_128k_end_state_is_refused_on_this_drive() -> None:
    d = drive()
    assert sense_of(send(d, make_tsst_image("SB02"), end=0x02)[-1]) == (5, 0x24, 0)
    assert revision(d) == b"SB01"


def test_end_before_the_image_is_complete_is_a_sequence_error() -> None:
    d = drive()
    half = make_tsst_image("SB02")[: TSST_SIZE // 2]
    assert sense_of(send(d, half)[-1]) == (5, 0x2C, 0)
    assert revision(d) == b"SB01"


def test_image_without_identity_leaves_the_drive_in_its_loader() -> None:
    d = drive()
    send(d, b"\xff" * TSST_SIZE)
    d.clock.sleep(BURN_SECONDS)
    assert revision(d) == b"BOOT"
    assert sense_of(d.submit(TUR, None, 0)) == (6, 0x29, 0)  # no 3F/01: nothing new runs
    assert sense_of(d.submit(bytes([0x25]) + bytes(9), None, 8)) == (5, 0x20, 0)
    assert all(r.status == GOOD for r in send(d, make_tsst_image("SB02")))
    d.clock.sleep(BURN_SECONDS)
    assert revision(d) == b"SB02"


@pytest.mark.parametrize("state", [0xFF, 0x04])
def test_no_first_chunk_is_a_sequence_error(state: int) -> None:
    assert sense_of(drive().submit(vendor(state), bytes(CHUNK), 0)) == (5, 0x2C, 0)


def test_no_read_buffer() -> None:
    assert sense_of(drive().submit(bytes([0x3C, 6]) + bytes(8), None, 16)) == (5, 0x20, 0)
