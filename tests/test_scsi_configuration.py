"""GET CONFIGURATION answers laid out by hand from MMC-6 5.2-5.3."""

import pytest

from rescue.errors import ParseError
from rescue.scsi.configuration import (
    FEATURES,
    PROFILES,
    feature_name,
    parse_configuration,
    profile_name,
)


def feature(code: int, data: bytes, flags: int = 0x03) -> bytes:
    return code.to_bytes(2, "big") + bytes([flags, len(data)]) + data


def answer(current: int, *features: bytes, extra_length: int = 0) -> bytes:
    body = b"".join(features)
    return (
        (len(body) + 4 + extra_length).to_bytes(4, "big")
        + b"\0\0"
        + current.to_bytes(2, "big")
        + body
    )


def profile(number: int, current: bool = False) -> bytes:
    return number.to_bytes(2, "big") + bytes([1 if current else 0, 0])


BD_WRITER = answer(
    0x0040,
    feature(0x0000, profile(0x0043) + profile(0x0041) + profile(0x0040, True) + profile(0x0008)),
    feature(0x0001, bytes.fromhex("00000002 01000000"), flags=0x0B),
    feature(0x0104, bytes([0x01, 0, 0, 0]), flags=0x07),
    feature(0x010C, b"20151104123045" + b"\0\0", flags=0x01),
    feature(0x0108, b"KZ8F1234" + b"    "),
    feature(0xFF10, b"\x12\x34\x56\x78"),
)


def test_bd_writer_configuration() -> None:
    conf = parse_configuration(BD_WRITER)
    assert conf.current_profile == 0x40 and conf.current_profile_name == "BD-ROM"
    assert not conf.truncated
    assert [p.name for p in conf.profiles] == [
        "BD-RE",
        "BD-R sequential recording (SRM)",
        "BD-ROM",
        "CD-ROM",
    ]
    assert [p.current for p in conf.profiles] == [False, False, True, False]
    core = conf.feature(0x0001)
    assert core is not None and core.version == 2 and core.persistent and core.current
    upgrade = conf.feature(0x0104)
    assert upgrade is not None and upgrade.m5 is True and upgrade.name == "Microcode Upgrade"
    info = conf.feature(0x010C)
    assert info is not None and info.firmware_date is not None
    date = info.firmware_date
    assert date.text == "20151104123045"
    assert (date.year, date.month, date.day, date.hour, date.minute, date.second) == (
        2015,
        11,
        4,
        12,
        30,
        45,
    )
    serial = conf.feature(0x0108)
    assert serial is not None and serial.serial == "KZ8F1234"
    vendor = conf.feature(0xFF10)
    assert vendor is not None and vendor.name == "vendor feature FF10h"
    assert vendor.data == b"\x12\x34\x56\x78"
    assert conf.feature(0x0040) is None
    assert not conf.reads_bd and not conf.writes_bd
    as_dict = conf.to_dict()
    assert as_dict["features"][2]["m5"] is True
    assert as_dict["features"][3]["firmware_date"]["year"] == 2015


def test_m5_clear_and_undated_firmware() -> None:
    conf = parse_configuration(
        answer(0, feature(0x0104, bytes(4)), feature(0x010C, b"2015??04123045\0\0"))
    )
    assert conf.feature(0x0104).m5 is False
    date = conf.feature(0x010C).firmware_date
    assert date.text == "2015??04123045" and date.year is None


def test_allocation_truncation_keeps_whole_descriptors() -> None:
    cut = BD_WRITER[: 8 + 4 + 16 + 4 + 8 + 3]  # profile list, core, 3 bytes of the next
    conf = parse_configuration(cut)
    assert conf.truncated
    assert [f.code for f in conf.features] == [0x0000, 0x0001]


def test_header_only_answer_gives_the_current_profile() -> None:
    conf = parse_configuration(BD_WRITER[:8])
    assert conf.current_profile == 0x40 and conf.truncated and conf.features == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\0\0\0\x04\0\0", "too short"),
        (b"\0\0\0\x02\0\0\0\x08", "shorter than the header"),
        # the descriptor claims 8 bytes, the drive's own data length holds 4
        (answer(0, feature(0x0001, bytes(4)))[:11] + b"\x08" + bytes(4), "cut short"),
        (answer(0, feature(0x0000, b"\0\x08\0")), "not 4-byte aligned"),
        (answer(0, feature(0x0104, b"")), "feature 0104h"),
        (answer(0, feature(0x010C, b"2015")), "feature 010Ch"),
        (answer(0, b"\0\x01"), "stray bytes"),
    ],
)
def test_inconsistent_answers(raw: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_configuration(raw)


MMC_MEDIA_PROFILES = {0x08, 0x09, 0x0A, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18}
MMC_MEDIA_PROFILES |= {0x1A, 0x1B, 0x2A, 0x2B, 0x40, 0x41, 0x42, 0x43, 0x50, 0x51, 0x52, 0x53}
COMMON_FEATURES = {0x0000, 0x0001, 0x0003, 0x001E, 0x001F, 0x002D, 0x002E, 0x0040, 0x0041}
COMMON_FEATURES |= {0x0100, 0x0104, 0x0107, 0x0108, 0x010C, 0x010D}


def test_every_mmc_profile_and_common_feature_is_named() -> None:
    assert MMC_MEDIA_PROFILES <= PROFILES.keys()
    assert COMMON_FEATURES <= FEATURES.keys()
    assert profile_name(0x0099) == "unknown profile 0099h"
    assert feature_name(0x0999) == "unknown feature 0999h"


def test_bd_support_comes_from_features_0040_and_0041() -> None:
    reader = parse_configuration(answer(0, feature(0x0040, bytes(4), flags=0x04)))
    assert reader.reads_bd and not reader.writes_bd
    writer = parse_configuration(answer(0, feature(0x0040, b""), feature(0x0041, b"")))
    assert writer.reads_bd and writer.writes_bd
