"""BTC MT1x08 images: .bin and .HEX reading, identity, checksum, banks, malformed files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from test_firmware_builders import (
    MIB,
    btc_hex_lines,
    btc_image,
    hex_line,
    sparse_btc_image,
    to_text,
)

from rescue.errors import BadInput, ExitCode, PermissionDenied, UsageError
from rescue.firmware import load_firmware, validate_for_family


@pytest.fixture(scope="module")
def image() -> bytes:
    return btc_image()


@pytest.fixture(scope="module")
def hex_lines(image: bytes) -> list[str]:
    return btc_hex_lines(image)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_valid_bin_reports_identity_checksum_and_digest(tmp_path: Path, image: bytes) -> None:
    fw = load_firmware(write(tmp_path, "V0050.bin", image))
    assert (fw.family, fw.format, fw.size) == ("btc", "bin", MIB)
    assert fw.identity.vendor == "BTC"
    assert fw.identity.product == "DVDRW IDE1004"
    assert fw.identity.revision == "0050"
    assert fw.identity.date == "2005/03/14 10:00"
    assert fw.checksum.value == sum(image) & 0xFFFF
    assert fw.checksum.expected is None and fw.checksum.valid is None
    assert fw.sha256 == hashlib.sha256(image).hexdigest()
    assert fw.problems == [] and fw.usable
    assert validate_for_family(fw, "btc") == []


def test_hex_rendering_decodes_to_the_same_image(
    tmp_path: Path, image: bytes, hex_lines: list[str]
) -> None:
    from_hex = load_firmware(write(tmp_path, "V0050.HEX", to_text(hex_lines)))
    assert from_hex.format == "hex"
    assert from_hex.data == image
    assert from_hex.sha256 == hashlib.sha256(image).hexdigest()
    assert from_hex.identity.revision == "0050"


def test_hex_leaves_unwritten_bytes_ff(tmp_path: Path) -> None:
    sparse = sparse_btc_image()
    fw = load_firmware(write(tmp_path, "s.hex", to_text(btc_hex_lines(sparse))))
    assert fw.data == sparse
    assert fw.data[0x20:0x40] == b"\xff" * 0x20
    # Sparse image has no INQUIRY block: parsed, but not fit to flash.
    assert any("INQUIRY block" in p for p in fw.problems) and not fw.usable


def test_inquiry_block_found_by_pattern_elsewhere(tmp_path: Path) -> None:
    fw = load_firmware(write(tmp_path, "moved.bin", btc_image(revision="0151", block_at=0x5000)))
    assert fw.identity.revision == "0151"
    assert any("0x5000" in n for n in fw.notes)


def test_block_before_0x4000_is_not_identity(tmp_path: Path) -> None:
    fw = load_firmware(write(tmp_path, "early.bin", btc_image(block_at=0x3000)))
    assert fw.identity.vendor is None
    assert not fw.usable


def test_unprintable_identity_is_a_problem(tmp_path: Path, image: bytes) -> None:
    data = bytearray(image)
    data[0x40D4] = 0x01
    fw = load_firmware(write(tmp_path, "bad-id.bin", bytes(data)))
    assert fw.identity.revision is None
    assert any("revision field" in p and "0x40D4" in p for p in fw.problems)


@pytest.mark.parametrize("bank,byte", [(0, 0xFF), (5, 0x00), (15, 0x75)])
def test_bank_head_must_be_ljmp_or_0x80(tmp_path: Path, image: bytes, bank: int, byte: int) -> None:
    data = bytearray(image)
    data[bank * 0x10000] = byte
    fw = load_firmware(write(tmp_path, "bank.bin", bytes(data)))
    assert [p for p in fw.problems if p.startswith("bank")] == [
        f"bank {bank} (0x{bank * 0x10000:06X}) starts with 0x{byte:02X}, "
        "not 0x02 or 0x80: missing or corrupt bank"
    ]
    assert validate_for_family(fw, "btc") == fw.problems


def test_validate_for_other_family_names_the_mismatch(tmp_path: Path, image: bytes) -> None:
    fw = load_firmware(write(tmp_path, "V0050.bin", image))
    reasons = validate_for_family(fw, "mt1939")
    assert reasons[0] == "image is a btc image, the drive needs a mt1939 image"
    assert any("2 MiB" in r for r in reasons[1:])
    with pytest.raises(UsageError):
        validate_for_family(fw, "nosuch")


def _expect_bad(path: Path, *fragments: str) -> BadInput:
    with pytest.raises(BadInput) as info:
        load_firmware(path)
    message = info.value.message
    assert str(path) in message and "\n" not in message
    for fragment in fragments:
        assert fragment in message
    assert info.value.exit_code == ExitCode.BAD_INPUT
    return info.value


def _edited(lines: list[str], index: int, new: str | None) -> list[str]:
    out = list(lines)
    if new is None:
        del out[index]
    else:
        out[index] = new
    return out


def test_bad_record_checksum_names_the_line(tmp_path: Path, hex_lines: list[str]) -> None:
    line = hex_lines[10]
    broken = line[:-2] + f"{(int(line[-2:], 16) + 1) & 0xFF:02X}"
    _expect_bad(
        write(tmp_path, "a.hex", to_text(_edited(hex_lines, 10, broken))), "line 11", "checksum"
    )


def test_fifteen_banks_refused(tmp_path: Path, hex_lines: list[str]) -> None:
    index = hex_lines.index(":00000155AA")
    path = write(tmp_path, "b.hex", to_text(_edited(hex_lines, index, None)))
    _expect_bad(path, "14 bank separators", "16 banks")


def test_seventeen_banks_refused(tmp_path: Path, hex_lines: list[str]) -> None:
    lines = hex_lines[:-1] + [":00000155AA", hex_line(0, 0, b"\x02\x00"), hex_lines[-1]]
    _expect_bad(write(tmp_path, "c.hex", to_text(lines)), f"line {len(hex_lines)}", "more than 15")


def test_missing_end_record_is_truncation(tmp_path: Path, hex_lines: list[str]) -> None:
    _expect_bad(write(tmp_path, "d.hex", to_text(hex_lines[:-1])), "truncated")


def test_file_cut_mid_line(tmp_path: Path, hex_lines: list[str]) -> None:
    text = to_text(hex_lines)
    newline = text.index(b"\n", len(text) // 2)
    cut = text[: newline + 8]  # seven characters into the next record
    number = cut.count(b"\n") + 1
    _expect_bad(write(tmp_path, "e.hex", cut), f"line {number}", "too short")


@pytest.mark.parametrize(
    "record,fragment",
    [
        (":0000000000", "malformed zero-length record"),
        (":00000255A9", "malformed zero-length record (type 0x55)"),
        (":00000101FE", "malformed zero-length record (type 0x01)"),
        (":020000040000FA", "unsupported record type 0x04"),
        (":10FFF80000", "length byte says 16"),
        (":0G00000000", "hex digits"),
        ("00000001FF", "does not start with ':'"),
        (":0000", "too short"),
        (hex_line(0xFFF8, 0, bytes(16)), "runs past the 64 KiB bank"),
    ],
)
def test_malformed_records(
    tmp_path: Path, hex_lines: list[str], record: str, fragment: str
) -> None:
    _expect_bad(
        write(tmp_path, "f.hex", to_text(_edited(hex_lines, 3, record))), "line 4", fragment
    )


def test_text_after_end_record(tmp_path: Path, hex_lines: list[str]) -> None:
    path = write(tmp_path, "g.hex", to_text(hex_lines + [hex_lines[0]]))
    _expect_bad(path, f"line {len(hex_lines) + 1}", "after the end record")


def test_non_ascii_line(tmp_path: Path, hex_lines: list[str]) -> None:
    text = to_text(hex_lines[:5]) + "é\r\n".encode() + to_text(hex_lines[5:])
    _expect_bad(write(tmp_path, "h.hex", text), "line 6", "not ASCII")


def test_wrong_size_bin(tmp_path: Path, image: bytes) -> None:
    _expect_bad(write(tmp_path, "short.bin", image[:-1]), str(MIB - 1), "no known firmware")


def test_garbage_bin(tmp_path: Path) -> None:
    _expect_bad(write(tmp_path, "junk.bin", b"\x00\x17garbage" * 1000), "no known firmware")


def test_empty_file(tmp_path: Path) -> None:
    _expect_bad(write(tmp_path, "empty.bin", b""), "empty")


def test_directory(tmp_path: Path) -> None:
    _expect_bad(tmp_path, "is a directory")


def test_nonexistent(tmp_path: Path) -> None:
    _expect_bad(tmp_path / "nope.bin", "no such file")


def test_path_through_a_file(tmp_path: Path) -> None:
    parent = write(tmp_path, "plain", b"x")
    _expect_bad(parent / "child.bin", "cannot be read")


def test_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "locked.bin", b"x")

    def deny(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("rescue.inputs.os.open", deny)
    with pytest.raises(PermissionDenied, match="permission denied") as info:
        load_firmware(path)
    assert info.value.exit_code == ExitCode.PERMISSION  # README: a path the OS refuses is 4
    assert str(path) in info.value.message and info.value.hint


def test_huge_file_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "disc.iso"
    with path.open("wb") as handle:
        handle.truncate(64 * MIB)
    _expect_bad(path, "larger than 8 MiB")


def test_hex_named_file_gets_hex_errors(tmp_path: Path) -> None:
    """A .HEX file damaged at its very start still gets a line-numbered error."""
    _expect_bad(write(tmp_path, "V0151.HEX", b"\xef\xbb\xbf:00000001FF\n"), "line 1", "not ASCII")
