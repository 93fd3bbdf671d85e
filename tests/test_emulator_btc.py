"""The BTC DRW-1004IM model, flashed the way btcflash does it, with hand-built CDBs."""

from __future__ import annotations

import struct

import pytest
from raw_cdb import INQUIRY, TUR, powered_on, sense_of, write_buffer
from raw_cdb import inquiry_revision as revision

from rescue.emulator.base import CHECK_CONDITION, GOOD, Reply
from rescue.emulator.btc import BURN_SECONDS, BtcDrive
from rescue.emulator.disc import SECTOR
from rescue.emulator.images import FLASH_SIZE, flash_checksum, make_btc_image
from rescue.emulator.registry import create
from rescue.errors import UsageError
from rescue.transport.emulated import EmulatedTransport

CHUNK = 0x1000


def drive(spec: str = "btc-drw1004im,disc=none") -> BtcDrive:
    return powered_on(spec, BtcDrive)


def download(d: BtcDrive, image: bytes, checksum: int | None = None) -> None:
    for offset in range(0, len(image), CHUNK):
        chunk = image[offset : offset + CHUNK]
        assert d.submit(write_buffer(6, offset + 0x20, CHUNK), chunk, 0).status == GOOD
    header = bytearray(32)
    header[30:32] = (flash_checksum(image) if checksum is None else checksum).to_bytes(2, "big")
    assert d.submit(write_buffer(6, 0, 32), bytes(header), 0).status == GOOD


def commit(d: BtcDrive) -> Reply:
    return d.submit(write_buffer(7, 0, 0), None, 0)


def attentions(d: BtcDrive) -> list[int]:
    """ASCs of the unit attentions TEST UNIT READY reports before anything else."""
    found = []
    while (reply := d.submit(TUR, None, 0)).status == CHECK_CONDITION and reply.sense[2] == 6:
        found.append(reply.sense[12])
    return found


def flash_and_wait(d: BtcDrive, image: bytes) -> list[int]:
    """Download, commit, let the burn finish; the unit attentions it left."""
    download(d, image)
    assert commit(d).status == GOOD
    d.clock.sleep(BURN_SECONDS)
    return attentions(d)


def test_identity_comes_from_the_flash_image() -> None:
    data = create("btc-drw1004im,rev=0040").submit(INQUIRY, None, 96).data
    assert len(data) == 96
    assert data[:8] == bytes([0x05, 0x80, 0x00, 0x32, 0x5B, 0, 0, 0])
    assert data[8:36] == b"BTC     DVDRW IDE1004   0040"
    assert data[36:52] == b"2006/02/14 10:00"


def test_full_flash_burn_and_unit_attentions() -> None:
    d = drive()
    new = make_btc_image("0050", date="2006/06/01 12:00")
    download(d, new)
    assert commit(d).status == GOOD
    # Burning: everything but INQUIRY and REQUEST SENSE says "operation in progress";
    # INQUIRY still answers (SPC-4), with the revision that is running until the restart.
    assert sense_of(d.submit(TUR, None, 0)) == (2, 0x04, 0x07)
    busy_inquiry = d.submit(INQUIRY, None, 96)
    assert busy_inquiry.status == GOOD and busy_inquiry.data[32:36] == b"0043"
    rs = d.submit(bytes([0x03, 0, 0, 0, 18, 0]), None, 18)
    assert rs.status == GOOD and (rs.data[2], rs.data[12], rs.data[13]) == (2, 0x04, 0x07)
    d.clock.sleep(BURN_SECONDS - 1)
    assert sense_of(d.submit(TUR, None, 0)) == (2, 0x04, 0x07)
    d.clock.sleep(1)
    assert sense_of(d.submit(TUR, None, 0)) == (6, 0x29, 0x00)
    assert sense_of(d.submit(TUR, None, 0)) == (6, 0x3F, 0x01)
    assert sense_of(d.submit(TUR, None, 0)) == (2, 0x3A, 0x01)  # back, and empty
    assert revision(d) == b"0050"
    assert d.flash == new
    config = d.submit(bytes([0x46, 2, 0x01, 0x0C, 0, 0, 0, 0, 255, 0]), None, 255).data
    assert config[12:26] == b"20060601120000"


