"""MT1939, Plextor, Pioneer, TSST and MT1959 layouts: detection, identity, checksums."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_firmware_builders import MIB, filler, mt1939_image, pioneer_part, plextor_image

from rescue.errors import BadInput, UsageError
from rescue.firmware import load_firmware, validate_for_family


def write(tmp_path: Path, data: bytes, name: str = "fw.bin") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_mt1939_valid(tmp_path: Path) -> None:
    data = mt1939_image()
    fw = load_firmware(write(tmp_path, data))
    assert fw.family == "mt1939"
    assert (fw.identity.vendor, fw.identity.product, fw.identity.revision) == (
        "TSSTcorp",
        "BDDVDW SE-506CB",
        "TS01",
    )
    assert fw.identity.date is None
    expected = int.from_bytes(data[0x1FFFFE:], "big")
    assert fw.checksum.value == expected == sum(data[0x10000:0x1E2000]) & 0xFFFF
    assert fw.checksum.stored_at == 0x1FFFFE
    assert fw.checksum.valid is True and fw.usable


def test_mt1939_checksum_ignores_bootloader_and_tail(tmp_path: Path) -> None:
    data = bytearray(mt1939_image())
    data[0x100] ^= 0xFF  # bootloader area: outside the summed range
    data[0x1E2000] ^= 0xFF  # past the summed range
    assert load_firmware(write(tmp_path, bytes(data))).checksum.valid is True


@pytest.mark.parametrize("offset", [0x10000, 0x123456, 0x1E1FFF, 0x1FFFFF])
def test_mt1939_bad_checksum(tmp_path: Path, offset: int) -> None:
    data = bytearray(mt1939_image())
    data[offset] = (data[offset] + 1) & 0xFF
    fw = load_firmware(write(tmp_path, bytes(data)))
    assert fw.checksum.valid is False
    assert any(p.startswith("checksum mismatch") for p in fw.problems)
    assert validate_for_family(fw, "mt1939") == fw.problems != []


@pytest.mark.parametrize(
    "product,size,sum_at,initial",
    [
        ("DVDR   PX-716A ", 0xF0000, 0xEFFFE, 0),
        ("DVDR   PX-760A ", 0x1F0000, 0x1EFFFE, 0),
        ("CD-R   PREMIUM2", 0xF0000, 0xEFFFE, 0),
        ("CD-R   PREMIUM ", 0x80000, 0x7C7FE, 0x8000),
        ("CD-R   PX-W4824A", 0x80000, 0x79FFE, 0x8000),
    ],
)
def test_plextor_checksums(
    tmp_path: Path, product: str, size: int, sum_at: int, initial: int
) -> None:
    data = plextor_image(product, size, sum_at, initial)
    fw = load_firmware(write(tmp_path, data))
    assert fw.family == "plextor"
    assert (fw.identity.vendor, fw.identity.product) == ("PLEXTOR", product.strip())
    assert fw.checksum.stored_at == sum_at
    assert fw.checksum.valid is True and fw.usable
    broken = bytearray(data)
    broken[sum_at - 1] ^= 0x01
    assert load_firmware(write(tmp_path, bytes(broken))).checksum.valid is False


def test_plextor_initial_value_matters(tmp_path: Path) -> None:
    """A PREMIUM image summed from 0 (the wrong start) must fail the check."""
    fw = load_firmware(write(tmp_path, plextor_image("CD-R   PREMIUM ", 0x80000, 0x7C7FE, 0)))
    assert fw.checksum.valid is False and not fw.usable


def test_plextor_wrong_size_and_unknown_model(tmp_path: Path) -> None:
    short = plextor_image("DVDR   PX-716A ", 0xF0000 - 0x1000, 0xEFFFE - 0x2000)
    fw = load_firmware(write(tmp_path, short))
    assert any("size" in p for p in fw.problems)
    unknown = load_firmware(write(tmp_path, plextor_image("DVDR   PX-999Z ")))
    assert unknown.checksum.algorithm is None
    assert any("not in QPxTool's table" in p for p in unknown.problems)


@pytest.mark.parametrize(
    "part,generation,size,ok",
    [
        ("Kernel", "0008", 0x10000, True),
        ("Kernel", "0009", 0x20000, True),
        ("Kernel", "0008", 0x20000, False),  # DVRFlash: Kernel file size mismatch
        ("Kernel", "0009", 0x18000, False),
        ("Normal", "0008", MIB, True),
        ("Normal", "0009", 0x128000, True),
        ("Normal", "0009", MIB, False),  # a DVR-109 Normal part is at least 0x128000
        ("Normal", "0008", 0x128000, False),  # a DVR-108 Normal part is exactly 1 MiB
        ("Normal", "0009", 0x200001, False),  # DVRFlash reads at most 2 MiB
    ],
)
def test_pioneer_parts(tmp_path: Path, part: str, generation: str, size: int, ok: bool) -> None:
    fw = load_firmware(write(tmp_path, pioneer_part(part, size, generation=generation)))
    assert fw.family == "pioneer"
    assert fw.identity.extra == {
        "part": part,
        "generation": str(int(generation)),
        "kernel_type": "GENERAL",
    }
    assert (fw.identity.vendor, fw.identity.product) == ("PIONEER", "DVD-RW  DVR-108")
    assert fw.checksum.algorithm is None and fw.checksum.valid is None
    assert fw.usable is ok


def test_pioneer_part_without_generation_digits_is_unusable(tmp_path: Path) -> None:
    data = bytearray(pioneer_part())
    data[0xB4:0xB8] = b"GEN8"  # DVRFlash's atoi reads 0: no drive has that generation
    fw = load_firmware(write(tmp_path, bytes(data)))
    assert not fw.usable and any("no generation digits" in p for p in fw.problems)


def test_pioneer_one_mib_normal_is_not_btc(tmp_path: Path) -> None:
    fw = load_firmware(write(tmp_path, pioneer_part("Normal", MIB)))
    assert fw.family == "pioneer"
    assert validate_for_family(fw, "btc")[0].startswith("image is a pioneer image")


@pytest.mark.parametrize("size", [0x20000, 0x40000])
def test_tsst_by_size_with_unknowns_said(tmp_path: Path, size: int) -> None:
    fw = load_firmware(write(tmp_path, bytes(filler(size))))
    assert fw.family == "tsst" and fw.usable
    assert fw.identity.vendor is None and fw.checksum.algorithm is None
    assert any("not in a documented place" in n for n in fw.notes)


def test_mt1959_without_configuration_id_only_when_named(tmp_path: Path) -> None:
    path = write(tmp_path, bytes(filler(0x180000)))
    with pytest.raises(BadInput, match="no known firmware signature"):
        load_firmware(path)
    fw = load_firmware(path, family="mt1959")
    assert fw.family == "mt1959" and not fw.usable  # more in test_firmware_mt1959.py
    assert any("no configuration id at 0x3000" in p for p in fw.problems)
    tiny = load_firmware(write(tmp_path, bytes(filler(0x8000)), "tiny.bin"), family="mt1959")
    assert not tiny.usable


def test_forced_family_reports_mismatch(tmp_path: Path) -> None:
    fw = load_firmware(write(tmp_path, mt1939_image()), family="btc")
    assert fw.family == "btc"
    assert fw.problems[0] == "content does not match the btc layout (size or signature)"
    with pytest.raises(UsageError, match="unknown firmware family"):
        load_firmware(write(tmp_path, mt1939_image()), family="zip")
