"""Fixed-format sense data as a device builds it, and the conditions models raise.

A model handler signals a failed command by raising ``CheckCondition``; the
dispatcher turns it into CHECK CONDITION with 18 bytes of fixed-format (70h)
sense, the layout SPC-4 clause 4.5.3 gives: byte 2 sense key, bytes 3-6 the
INFORMATION field (valid bit 7 of byte 0), byte 7 additional length 10,
bytes 12/13 ASC/ASCQ. Triples are named here once so models read like the
sense table in docs/protocols.md.
"""

from __future__ import annotations

from collections import namedtuple

FIXED_SENSE_LEN = 18


# collections' namedtuple, not typing's NamedTuple: the emulator loads no typing at run time
# (docs/architecture.md, "Start-up")
class Sense(namedtuple("Sense", ("key", "asc", "ascq"))):
    """A sense key with its ASC and ASCQ, three ints."""

    __slots__ = ()

    def __str__(self) -> str:
        return f"{self.key:X}/{self.asc:02X}/{self.ascq:02X}"


NO_SENSE = Sense(0x0, 0x00, 0x00)
NOT_READY_CAUSE_UNKNOWN = Sense(0x2, 0x04, 0x00)
BECOMING_READY = Sense(0x2, 0x04, 0x01)
OPERATION_IN_PROGRESS = Sense(0x2, 0x04, 0x07)
NO_MEDIUM_TRAY_CLOSED = Sense(0x2, 0x3A, 0x01)
NO_MEDIUM_TRAY_OPEN = Sense(0x2, 0x3A, 0x02)
UNRECOVERED_READ_ERROR = Sense(0x3, 0x11, 0x00)
INTERNAL_TARGET_FAILURE = Sense(0x4, 0x44, 0x00)
INVALID_OPCODE = Sense(0x5, 0x20, 0x00)
LBA_OUT_OF_RANGE = Sense(0x5, 0x21, 0x00)
INVALID_FIELD_IN_CDB = Sense(0x5, 0x24, 0x00)
INVALID_FIELD_IN_PARAMETERS = Sense(0x5, 0x26, 0x00)
COMMAND_SEQUENCE_ERROR = Sense(0x5, 0x2C, 0x00)
SAVING_NOT_SUPPORTED = Sense(0x5, 0x39, 0x00)
REMOVAL_PREVENTED = Sense(0x5, 0x53, 0x02)
ILLEGAL_MODE_FOR_TRACK = Sense(0x5, 0x64, 0x00)
MEDIUM_MAY_HAVE_CHANGED = Sense(0x6, 0x28, 0x00)
POWER_ON_RESET = Sense(0x6, 0x29, 0x00)
MICROCODE_CHANGED = Sense(0x6, 0x3F, 0x01)


class CheckCondition(Exception):
    """Raised inside a model: the command ends with CHECK CONDITION and this sense.

    ``data`` is what was transferred before the failure (a read that stops at
    a bad sector still delivers the good sectors before it).
    """

    def __init__(self, sense: Sense, information: int | None = None, data: bytes = b"") -> None:
        super().__init__(str(sense))
        self.sense = sense
        self.information = information
        self.data = data


def fixed_sense(sense: Sense, information: int | None = None) -> bytes:
    """18 bytes of response code 70h (current error) sense."""
    out = bytearray(FIXED_SENSE_LEN)
    out[0] = 0x70 | (0x80 if information is not None else 0)
    out[2] = sense.key
    if information is not None:
        out[3:7] = (information & 0xFFFFFFFF).to_bytes(4, "big")
    out[7] = FIXED_SENSE_LEN - 8
    out[12] = sense.asc
    out[13] = sense.ascq
    return bytes(out)


def parse_triple(text: str) -> Sense:
    """``"3/11/00"`` (hex fields) -> Sense; ValueError on anything else."""
    parts = text.split("/")
    try:
        key, asc, ascq = (int(p, 16) for p in parts)
    except ValueError:
        raise ValueError(f"sense {text!r}: want KEY/ASC/ASCQ in hex, e.g. 3/11/00") from None
    if not (0 <= key <= 0xF and 0 <= asc <= 0xFF and 0 <= ascq <= 0xFF):
        raise ValueError(f"sense triple {text!r} out of range (key 0-F, ASC/ASCQ 00-FF)")
    return Sense(key, asc, ascq)