def test_burn_through_the_transport_like_btcflash() -> None:
    d = drive()
    t = EmulatedTransport(d, "emu:btc")
    image = make_btc_image("0050")
    for offset in range(0, FLASH_SIZE, CHUNK):
        t.execute(write_buffer(6, offset + 0x20, CHUNK), data_out=image[offset : offset + CHUNK])
    t.execute(write_buffer(6, 0, 32), data_out=bytes(30) + flash_checksum(image).to_bytes(2, "big"))
    assert t.execute(write_buffer(7, 0, 0)).ok
    t.sleep(50)
    statuses = [t.execute(TUR).sense[12] for _ in range(3)]
    assert statuses == [0x29, 0x3F, 0x3A]
    assert t.execute(INQUIRY, data_in=36).data[32:36] == b"0050"


def test_checksum_mismatch_is_refused_and_discards_the_buffer() -> None:
    d = drive()
    before = d.flash
    image = make_btc_image("0050")
    download(d, image, checksum=(flash_checksum(image) + 1) & 0xFFFF)
    assert sense_of(commit(d)) == (5, 0x26, 0x00)
    assert sense_of(commit(d)) == (5, 0x2C, 0x00)  # nothing left to commit
    assert d.flash == before and revision(d) == b"0043"
    assert d.submit(TUR, None, 0).status == CHECK_CONDITION  # not burning: plain no-disc
    assert sense_of(d.submit(TUR, None, 0)) == (2, 0x3A, 0x01)


