"""The generic MMC drive model, driven with hand-built CDBs (no host-side code)."""

from __future__ import annotations

import struct

import pytest
from raw_cdb import INQUIRY, TUR, powered_on, sense_of

from rescue.emulator.base import GOOD, Reply
from rescue.emulator.disc import SECTOR, pattern_sector
from rescue.emulator.mmc import MmcDrive
from rescue.emulator.registry import create

REQUEST_SENSE = bytes([0x03, 0, 0, 0, 18, 0])


def info_field(reply: Reply) -> int:
    assert reply.sense[0] & 0x80, "INFORMATION valid bit"
    return struct.unpack(">I", reply.sense[3:7])[0]


def ready(spec: str = "generic-dvd") -> MmcDrive:
    return powered_on(spec, MmcDrive)


def read10(lba: int, count: int) -> bytes:
    return struct.pack(">BBIBHB", 0x28, 0, lba, 0, count, 0)


def read12(lba: int, count: int) -> bytes:
    return struct.pack(">BBIIBB", 0xA8, 0, lba, count, 0, 0)


def read_cd(lba: int, count: int, fields: int, sector_type: int = 0) -> bytes:
    return (
        struct.pack(">BBI", 0xBE, sector_type << 2, lba)
        + count.to_bytes(3, "big")
        + bytes([fields, 0, 0])
    )


def get_config(rt: int, start: int = 0, alloc: int = 1024) -> bytes:
    return struct.pack(">BBHBBBHB", 0x46, rt, start, 0, 0, 0, alloc, 0)


def features_of(data: bytes) -> dict[int, bytes]:
    length = struct.unpack(">I", data[:4])[0]
    assert length == len(data) - 4
    found, at = {}, 8
    while at < len(data):
        code, flags, size = struct.unpack(">HBB", data[at : at + 4])
        found[code] = data[at : at + 4 + size]
        at += 4 + size
    return found


def test_standard_inquiry_layout() -> None:
    data = create("generic-dvd").submit(INQUIRY, None, 96).data
    assert len(data) == 96
    assert data[0] == 0x05 and data[1] & 0x80 and data[4] == 91
    assert data[8:16] == b"RESCUE  "
    assert data[16:32] == b"EMU DVD-ROM     "
    assert data[32:36] == b"1.00"


def test_inquiry_obeys_allocation_length_and_rejects_page_without_evpd() -> None:
    drive = create("generic-cd")
    assert len(drive.submit(bytes([0x12, 0, 0, 0, 36, 0]), None, 36).data) == 36
    assert sense_of(drive.submit(bytes([0x12, 0, 0x80, 0, 36, 0]), None, 36)) == (5, 0x24, 0)


def test_vpd_pages() -> None:
    drive = create("generic-dvd,serial=XYZ123")
    supported = drive.submit(bytes([0x12, 1, 0, 0, 255, 0]), None, 255).data
    assert supported[1] == 0 and list(supported[4 : 4 + supported[3]]) == [0x00, 0x80, 0x83]
    serial = drive.submit(bytes([0x12, 1, 0x80, 0, 255, 0]), None, 255).data
    assert serial[1] == 0x80 and serial[4 : 4 + serial[3]] == b"XYZ123"
    ids = drive.submit(bytes([0x12, 1, 0x83, 0, 255, 0]), None, 255).data
    page_len = struct.unpack(">H", ids[2:4])[0]
    desc = ids[4 : 4 + page_len]
    assert desc[0] & 0x0F == 2 and desc[1] & 0x0F == 1  # ASCII, T10 vendor ID
    assert desc[4 : 4 + desc[3]].startswith(b"RESCUE  EMU DVD-ROM")
    assert sense_of(drive.submit(bytes([0x12, 1, 0xB0, 0, 255, 0]), None, 255)) == (5, 0x24, 0)


def test_unit_attention_queue_and_exempt_commands() -> None:
    drive = create("generic-dvd,tray=open")
    # INQUIRY neither reports nor clears the power-on unit attention.
    assert drive.submit(INQUIRY, None, 96).status == GOOD
    # REQUEST SENSE returns it as data and clears it.
    data = drive.submit(REQUEST_SENSE, None, 18)
    assert data.status == GOOD and (data.data[2], data.data[12], data.data[13]) == (6, 0x29, 0)
    # Then the open tray is what the drive has to say.
    assert sense_of(drive.submit(TUR, None, 0)) == (2, 0x3A, 0x02)
    # Closing the tray on a disc queues 6/28/00, reported once by the next command.
    assert drive.submit(bytes([0x1B, 0, 0, 0, 0x03, 0]), None, 0).status == GOOD
    assert sense_of(drive.submit(TUR, None, 0)) == (6, 0x28, 0x00)
    assert drive.submit(TUR, None, 0).status == GOOD


