"""Whatever bytes arrive as a CDB, a model answers with a Reply and never raises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rescue.emulator.base import BUSY, CHECK_CONDITION, GOOD, Reply
from rescue.emulator.registry import create

KNOWN_OPCODES = [
    0x00,
    0x03,
    0x12,
    0x1B,
    0x1E,
    0x25,
    0x28,
    0x3B,
    0x3C,
    0x43,
    0x46,
    0x4A,
    0x5A,
    0xA8,
    0xBE,
]
cdbs = st.one_of(
    st.binary(min_size=0, max_size=16),
    st.tuples(st.sampled_from(KNOWN_OPCODES), st.binary(min_size=0, max_size=15)).map(
        lambda t: bytes([t[0]]) + t[1]
    ),
)


def well_formed(reply: Reply) -> None:
    assert reply.status in (GOOD, CHECK_CONDITION, BUSY)
    if reply.status == CHECK_CONDITION:
        assert len(reply.sense) == 18 and reply.sense[0] & 0x7F == 0x70


@settings(max_examples=300, deadline=None)
@given(commands=st.lists(st.tuples(cdbs, st.none() | st.binary(max_size=64)), max_size=6))
def test_generic_model_survives_any_cdb(commands: list[tuple[bytes, bytes | None]]) -> None:
    drive = create("generic-cd,sectors=64,bad=3-5")
    for cdb, data in commands:
        well_formed(drive.submit(cdb, data, 4096))


@settings(max_examples=300, deadline=None)
@given(commands=st.lists(st.tuples(cdbs, st.none() | st.binary(max_size=64)), max_size=6))
def test_btc_model_survives_any_cdb(commands: list[tuple[bytes, bytes | None]]) -> None:
    drive = create("btc-drw1004im,sectors=64")
    for cdb, data in commands:
        well_formed(drive.submit(cdb, data, 4096))
