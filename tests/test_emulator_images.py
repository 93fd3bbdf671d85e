"""Demo BTC images: layout facts the model and the host side rely on."""

from __future__ import annotations

import pytest

from rescue.emulator.images import (
    FLASH_SIZE,
    flash_checksum,
    is_bootable,
    main,
    make_btc_image,
    read_identity,
)


def test_layout() -> None:
    image = make_btc_image("0050")
    assert len(image) == FLASH_SIZE
    assert all(image[b] in (0x02, 0x80) for b in range(0, FLASH_SIZE, 0x10000))
    assert image[0x40B4:0x40BC] == bytes([0x05, 0x80, 0x00, 0x32, 0x5B, 0, 0, 0])
    assert image[0x40BC:0x40D8] == b"BTC     DVDRW IDE1004   0050"
    assert image[0x40D8:0x40E8] == b"2006/02/14 10:00"
    ident = read_identity(image)
    assert ident is not None and (ident.vendor, ident.revision) == ("BTC", "0050")
    assert is_bootable(image)


def test_deterministic_and_distinct_per_revision() -> None:
    a, b = make_btc_image("0050"), make_btc_image("0151")
    assert a == make_btc_image("0050")
    assert a[:0x4000] == b[:0x4000]  # same boot loader
    assert flash_checksum(a) != flash_checksum(b)
    assert flash_checksum(a) == sum(a) % 65536


def test_not_bootable_when_a_bank_is_erased_or_identity_missing() -> None:
    image = bytearray(make_btc_image("0050"))
    image[0x30000] = 0xFF
    assert not is_bootable(bytes(image))
    image = bytearray(make_btc_image("0050"))
    image[0x40B4] = 0
    assert read_identity(bytes(image)) is None and not is_bootable(bytes(image))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"revision": "00500"},
        {"revision": "0050", "vendor": "TOO-LONG-VENDOR"},
        {"revision": "ü050"},
        {"revision": "0050", "product": ""},
    ],
)
def test_bad_fields(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="characters"):
        make_btc_image(**kwargs)


def test_command_line_writes_an_image(tmp_path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "V0151.bin"
    assert main(["btc", "0151", "-o", str(out)]) == 0
    assert out.read_bytes() == make_btc_image("0151")
    assert "0151" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(["btc", "01", "-o", str(out)])
    assert exit_info.value.code == 2