def test_incomplete_download_is_a_sequence_error() -> None:
    d = drive()
    image = make_btc_image("0050")
    download(d, image[: FLASH_SIZE // 2])
    assert sense_of(commit(d)) == (5, 0x2C, 0x00)
    assert revision(d) == b"0043"


def test_commit_fault_badsum_refuses_once() -> None:
    d = drive("btc-drw1004im,disc=none,commit=badsum")
    image = make_btc_image("0050")
    download(d, image)
    assert sense_of(commit(d)) == (5, 0x26, 0x00)
    flash_and_wait(d, image)
    assert revision(d) == b"0050"


def test_stepping_quirk_needs_0050_first() -> None:
    d = drive()
    download(d, make_btc_image("0151"))
    assert sense_of(commit(d)) == (5, 0x20, 0x00)
    assert revision(d) == b"0043"
    assert flash_and_wait(d, make_btc_image("0050")) == [0x29, 0x3F]
    assert revision(d) == b"0050"
    flash_and_wait(d, make_btc_image("0151"))
    assert revision(d) == b"0151"


def test_stepping_quirk_can_be_turned_off() -> None:
    d = drive("btc-drw1004im,disc=none,quirk=none")
    flash_and_wait(d, make_btc_image("0151"))
    assert revision(d) == b"0151"


def test_power_loss_leaves_recovery_mode_and_the_same_flash_fixes_it() -> None:
    d = drive("btc-drw1004im,commit=powerloss")
    assert flash_and_wait(d, make_btc_image("0050")) == [0x29]  # no 3F/01: no new firmware
    assert sense_of(d.submit(TUR, None, 0)) == (2, 0x3A, 0x01)
    assert revision(d) == b"BOOT" and d.recovery
    read10 = struct.pack(">BBIBHB", 0x28, 0, 0, 0, 1, 0)
    assert sense_of(d.submit(read10, None, SECTOR)) == (5, 0x20, 0x00)
    assert sense_of(d.submit(bytes([0x3C, 2, 0, 0, 0, 0, 0, 0x10, 0, 0]), None, 4096)) == (
        5,
        0x20,
        0,
    )
    # The boot loader knows no revision, so no stepping stone is needed to recover.
    image = make_btc_image("0151")
    assert flash_and_wait(d, image) == [0x29, 0x3F]
    assert revision(d) == b"0151" and not d.recovery
    assert d.submit(read10, None, SECTOR).status == GOOD  # the disc is readable again


def test_start_in_recovery_mode() -> None:
    d = drive("btc-drw1004im,mode=recovery")
    assert revision(d) == b"BOOT"
    assert sense_of(d.submit(bytes([0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0]), None, 8)) == (5, 0x20, 0)


def test_read_buffer_is_not_supported() -> None:
    d = drive()
    assert sense_of(d.submit(bytes([0x3C, 2, 0, 0, 0, 0, 0, 0x10, 0, 0]), None, 4096)) == (
        5,
        0x20,
        0x00,
    )


@pytest.mark.parametrize(
    ("cdb", "data"),
    [
        (write_buffer(6, 0x20, CHUNK, buffer_id=1), bytes(CHUNK)),
        (write_buffer(5, 0, CHUNK), bytes(CHUNK)),
        (write_buffer(6, 0x20 + FLASH_SIZE, CHUNK), bytes(CHUNK)),
        (write_buffer(6, 0x20, CHUNK), bytes(10)),
        (write_buffer(7, 0, 32), bytes(32)),
    ],
)
def test_bad_write_buffer_fields(cdb: bytes, data: bytes) -> None:
    assert sense_of(drive().submit(cdb, data, 0)) == (5, 0x24, 0x00)


def test_state_persists_across_creates(tmp_path) -> None:  # noqa: ANN001
    state = tmp_path / "btc.state"
    spec = f"btc-drw1004im,disc=none,state={state}"
    d = drive(spec)
    assert state.read_bytes() == d.flash  # created on first use
    image = make_btc_image("0050")
    flash_and_wait(d, image)
    assert state.read_bytes() == image
    again = drive(spec + ",rev=0040")  # the state file wins over rev=
    assert revision(again) == b"0050"


def test_bad_state_file_and_image_file(tmp_path) -> None:  # noqa: ANN001
    short = tmp_path / "short.bin"
    drive(f"btc-drw1004im,state={short}")  # made (with its marker), then cut short
    short.write_bytes(b"\x02" * 1000)
    with pytest.raises(UsageError, match="not a 1048576-byte flash image"):
        create(f"btc-drw1004im,state={short}")
    with pytest.raises(ValueError, match="cannot read"):
        create(f"btc-drw1004im,image={tmp_path / 'missing.bin'}")
    full = tmp_path / "v.bin"
    full.write_bytes(make_btc_image("0040"))
    assert revision(drive(f"btc-drw1004im,image={full}")) == b"0040"
    with pytest.raises(ValueError, match="give one"):
        create(f"btc-drw1004im,image={full},rev=0043")


@pytest.mark.parametrize(
    "spec", ["btc-drw1004im,quirk=fast", "btc-drw1004im,commit=maybe", "btc-drw1004im,mode=x"]
)
def test_bad_btc_keys(spec: str) -> None:
    with pytest.raises(ValueError, match="want"):
        create(spec)


def test_dvd_read_quirk_on_0043() -> None:
    d = drive("btc-drw1004im,quirk=dvdread,sectors=1000")

    def read(lba: int, count: int) -> Reply:
        return d.submit(struct.pack(">BBIBHB", 0x28, 0, lba, 0, count, 0), None, count * SECTOR)

    assert read(0, 10).status == GOOD
    failed = read(495, 10)
    assert sense_of(failed) == (3, 0x11, 0x00)
    assert struct.unpack(">I", failed.sense[3:7])[0] == 500
    cd = drive("btc-drw1004im,quirk=dvdread,sectors=1000,media=cd")
    assert cd.submit(struct.pack(">BBIBHB", 0x28, 0, 900, 0, 1, 0), None, SECTOR).status == GOOD
    d.submit(bytes([0x1B, 0, 0, 0, 2, 0]), None, 0)  # eject before flashing
    flash_and_wait(d, make_btc_image("0050"))
    assert d.submit(bytes([0x1B, 0, 0, 0, 3, 0]), None, 0).status == GOOD
    assert attentions(d) == [0x28]
    assert read(900, 10).status == GOOD


def test_reset_mid_download_discards_the_buffer() -> None:
    d = drive("btc-drw1004im,disc=none,fault=reset@3b.10")
    image = make_btc_image("0050")
    replies = [
        d.submit(write_buffer(6, o + 0x20, CHUNK), image[o : o + CHUNK], 0)
        for o in range(0, FLASH_SIZE, CHUNK)
    ]
    assert sense_of(replies[9]) == (6, 0x29, 0x00)
    assert all(r.status == GOOD for i, r in enumerate(replies) if i != 9)
    d.submit(write_buffer(6, 0, 32), bytes(30) + flash_checksum(image).to_bytes(2, "big"), 0)
    assert sense_of(commit(d)) == (5, 0x2C, 0x00)


def test_failing_and_hanging_chunks() -> None:
    d = drive("btc-drw1004im,disc=none,fault=sense:4/44/00@3b.3;hang@3b.5")
    image = make_btc_image("0050")
    replies = [
        d.submit(write_buffer(6, o + 0x20, CHUNK), image[o : o + CHUNK], 0)
        for o in range(0, 6 * CHUNK, CHUNK)
    ]
    assert sense_of(replies[2]) == (4, 0x44, 0x00)
    assert replies[4].hang and replies[5].status == GOOD


def test_busy_for_the_first_commands() -> None:
    d = create("btc-drw1004im,fault=sense:2/04/01@n1-2")
    assert [sense_of(d.submit(INQUIRY, None, 96)) for _ in range(2)] == [(2, 4, 1)] * 2
    assert d.submit(INQUIRY, None, 96).status == GOOD