def test_unit_attention_precedes_unknown_opcode() -> None:
    drive = create("generic-cd")
    assert sense_of(drive.submit(bytes([0xF7] + [0] * 9), None, 0)) == (6, 0x29, 0)
    assert sense_of(drive.submit(bytes([0xF7] + [0] * 9), None, 0)) == (5, 0x20, 0)


@pytest.mark.parametrize("opcode", [0x3B, 0x3C, 0x2A, 0x51, 0xFF])
def test_unknown_opcodes_are_invalid(opcode: int) -> None:
    reply = ready().submit(bytes([opcode] + [0] * 11), None, 0)
    assert sense_of(reply) == (5, 0x20, 0x00)


def test_short_cdb_is_invalid_field() -> None:
    assert sense_of(ready().submit(bytes([0x28, 0, 0]), None, 0)) == (5, 0x24, 0)


def test_no_disc_tray_closed_and_request_sense_reports_it() -> None:
    drive = ready("generic-dvd,disc=none")
    assert sense_of(drive.submit(TUR, None, 0)) == (2, 0x3A, 0x01)
    assert sense_of(drive.submit(bytes([0x25] + [0] * 9), None, 8)) == (2, 0x3A, 0x01)
    data = drive.submit(REQUEST_SENSE, None, 18).data
    assert (data[2], data[12], data[13]) == (2, 0x3A, 0x01)


def test_eject_load_and_lock() -> None:
    drive = ready()
    lock, unlock = bytes([0x1E, 0, 0, 0, 1, 0]), bytes([0x1E, 0, 0, 0, 0, 0])
    eject, load = bytes([0x1B, 0, 0, 0, 0x02, 0]), bytes([0x1B, 0, 0, 0, 0x03, 0])
    assert drive.submit(lock, None, 0).status == GOOD
    assert sense_of(drive.submit(eject, None, 0)) == (5, 0x53, 0x02)
    assert drive.submit(TUR, None, 0).status == GOOD
    assert drive.submit(unlock, None, 0).status == GOOD
    assert drive.submit(eject, None, 0).status == GOOD
    assert sense_of(drive.submit(TUR, None, 0)) == (2, 0x3A, 0x02)
    gesn = bytes([0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8, 0])
    event = drive.submit(gesn, None, 8).data
    assert event[2] == 0x04 and event[4] & 0x0F == 3 and event[5] == 0x03  # removal; open+present
    assert drive.submit(load, None, 0).status == GOOD
    event = drive.submit(gesn, None, 8).data
    assert event[4] & 0x0F == 2 and event[5] == 0x02  # new media; closed, present
    assert drive.submit(gesn, None, 8).data[4] == 0  # reported once


def test_gesn_needs_polled_and_reports_no_event_class_when_none_asked() -> None:
    drive = create("generic-cd")
    assert sense_of(drive.submit(bytes([0x4A, 0, 0, 0, 0x10, 0, 0, 0, 8, 0]), None, 8)) == (
        5,
        0x24,
        0,
    )
    data = drive.submit(bytes([0x4A, 1, 0, 0, 0x02, 0, 0, 0, 8, 0]), None, 8).data
    assert data[2] & 0x80  # NEA


def test_get_configuration_all_current_and_one() -> None:
    drive = ready("generic-dvd,media=cd")
    everything = drive.submit(get_config(0), None, 1024).data
    assert struct.unpack(">H", everything[6:8])[0] == 0x0008  # CD-ROM loaded
    feats = features_of(everything)
    assert list(feats) == sorted(feats)
    assert {0x0000, 0x0001, 0x0003, 0x0010, 0x001E, 0x001F, 0x010C} <= set(feats)
    assert 0x0104 not in feats
    profiles = feats[0x0000][4:]
    listed = {
        struct.unpack(">H", profiles[i : i + 2])[0]: profiles[i + 2] & 1
        for i in range(0, len(profiles), 4)
    }
    assert listed == {0x0010: 0, 0x0008: 1}
    assert feats[0x010C][4:18] == b"20060214100000"
    current = features_of(drive.submit(get_config(1), None, 1024).data)
    assert 0x001E in current and 0x001F not in current  # DVD Read not current with a CD
    one = features_of(drive.submit(get_config(2, 0x0003), None, 1024).data)
    assert list(one) == [0x0003]
    assert sense_of(drive.submit(get_config(3), None, 1024)) == (5, 0x24, 0)


def test_get_configuration_without_disc_has_no_current_profile() -> None:
    drive = ready("generic-cd,disc=none")
    data = drive.submit(get_config(0), None, 1024).data
    assert data[6:8] == b"\0\0"
    assert 0x001F not in features_of(data)  # a CD-ROM drive does not claim DVD Read


