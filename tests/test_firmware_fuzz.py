"""Property tests: whatever bytes or lines reach the readers, only BadInput escapes."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_firmware_builders import btc_hex_lines, sparse_btc_image, to_text

from rescue.errors import BadInput
from rescue.firmware import load_firmware
from rescue.firmware.btchex import IMAGE_SIZE, parse_btc_hex

VALID_LINES = btc_hex_lines(sparse_btc_image())
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
hex_text = st.text(alphabet="0123456789ABCDEFabcdef:G \t", max_size=60)


def _load_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.bin"
        path.write_bytes(data)
        try:
            fw = load_firmware(path)
        except BadInput as err:
            assert str(path) in err.message and "\n" not in err.message
            return
        assert fw.size == len(fw.data) and len(fw.sha256) == 64


@SETTINGS
@given(st.binary(max_size=4096))
def test_random_bytes_into_hex_reader(data: bytes) -> None:
    try:
        image = parse_btc_hex(data, Path("fuzz.hex"))
    except BadInput:
        return
    assert len(image) == IMAGE_SIZE


@SETTINGS
@given(st.lists(st.one_of(hex_text, st.sampled_from(VALID_LINES)), max_size=40))
def test_random_lines_into_hex_reader(lines: list[str]) -> None:
    try:
        image = parse_btc_hex("\n".join(lines).encode(), Path("fuzz.hex"))
    except BadInput:
        return
    assert len(image) == IMAGE_SIZE


@SETTINGS
@given(
    st.integers(0, len(VALID_LINES) - 1),
    st.integers(0, 60),
    st.sampled_from(list("0123456789ABCDEF:Z ")),
)
def test_one_character_changed_in_a_valid_hex(line: int, column: int, char: str) -> None:
    lines = list(VALID_LINES)
    target = lines[line]
    column %= len(target)
    lines[line] = target[:column] + char + target[column + 1 :]
    _load_bytes(to_text(lines))


@SETTINGS
@given(st.binary(min_size=1, max_size=4096))
def test_random_bytes_into_loader(data: bytes) -> None:
    _load_bytes(data)


@SETTINGS
@given(st.sampled_from([0x10000, 0x20000, 0x40000, 0x100000]), st.binary(max_size=64))
def test_random_prefix_on_family_sized_files(size: int, head: bytes) -> None:
    _load_bytes((head + b"\xa5" * size)[:size])
