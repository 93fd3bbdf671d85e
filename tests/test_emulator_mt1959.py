"""The ASUS BW-16D1HT (MT1959) model, driven with hand-built CDBs as redumper sends them."""

from __future__ import annotations

import pytest
from raw_cdb import TUR, powered_on, sense_of
from raw_cdb import inquiry_revision as revision

from rescue.emulator.base import GOOD, Reply
from rescue.emulator.images import (
    MT1959_BOOT_AREA,
    MT1959_CONFIG,
    MT1959_CONFIG_AT,
    make_mt1959_image,
)
from rescue.emulator.mt1959 import BURN_SECONDS, CHUNK, Mt1959Drive


def buffer_cdb(op: int, mode: int, offset: int, length: int, buffer_id: int = 0) -> bytes:
    return (
        bytes([op, mode, buffer_id]) + offset.to_bytes(3, "big") + length.to_bytes(3, "big") + b"\0"
    )


def drive() -> Mt1959Drive:
    return powered_on("asus-bw16d1ht,disc=none", Mt1959Drive)


def prepared(d: Mt1959Drive, revision_text: str) -> bytes:
    """What redumper sends: boot area blanked, the drive's own block copied in at 0x3000."""
    config = d.submit(buffer_cdb(0x3C, 6, MT1959_CONFIG_AT, 0x20), None, 0x20).data
    image = bytearray(make_mt1959_image(revision_text))
    image[:MT1959_BOOT_AREA] = b"\xff" * MT1959_BOOT_AREA
    image[MT1959_CONFIG_AT : MT1959_CONFIG_AT + 0x20] = config
    return bytes(image)


def send(d: Mt1959Drive, image: bytes) -> list[Reply]:
    replies = [d.submit(buffer_cdb(0x3B, 1, 0, 0), None, 0)]
    for offset in range(0, len(image), CHUNK):
        piece = image[offset : offset + CHUNK]
        replies.append(d.submit(buffer_cdb(0x3B, 6, offset, len(piece)), piece, 0))
    return replies


def test_configuration_block_is_readable_at_0x3000_only() -> None:
    d = drive()
    assert d.submit(buffer_cdb(0x3C, 6, 0x3000, 0x20), None, 0x20).data == MT1959_CONFIG
    assert MT1959_CONFIG.startswith(b"MT1959 Boot JB8 ")
    assert sense_of(d.submit(buffer_cdb(0x3C, 6, 0, 0x20), None, 0x20)) == (5, 0x24, 0)
    assert sense_of(d.submit(buffer_cdb(0x3C, 6, 0x3000, 0x21), None, 0x21)) == (5, 0x24, 0)


def test_redumper_sequence_burns_all_but_the_boot_area() -> None:
    d = drive()
    boot = d.flash[:MT1959_BOOT_AREA]
    image = prepared(d, "3.10")
    replies = send(d, image)
    assert len(replies) == 129 and all(r.status == GOOD for r in replies)
    assert sense_of(d.submit(TUR, None, 0)) == (2, 0x04, 0x07)
    d.clock.sleep(BURN_SECONDS)
    assert sense_of(d.submit(TUR, None, 0)) == (6, 0x29, 0)
    assert sense_of(d.submit(TUR, None, 0)) == (6, 0x3F, 0x01)
    assert revision(d) == b"3.10"
    assert d.flash == boot + image[MT1959_BOOT_AREA:]


def test_chunks_without_mode_1_are_a_sequence_error() -> None:
    d = drive()
    assert sense_of(d.submit(buffer_cdb(0x3B, 6, 0, CHUNK), bytes(CHUNK), 0)) == (5, 0x2C, 0)


def test_image_without_this_drives_block_is_refused() -> None:
    d = drive()
    image = make_mt1959_image("3.10")[:MT1959_CONFIG_AT] + bytes(0x20)
    image += make_mt1959_image("3.10")[MT1959_CONFIG_AT + 0x20 :]
    assert sense_of(send(d, image)[-1]) == (5, 0x26, 0)
    assert revision(d) == b"3.02"


@pytest.mark.parametrize(
    "cdb,data",
    [
        (buffer_cdb(0x3B, 1, 0, 0x10), bytes(0x10)),  # mode 1 carries no data
        (buffer_cdb(0x3B, 5, 0, CHUNK), bytes(CHUNK)),
        (buffer_cdb(0x3B, 1, 0, 0, buffer_id=2), None),
    ],
)
def test_wrong_fields_are_invalid(cdb: bytes, data: bytes | None) -> None:
    assert sense_of(drive().submit(cdb, data, 0)) == (5, 0x24, 0)