def test_mode_sense_capabilities_page() -> None:
    drive = ready()
    data = drive.submit(bytes([0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 255, 0]), None, 255).data
    assert struct.unpack(">H", data[:2])[0] == len(data) - 2
    page = data[8:]
    assert page[0] & 0x3F == 0x2A and page[1] == len(page) - 2
    assert page[2] & 0x08  # reads DVD-ROM
    assert page[6] >> 5 == 1  # tray
    assert struct.unpack(">H", page[8:10])[0] == 16 * 1385  # 16x DVD, in kB/s
    assert struct.unpack(">H", page[14:16])[0] == 16 * 1385  # the DVD in it, at full speed
    assert sense_of(drive.submit(bytes([0x5A, 0, 0x01, 0, 0, 0, 0, 0, 255, 0]), None, 255)) == (
        5,
        0x24,
        0,
    )


def test_capabilities_page_speeds_follow_the_drive_and_the_disc() -> None:
    def speeds(spec: str) -> tuple[int, int]:
        page = ready(spec).submit(bytes([0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 255, 0]), None, 255).data[8:]
        return struct.unpack(">H", page[8:10])[0], struct.unpack(">H", page[14:16])[0]

    assert speeds("generic-dvd,media=cd,speed=24") == (16 * 1385, round(24 * 176.4))
    assert speeds("generic-cd") == (round(48 * 176.4),) * 2
    assert speeds("generic-dvd,disc=none") == (16 * 1385,) * 2


def test_read_capacity_and_pattern_reads() -> None:
    drive = ready("generic-dvd,sectors=100")
    cap = drive.submit(bytes([0x25] + [0] * 9), None, 8).data
    assert struct.unpack(">II", cap) == (99, 2048)
    assert drive.submit(read10(5, 2), None, 4096).data == pattern_sector(5) + pattern_sector(6)
    assert drive.submit(read12(99, 1), None, 2048).data == pattern_sector(99)
    assert sense_of(drive.submit(read10(99, 2), None, 4096)) == (5, 0x21, 0)


def test_read_from_image_file(tmp_path) -> None:  # noqa: ANN001
    image = tmp_path / "disc.iso"
    image.write_bytes(bytes(range(256)) * 8 * 3 + b"tail")
    drive = ready(f"generic-cd,disc={image}")
    cap = drive.submit(bytes([0x25] + [0] * 9), None, 8).data
    assert struct.unpack(">I", cap[:4])[0] == 3  # four sectors, the last padded
    last = drive.submit(read10(3, 1), None, SECTOR).data
    assert last == b"tail".ljust(SECTOR, b"\0")


def test_unreadable_sector_reports_lba_and_delivers_prefix() -> None:
    drive = ready("generic-dvd,bad=1000-1099;5000")
    reply = drive.submit(read10(995, 10), None, 10 * SECTOR)
    assert sense_of(reply) == (3, 0x11, 0x00)
    assert info_field(reply) == 1000
    assert reply.data == b"".join(pattern_sector(n) for n in range(995, 1000))
    assert info_field(drive.submit(read12(4990, 20), None, 20 * SECTOR)) == 5000
    assert drive.submit(read10(1100, 1), None, SECTOR).status == GOOD


def test_slow_range_costs_model_time() -> None:
    drive = ready("generic-dvd,slow=200-210:7.5;300,speed=0")
    assert drive.submit(read10(190, 20), None, 20 * SECTOR).busy_seconds == 7.5
    assert drive.submit(read10(300, 1), None, SECTOR).busy_seconds == 2.0
    assert drive.submit(read10(0, 1), None, SECTOR).busy_seconds == 0.0


def _read_rate(spec: str, lba: int, count: int = 32) -> float:
    """Bytes per model second of one READ(10)."""
    reply = ready(spec).submit(read10(lba, count), None, count * SECTOR)
    return count * SECTOR / reply.busy_seconds


def test_reads_take_cav_time_rising_from_hub_to_rim() -> None:
    one_x_dvd = 1_385_000
    hub, rim = _read_rate("generic-dvd", 0), _read_rate("generic-dvd", 8192 - 32)
    assert 0.40 < hub / (16 * one_x_dvd) < 0.46  # 25 mm of 58 mm
    assert 0.99 < rim / (16 * one_x_dvd) <= 1.0
    middle = _read_rate("generic-dvd", 4096)
    assert hub < middle < rim
    cd_rim = _read_rate("generic-cd,speed=24", 8192 - 32)
    assert 0.99 < cd_rim / (24 * 75 * SECTOR) <= 1.0


