"""Whatever bytes or text arrive, only ParseError escapes; built buffers round-trip."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sense_corpus import descriptor, fixed

from rescue.errors import ExitCode, ParseError
from rescue.scsi.sense import Sense, SenseError, decode_sense, parse_triple

# Random bytes rarely start with a sense response code; also try ones that do, so
# the fixed and descriptor paths (lengths, descriptor walking) get garbage too.
SENSE_LIKE = st.builds(
    lambda first, rest: bytes([first]) + rest,
    st.sampled_from([0x70, 0x71, 0x72, 0x73, 0xF0, 0xF1, 0xF2, 0xF3]),
    st.binary(max_size=64),
)
# Descriptor-format buffers built from descriptors whose length bytes may lie, and
# whose additional length may lie: this is where a decoder indexes past the end.
_DESCRIPTOR = st.builds(
    lambda dtype, body, length: bytes([dtype, len(body) if length is None else length]) + body,
    st.sampled_from([0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x80]) | st.integers(0, 255),
    st.binary(max_size=14),
    st.none() | st.integers(0, 255),
)
DESCRIPTOR_LIKE = st.builds(
    lambda code, head, descriptors, length: bytes([code]) + head
    + bytes([len(b"".join(descriptors)) if length is None else length]) + b"".join(descriptors),
    st.sampled_from([0x72, 0x73]),
    st.binary(min_size=6, max_size=6),
    st.lists(_DESCRIPTOR, max_size=4),
    st.none() | st.integers(0, 255),
)
ANY_BYTES = st.binary(max_size=300) | SENSE_LIKE | DESCRIPTOR_LIKE

HEXISH = st.text(alphabet="0123456789abcdefABCDEFxXhH /,_-+\t", max_size=80)


def _decodes_or_parse_error(raw: bytes) -> Sense | None:
    try:
        sense = decode_sense(raw)
    except ParseError as err:
        assert err.message and "\n" not in err.message
        return None
    assert 0 <= sense.key <= 0xF and 0 <= sense.asc <= 0xFF and 0 <= sense.ascq <= 0xFF
    assert sense.key_name and sense.asc_name
    sense.to_dict()  # every property is computable
    return sense


@given(ANY_BYTES)
def test_decode_sense_only_raises_parse_error(raw: bytes) -> None:
    _decodes_or_parse_error(raw)


@given(st.text(max_size=80) | HEXISH)
def test_parse_triple_only_raises_parse_error(text: str) -> None:
    try:
        sense = parse_triple(text)
    except ParseError as err:
        assert err.message and "\n" not in err.message
        return
    assert sense.key_name and sense.asc_name


@given(ANY_BYTES, st.text(min_size=1, max_size=20))
def test_sense_error_never_fails_to_build(raw: bytes, command: str) -> None:
    err = SenseError.from_sense(raw, command)
    assert err.message.startswith(command)
    assert isinstance(err.exit_code, ExitCode)
    assert (err.sense is None) == (_decodes_or_parse_error(raw) is None)


FIELDS = st.tuples(
    st.integers(0, 15), st.integers(0, 255), st.integers(0, 255), st.booleans(),
    st.none() | st.integers(0, (1 << 32) - 1),
)


@given(FIELDS)
def test_fixed_round_trip(fields: tuple[int, int, int, bool, int | None]) -> None:
    key, asc, ascq, deferred, info = fields
    sense = decode_sense(fixed(key, asc, ascq, deferred=deferred, information=info))
    assert (sense.key, sense.asc, sense.ascq, sense.deferred, sense.information) == fields


@given(FIELDS)
def test_descriptor_round_trip(fields: tuple[int, int, int, bool, int | None]) -> None:
    key, asc, ascq, deferred, info = fields
    sense = decode_sense(descriptor(key, asc, ascq, deferred=deferred, information=info))
    assert (sense.key, sense.asc, sense.ascq, sense.deferred, sense.information) == fields


@given(st.integers(0, 15), st.integers(0, 255), st.integers(0, 255))
def test_triple_text_round_trip(key: int, asc: int, ascq: int) -> None:
    sense = parse_triple(f"{key:X}/{asc:02X}/{ascq:02X}")
    assert sense.triple == f"{key:X}/{asc:02X}/{ascq:02X}"
    assert parse_triple(f"0x{key:02x} 0x{asc:02x} 0x{ascq:02x}") == sense
