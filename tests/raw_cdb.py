"""Hand-built CDBs and sense checks for device-side tests.

The emulator tests must not use the host's builders in rescue.scsi (the two
sides are independent implementations), so the few CDBs they need are
written out here once, byte by byte, from SPC-4.
"""

from __future__ import annotations

from typing import TypeVar

from rescue.emulator.base import CHECK_CONDITION, GOOD, Device, Reply
from rescue.emulator.registry import create

D = TypeVar("D")

TUR = bytes(6)
INQUIRY = bytes([0x12, 0, 0, 0, 96, 0])


def write_buffer(mode: int, offset: int, length: int, buffer_id: int = 0) -> bytes:
    return (
        bytes([0x3B, mode, buffer_id])
        + offset.to_bytes(3, "big")
        + length.to_bytes(3, "big")
        + b"\0"
    )


def sense_of(reply: Reply) -> tuple[int, int, int]:
    """The key/ASC/ASCQ of a CHECK CONDITION, which must carry 18-byte fixed sense."""
    assert reply.status == CHECK_CONDITION, reply
    assert reply.sense[0] & 0x7F == 0x70 and len(reply.sense) == 18, reply.sense.hex()
    return reply.sense[2] & 0x0F, reply.sense[12], reply.sense[13]


def powered_on(spec: str, kind: type[D]) -> D:
    """A fresh model of ``kind`` from ``spec``, its power-on unit attention (6/29/00) consumed."""
    device = create(spec)
    assert isinstance(device, kind), device
    assert sense_of(device.submit(TUR, None, 0)) == (6, 0x29, 0)
    return device


def inquiry_revision(device: Device) -> bytes:
    """The product revision (bytes 32-35) of the model's standard INQUIRY data."""
    reply = device.submit(INQUIRY, None, 96)
    assert reply.status == GOOD
    return reply.data[32:36]