@pytest.mark.parametrize("speed", ["-1", "fast", "101"])
def test_speed_outside_0_to_100x_is_refused(speed: str) -> None:
    with pytest.raises(ValueError, match="speed="):
        ready(f"generic-dvd,speed={speed}")


def test_read_cd_user_data_and_c2_pointers() -> None:
    drive = ready("generic-cd,bad=11")
    plain = drive.submit(read_cd(10, 1, 0x10), None, SECTOR)
    assert plain.data == pattern_sector(10)
    assert info_field(drive.submit(read_cd(10, 2, 0x10), None, 2 * SECTOR)) == 11
    with_c2 = drive.submit(read_cd(10, 2, 0x12), None, 2 * (SECTOR + 294))
    assert with_c2.status == GOOD and len(with_c2.data) == 2 * (SECTOR + 294)
    first, second = with_c2.data[: SECTOR + 294], with_c2.data[SECTOR + 294 :]
    assert first[SECTOR:] == bytes(294)
    assert second[SECTOR:] == b"\xff" * 294
    block = drive.submit(read_cd(11, 1, 0x14), None, SECTOR + 296).data
    assert len(block) == SECTOR + 296 and block[SECTOR + 294] == 0xFF
    assert sense_of(drive.submit(read_cd(10, 1, 0xF8), None, 2352)) == (5, 0x24, 0)
    assert sense_of(drive.submit(read_cd(10, 1, 0x10, sector_type=1), None, 2352)) == (
        5,
        0x64,
        0,
    )


def test_read_cd_refused_on_dvd() -> None:
    assert sense_of(ready().submit(read_cd(0, 1, 0x10), None, SECTOR)) == (5, 0x64, 0)


@pytest.mark.parametrize("msf", [False, True])
def test_read_toc_format_0(msf: bool) -> None:
    drive = ready("generic-cd,sectors=1000")
    cdb = bytes([0x43, 0x02 if msf else 0, 0, 0, 0, 0, 0, 0, 100, 0])
    data = drive.submit(cdb, None, 100).data
    assert struct.unpack(">H", data[:2])[0] == len(data) - 2 == 18
    assert data[2:4] == b"\x01\x01"
    track, leadout = data[4:12], data[12:20]
    assert track[2] == 1 and track[1] == 0x14 and leadout[2] == 0xAA
    if msf:
        assert track[4:] == bytes([0, 0, 2, 0]) and leadout[4:] == bytes([0, 0, 15, 25])
    else:
        assert struct.unpack(">I", leadout[4:])[0] == 1000


def test_read_toc_session_info_and_bad_format() -> None:
    drive = ready("generic-cd")
    data = drive.submit(bytes([0x43, 0, 1, 0, 0, 0, 0, 0, 12, 0]), None, 12).data
    assert data == bytes([0, 10, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0])
    assert sense_of(drive.submit(bytes([0x43, 0, 5, 0, 0, 0, 0, 0, 12, 0]), None, 12)) == (
        5,
        0x24,
        0,
    )


def test_request_sense_descriptor_format_refused() -> None:
    assert sense_of(ready().submit(bytes([0x03, 1, 0, 0, 18, 0]), None, 18)) == (5, 0x24, 0)


def test_weak_sector_flags_some_c2_bytes_and_plain_reads_still_work() -> None:
    drive = ready("generic-cd,c2=20")
    weak = drive.submit(read_cd(20, 1, 0x14), None, SECTOR + 296).data
    assert weak[:SECTOR] == pattern_sector(20)
    flagged = drive.disc.c2_errors(20)  # type: ignore[union-attr]
    assert 0 < flagged < 2352
    bits = int.from_bytes(weak[SECTOR : SECTOR + 294], "big")
    assert bits.bit_count() == flagged and bits >> (2352 - flagged) == (1 << flagged) - 1
    assert weak[SECTOR + 294] == 0xFF  # the block error byte says the block had C2 errors
    assert drive.submit(read10(20, 1), None, SECTOR).data == pattern_sector(20)
    clean = drive.submit(read_cd(21, 1, 0x14), None, SECTOR + 296).data
    assert clean[SECTOR:] == bytes(296)


def test_drive_without_c2_pointers_says_so_and_refuses_the_error_field() -> None:
    drive = ready("generic-cd")
    drive.c2_pointers = False
    assert sense_of(drive.submit(read_cd(0, 1, 0x12), None, SECTOR + 294)) == (5, 0x24, 0)
    assert drive.submit(read_cd(0, 1, 0x10), None, SECTOR).data == pattern_sector(0)
    cd_read = next(f for code, _, f in drive.features() if code == 0x001E)
    assert cd_read[4] & 0x02 == 0
