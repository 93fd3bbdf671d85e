"""Every parser against arbitrary bytes: the only exception allowed out is ParseError.

Plain random bytes rarely get past the first length check, so each parser is
also fed random bodies behind a header whose length field is consistent,
which drives the fuzzing into the descriptor loops.
"""

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rescue.errors import ParseError
from rescue.scsi.ata import parse_identify
from rescue.scsi.buffer import parse_buffer_descriptor
from rescue.scsi.capacity import parse_read_capacity_10
from rescue.scsi.configuration import parse_configuration
from rescue.scsi.events import parse_event_status
from rescue.scsi.inquiry import parse_inquiry
from rescue.scsi.modepage import (
    ModePage,
    parse_capabilities,
    parse_capabilities_response,
    parse_mode_sense_10,
)
from rescue.scsi.readcd import C2Mode, SubChannel, split_blocks
from rescue.scsi.toc import parse_session_info, parse_toc
from rescue.scsi.vpd import (
    parse_device_identification,
    parse_supported_pages,
    parse_unit_serial,
)

PARSERS: dict[str, Callable[[bytes], object]] = {
    "inquiry": parse_inquiry,
    "vpd00": parse_supported_pages,
    "vpd80": parse_unit_serial,
    "vpd83": parse_device_identification,
    "configuration": parse_configuration,
    "mode_sense_10": parse_mode_sense_10,
    "capabilities": parse_capabilities_response,
    "capabilities_page": lambda d: parse_capabilities(ModePage(0x2A, None, False, d)),
    "capacity": parse_read_capacity_10,
    "toc": parse_toc,
    "toc_msf": lambda d: parse_toc(d, msf=True),
    "session_info": parse_session_info,
    "events": parse_event_status,
    "buffer_descriptor": parse_buffer_descriptor,
    "identify": parse_identify,
    "read_cd_split": lambda d: split_blocks(d, 2352, C2Mode.C2, SubChannel.Q),
}


def only_parse_errors(parser: Callable[[bytes], object], data: bytes) -> None:
    try:
        result = parser(data)
    except ParseError as err:
        assert "\n" not in str(err)
        return
    to_dict = getattr(result, "to_dict", None)
    if to_dict is not None:
        to_dict()
    elif isinstance(result, list):
        for item in result:
            item.to_dict()


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=700))
def test_random_bytes(name: str, data: bytes) -> None:
    only_parse_errors(PARSERS[name], data)


def _with_length(size: int, extra: int, body: bytes) -> bytes:
    """Prefix a ``size``-byte length field that counts ``body``, give or take ``extra``."""
    return max(0, len(body) + extra).to_bytes(size, "big") + body


# (parser, how to put a plausible length header in front of random bytes)
FRAMED: dict[str, tuple[Callable[[bytes], object], Callable[[int, bytes], bytes]]] = {
    "configuration": (
        parse_configuration,
        lambda extra, body: _with_length(4, extra, b"\0\0\0\0" + body),
    ),
    "mode_sense_10": (
        parse_mode_sense_10,
        lambda extra, body: _with_length(2, extra, bytes(6) + body),
    ),
    "toc": (parse_toc, lambda extra, body: _with_length(2, extra, b"\x01\x01" + body)),
    "events": (
        parse_event_status,
        lambda extra, body: _with_length(2, extra, b"\x04\x10" + body),
    ),
    "vpd83": (
        parse_device_identification,
        lambda extra, body: b"\x05\x83" + _with_length(2, extra, body),
    ),
}


@pytest.mark.parametrize("name", sorted(FRAMED))
@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=300), extra=st.integers(-8, 8))
def test_framed_random_bodies(name: str, body: bytes, extra: int) -> None:
    parser, frame = FRAMED[name]
    only_parse_errors(parser, frame(extra, body))
