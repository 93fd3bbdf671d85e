"""The TSST SE-506CB (MT1939) model, driven with hand-built CDBs as coastermelt's notes describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from raw_cdb import INQUIRY, TUR, powered_on, sense_of
from raw_cdb import inquiry_revision as revision

from rescue.emulator.base import CHECK_CONDITION, GOOD, Reply
from rescue.emulator.images import (
    MT1939_LOADER,
    MT1939_SIZE,
    MT1939_SUM_AT,
    make_mt1939_image,
    read_mt1939_identity,
)
from rescue.emulator.images import main as images_main
from rescue.emulator.mt1939 import CHUNK, COME_BACK_SECONDS, Mt1939Drive
from rescue.emulator.registry import create


def vendor(state: int) -> bytes:
    return bytes([0xFF, 0x00, 0x01, 0x00, 0x00, state]) + bytes(6)


def read_buffer(address: int, length: int, mode: int = 6) -> bytes:
    return bytes([0x3C, mode, 0]) + address.to_bytes(3, "big") + length.to_bytes(3, "big") + b"\0"


def drive(spec: str = "tsst-se506cb,disc=none") -> Mt1939Drive:
    return powered_on(spec, Mt1939Drive)


def send(d: Mt1939Drive, image: bytes) -> list[Reply]:
    offsets = range(0, len(image), CHUNK)
    replies = []
    for n, offset in enumerate(offsets):
        state = 0x02 if n == len(offsets) - 1 else 0x00 if n == 0 else 0xFF
        replies.append(d.submit(vendor(state), image[offset : offset + CHUNK], 0))
    return replies


def test_identity_comes_from_the_trailer() -> None:
    d = drive("tsst-se506cb,rev=TS00,disc=none")
    reply = d.submit(INQUIRY, None, 96)
    assert reply.data[8:36] == b"TSSTcorpBDDVDW SE-506CB TS00"


def test_made_image_follows_the_public_layout() -> None:
    image = make_mt1939_image("TS02")
    assert len(image) == MT1939_SIZE
    found = read_mt1939_identity(image)
    assert found is not None and found.revision == "TS02"
    broken = bytearray(image)
    broken[0x20000] ^= 0xFF
    assert read_mt1939_identity(bytes(broken)) is None
    assert make_mt1939_image("TS01")[:MT1939_LOADER] == image[:MT1939_LOADER]


def test_full_download_burns_and_comes_back_with_new_revision() -> None:
    d = drive()
    image = make_mt1939_image("TS02")
    replies = send(d, image)
    assert len(replies) == 34 and all(r.status == GOOD for r in replies)
    assert len(image) - (len(replies) - 1) * CHUNK == 0x800  # the last chunk is 2 KiB
    assert replies[0].busy_seconds == pytest.approx(10.0 * CHUNK / 0x100000)
    assert sense_of(d.submit(TUR, None, 0)) == (2, 0x04, 0x07)
    assert d.submit(INQUIRY, None, 96).status == GOOD  # INQUIRY answers while busy (SPC-4)
    d.clock.sleep(COME_BACK_SECONDS)
    assert sense_of(d.submit(TUR, None, 0)) == (6, 0x29, 0)
    assert sense_of(d.submit(TUR, None, 0)) == (6, 0x3F, 0x01)
    assert sense_of(d.submit(TUR, None, 0)) == (2, 0x3A, 0x01)
    assert revision(d) == b"TS02"
    assert d.flash == image


def test_boot_loader_is_never_rewritten() -> None:
    d = drive()
    loader = d.flash[:MT1939_LOADER]
    image = bytearray(make_mt1939_image("TS02"))
    image[:MT1939_LOADER] = b"\0" * MT1939_LOADER
    assert all(r.status == GOOD for r in send(d, bytes(image)))
    d.clock.sleep(COME_BACK_SECONDS)
    assert sense_of(d.submit(TUR, None, 0)) == (6, 0x29, 0)
    assert d.flash[:MT1939_LOADER] == loader
    assert d.flash[MT1939_LOADER:] == image[MT1939_LOADER:]


def test_continue_without_a_first_chunk_is_a_sequence_error() -> None:
    d = drive()
    assert sense_of(d.submit(vendor(0xFF), b"\0" * CHUNK, 0)) == (5, 0x2C, 0)
    assert sense_of(d.submit(vendor(0x02), b"\0" * 0x800, 0)) == (5, 0x2C, 0)


def test_short_image_is_refused_and_flash_untouched() -> None:
    d = drive()
    before = d.flash
    replies = send(d, make_mt1939_image("TS02")[: 4 * CHUNK])
    assert sense_of(replies[-1]) == (5, 0x2C, 0)
    assert d.submit(TUR, None, 0).status == CHECK_CONDITION  # no disc, but not busy
    assert sense_of(d.submit(TUR, None, 0)) == (2, 0x3A, 0x01)
    assert d.flash == before and revision(d) == b"TS01"


def test_bad_stored_sum_is_refused() -> None:
    d = drive()
    image = bytearray(make_mt1939_image("TS02"))
    image[MT1939_SUM_AT] ^= 0x01
    assert sense_of(send(d, bytes(image))[-1]) == (5, 0x26, 0)
    assert revision(d) == b"TS01"


@pytest.mark.parametrize(
    "cdb,data",
    [
        (vendor(0x00), b"\0" * (CHUNK + 1)),  # oversized chunk
        (vendor(0x00), b""),  # no data
        (vendor(0x07), b"\0" * CHUNK),  # unknown state
        (bytes([0xFF, 0x00, 0x02, 0, 0, 0]) + bytes(6), b"\0" * CHUNK),  # byte 2 not 01
        (bytes([0xFF]), b"\0" * CHUNK),  # a 1-byte CDB
    ],
)
def test_malformed_chunks_are_invalid_fields(cdb: bytes, data: bytes) -> None:
    assert sense_of(drive().submit(cdb, data, 0)) == (5, 0x24, 0)


def test_read_buffer_dumps_the_flash() -> None:
    d = drive()
    reply = d.submit(read_buffer(0x1F0000, 0x10000), None, 0x10000)
    assert reply.status == GOOD and reply.data == d.flash[0x1F0000:]
    assert sense_of(d.submit(read_buffer(0x1F0000, 0x10001), None, 0x10001)) == (5, 0x24, 0)
    assert sense_of(d.submit(read_buffer(0, 16, mode=2), None, 16)) == (5, 0x24, 0)


def test_corrupt_flash_runs_the_boot_loader_and_a_download_repairs_it(tmp_path: Path) -> None:
    broken = bytearray(make_mt1939_image("TS01"))
    broken[0x100000:0x100010] = b"\xff" * 16
    path = tmp_path / "flash.bin"
    path.write_bytes(bytes(broken))
    d = drive(f"tsst-se506cb,disc=pattern,image={path}")
    assert revision(d) == b"BOOT"
    assert sense_of(d.submit(TUR, None, 0)) == (2, 0x3A, 0x01)  # spins no disc
    assert sense_of(d.submit(bytes([0x25]) + bytes(9), None, 8)) == (5, 0x20, 0)
    assert d.submit(read_buffer(0, 16), None, 16).data == broken[:16]
    assert all(r.status == GOOD for r in send(d, make_mt1939_image("TS01")))
    d.clock.sleep(COME_BACK_SECONDS)
    assert revision(d) == b"TS01"


def test_state_file_is_created_and_survives_a_burn(tmp_path: Path) -> None:
    state = tmp_path / "se506cb.state"
    d = drive(f"tsst-se506cb,disc=none,state={state}")
    assert state.read_bytes() == d.flash
    image = make_mt1939_image("TS02")
    send(d, image)
    d.clock.sleep(COME_BACK_SECONDS)
    d.submit(TUR, None, 0)
    assert state.read_bytes() == image
    assert revision(drive(f"tsst-se506cb,disc=none,state={state}")) == b"TS02"


def test_bad_image_key_is_a_value_error(tmp_path: Path) -> None:
    short = tmp_path / "short.bin"
    short.write_bytes(b"\0" * 100)
    with pytest.raises(ValueError, match="not a 2097152-byte flash image"):
        create(f"tsst-se506cb,image={short}")
    with pytest.raises(ValueError, match="rev= and image="):
        create(f"tsst-se506cb,rev=TS02,image={short}")


FLASH_HOLDING_MODELS = [
    "tsst-se506cb",
    "plextor-px716a",
    "tsst-shd163c",
    "asus-bw16d1ht",
    "generic-spc",
    "pioneer-dvr108",
]
FLASH_OPCODES = [0x00, 0x03, 0x12, 0x3B, 0x3C, 0xFF]
fuzz_cdbs = st.one_of(
    st.binary(min_size=0, max_size=16),
    st.tuples(st.sampled_from(FLASH_OPCODES), st.binary(min_size=0, max_size=15)).map(
        lambda t: bytes([t[0]]) + t[1]
    ),
)


@pytest.mark.parametrize("model", FLASH_HOLDING_MODELS)
@settings(max_examples=60, deadline=None)
@given(commands=st.lists(st.tuples(fuzz_cdbs, st.none() | st.binary(max_size=64)), max_size=6))
def test_every_flash_holding_model_survives_any_cdb(
    model: str, commands: list[tuple[bytes, bytes | None]]
) -> None:
    """The models built on ``FlashHoldingDrive`` answer garbage with sense, never an exception."""
    d = create(f"{model},disc=none")
    for cdb, data in commands:
        reply = d.submit(cdb, data, 4096)
        assert reply.status in (GOOD, CHECK_CONDITION)
        if reply.status == CHECK_CONDITION:
            assert len(reply.sense) == 18 and reply.sense[0] & 0x7F == 0x70


@pytest.mark.parametrize(
    "family,model",
    [
        ("mt1939", "tsst-se506cb"),
        ("plextor", "plextor-px716a"),
        ("tsst", "tsst-shd163c"),
        ("mt1959", "asus-bw16d1ht"),
        ("spc", "generic-spc"),
        ("pioneer", "pioneer-dvr108"),
    ],
)
def test_image_writer_makes_what_each_model_boots(
    family: str, model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fw.bin"
    assert images_main([family, "Z123", "-o", str(path)]) == 0
    assert str(path) in capsys.readouterr().out
    d = create(f"{model},disc=none,image={path}")
    assert d.submit(INQUIRY, None, 96).data[32:36] == b"Z123"
