"""SCSI sense data decoded into a typed, named value, and the error built from it.

Layouts follow SPC-4 clause 4.5 (the T10 facts also used by sg3_utils'
``sg_get_sense_str`` and the kernel's ``scsi_normalize_sense``):

* fixed format, response code 70h (current) / 71h (deferred): byte 0 bit 7
  VALID for the INFORMATION field in bytes 3-6; byte 2 FILEMARK/EOM/ILI in
  bits 7-5 and the sense key in bits 3-0; byte 7 additional length; bytes 8-11
  command-specific information; bytes 12/13 ASC/ASCQ; bytes 15-17 the
  sense-key-specific field (SKSV in bit 7 of byte 15).
* descriptor format, 72h / 73h: key, ASC, ASCQ in bytes 1-3, additional
  length in byte 7, then descriptors ``type, length, body``: 00h information,
  01h command-specific, 02h sense-key specific, 04h stream commands
  (FILEMARK/EOM/ILI), 05h block commands (ILI).

Nothing here does I/O. Only ``ParseError`` escapes the decoders, because the
bytes come from a device (or a user) and must never crash the tool; hosts
often truncate sense to their buffer size, so a descriptor that runs past the
end is dropped rather than rejected, while a header without key/ASC/ASCQ is an
error.
"""

from __future__ import annotations

import re

from rescue.errors import SENSE_KEY_EXIT, ExitCode, ParseError, RescueError
from rescue.record import record

# The T10 name table (its JSON read through pkgutil) and the advice table are imported on
# the first sense that is named, not with the command path: a scan that meets no CHECK
# CONDITION reads without them (issue 15).

FIXED = "fixed"
DESCRIPTOR = "descriptor"
TRIPLE = "triple"  # only key/ASC/ASCQ known (typed by a user, or from a log)

# SPC-4 table 48 (sense key descriptions). 0Ch was EQUAL before SPC-3 made it obsolete.
KEY_NAMES: tuple[str, ...] = (
    "NO SENSE",
    "RECOVERED ERROR",
    "NOT READY",
    "MEDIUM ERROR",
    "HARDWARE ERROR",
    "ILLEGAL REQUEST",
    "UNIT ATTENTION",
    "DATA PROTECT",
    "BLANK CHECK",
    "VENDOR SPECIFIC",
    "COPY ABORTED",
    "ABORTED COMMAND",
    "EQUAL (OBSOLETE)",
    "VOLUME OVERFLOW",
    "MISCOMPARE",
    "COMPLETED",
)

FIXED_MIN = 14  # through ASCQ
DESCRIPTOR_MIN = 8  # the header


# --- sense-key specific field (SPC-4 4.5.2.4): its meaning depends on the key ---


@record(frozen=True)
class FieldPointer:
    """ILLEGAL REQUEST: which byte (and bit) of the CDB or parameter data was wrong."""

    in_cdb: bool
    byte: int
    bit: int | None

    def describe(self) -> str:
        where = "CDB" if self.in_cdb else "parameter data"
        bit = "" if self.bit is None else f" bit {self.bit}"
        return f"invalid field in the {where} at byte {self.byte}{bit}"


@record(frozen=True)
class Progress:
    """NO SENSE / NOT READY: how far a long operation (format, flash) has got."""

    fraction: float

    def describe(self) -> str:
        return f"operation {self.fraction:.1%} done"


@record(frozen=True)
class RetryCount:
    """RECOVERED / MEDIUM / HARDWARE ERROR: retries the drive spent (vendor scale)."""

    count: int

    def describe(self) -> str:
        return f"{self.count} retries"


@record(frozen=True)
class SegmentPointer:
    """COPY ABORTED: which byte of a copy segment descriptor (or parameter list) failed."""

    in_segment: bool
    byte: int
    bit: int | None

    def describe(self) -> str:
        where = "segment descriptor" if self.in_segment else "parameter list"
        bit = "" if self.bit is None else f" bit {self.bit}"
        return f"copy failed at byte {self.byte}{bit} of the {where}"


@record(frozen=True)
class QueueOverflow:
    """UNIT ATTENTION: more unit attentions were pending than the drive could keep."""

    overflow: bool

    def describe(self) -> str:
        return "unit attention queue overflowed" if self.overflow else "no queue overflow"


SenseKeySpecific = FieldPointer | Progress | RetryCount | SegmentPointer | QueueOverflow


def _sense_key_specific(key: int, b0: int, b1: int, b2: int) -> SenseKeySpecific | None:
    if not b0 & 0x80:  # SKSV: the field holds nothing
        return None
    value = (b1 << 8) | b2
    bit = b0 & 0x07 if b0 & 0x08 else None  # BPV: bit pointer valid
    if key == 0x5:
        return FieldPointer(in_cdb=bool(b0 & 0x40), byte=value, bit=bit)
    if key in (0x0, 0x2):
        return Progress(value / 65536)
    if key in (0x1, 0x3, 0x4):
        return RetryCount(value)
    if key == 0xA:
        return SegmentPointer(in_segment=bool(b0 & 0x20), byte=value, bit=bit)
    if key == 0x6:
        return QueueOverflow(bool(b0 & 0x01))
    return None  # reserved for the other keys


@record(frozen=True)
class Sense:
    format: str
    response_code: int | None
    deferred: bool
    key: int
    asc: int
    ascq: int
    information: int | None = None
    command_specific: int | None = None
    sense_key_specific: SenseKeySpecific | None = None
    filemark: bool = False
    eom: bool = False
    ili: bool = False
    descriptor_types: tuple[int, ...] = ()

    @property
    def current(self) -> bool:
        return not self.deferred

    @property
    def key_name(self) -> str:
        return KEY_NAMES[self.key]

    @property
    def asc_name(self) -> str:
        from rescue.scsi.asc_table import asc_name

        return asc_name(self.asc, self.ascq)

    @property
    def triple(self) -> str:
        return f"{self.key:X}/{self.asc:02X}/{self.ascq:02X}"

    @property
    def progress(self) -> float | None:
        sks = self.sense_key_specific
        return sks.fraction if isinstance(sks, Progress) else None

    def to_dict(self) -> dict[str, object]:
        sks = self.sense_key_specific
        return {
            "format": self.format,
            "response_code": self.response_code,
            "deferred": self.deferred,
            "triple": self.triple,
            "key": self.key,
            "key_name": self.key_name,
            "asc": self.asc,
            "ascq": self.ascq,
            "asc_name": self.asc_name,
            "information": self.information,
            "command_specific": self.command_specific,
            "sense_key_specific": None if sks is None else sks.describe(),
            "progress": self.progress,
            "filemark": self.filemark,
            "eom": self.eom,
            "ili": self.ili,
            "descriptor_types": list(self.descriptor_types),
        }


def decode_sense(raw: bytes) -> Sense:
    """Decode fixed or descriptor sense data; ``ParseError`` for anything else."""
    raw = bytes(raw)
    if not raw:
        raise ParseError("no sense data")
    code = raw[0] & 0x7F
    if code in (0x70, 0x71):
        return _decode_fixed(raw, code)
    if code in (0x72, 0x73):
        return _decode_descriptor(raw, code)
    raise ParseError(f"not sense data: response code {code:02X}h (expected 70h-73h)")


def _decode_fixed(raw: bytes, code: int) -> Sense:
    end = min(len(raw), 8 + raw[7]) if len(raw) >= 8 else len(raw)
    if end < FIXED_MIN:
        raise ParseError(
            f"fixed-format sense too short: {end} usable bytes, ASC/ASCQ need {FIXED_MIN}"
        )
    flags = raw[2]
    key = flags & 0x0F
    return Sense(
        format=FIXED,
        response_code=code,
        deferred=code == 0x71,
        key=key,
        asc=raw[12],
        ascq=raw[13],
        information=int.from_bytes(raw[3:7], "big") if raw[0] & 0x80 else None,
        command_specific=int.from_bytes(raw[8:12], "big"),
        sense_key_specific=_sense_key_specific(key, *raw[15:18]) if end >= 18 else None,
        filemark=bool(flags & 0x80),
        eom=bool(flags & 0x40),
        ili=bool(flags & 0x20),
    )


def _decode_descriptor(raw: bytes, code: int) -> Sense:
    if len(raw) < DESCRIPTOR_MIN:
        raise ParseError(
            f"descriptor-format sense too short: {len(raw)} bytes, the header needs "
            f"{DESCRIPTOR_MIN}"
        )
    key = raw[1] & 0x0F
    fields: dict[str, object] = {}
    types: list[int] = []
    end = min(len(raw), DESCRIPTOR_MIN + raw[7])
    pos = DESCRIPTOR_MIN
    while pos + 2 <= end:
        dtype, body_end = raw[pos], pos + 2 + raw[pos + 1]
        if body_end > end:
            break  # truncated by the host's buffer: keep what is whole
        _descriptor_fields(key, dtype, raw[pos + 2 : body_end], fields)
        types.append(dtype)
        pos = body_end
    return Sense(
        format=DESCRIPTOR,
        response_code=code,
        deferred=code == 0x73,
        key=key,
        asc=raw[2],
        ascq=raw[3],
        descriptor_types=tuple(types),
        **fields,  # type: ignore[arg-type]
    )


def _descriptor_fields(key: int, dtype: int, body: bytes, fields: dict[str, object]) -> None:
    """Fill ``fields`` from one descriptor; ``body`` starts after type and length."""
    if dtype == 0x00 and len(body) >= 10 and body[0] & 0x80:
        fields["information"] = int.from_bytes(body[2:10], "big")
    elif dtype == 0x01 and len(body) >= 10:
        fields["command_specific"] = int.from_bytes(body[2:10], "big")
    elif dtype == 0x02 and len(body) >= 5:
        fields["sense_key_specific"] = _sense_key_specific(key, body[2], body[3], body[4])
    elif dtype == 0x04 and len(body) >= 2:
        fields["filemark"] = bool(body[1] & 0x80)
        fields["eom"] = bool(body[1] & 0x40)
        fields["ili"] = bool(body[1] & 0x20)
    elif dtype == 0x05 and len(body) >= 2:
        fields["ili"] = bool(body[1] & 0x20)


# --- text a user types: "5/20/00", "0x05 0x20 0x00", or the raw bytes ---

# Compiled (and cached by re) on the first text read, not at import: the command path
# imports this module, and only `explain` reads typed sense (issue 15).
_BYTE = r"(?:0x)?([0-9a-f]{1,2})h?"
_HEX_RUN = r"(?:0x)?((?:[0-9a-f]{2})+)"


def _byte(token: str, what: str, limit: int = 0xFF) -> int:
    match = re.fullmatch(_BYTE, token.strip(), re.IGNORECASE)
    if match is None:
        raise ParseError(f"{what} {token.strip()!r} is not a hex byte")
    value = int(match.group(1), 16)
    if value > limit:
        raise ParseError(f"{what} {value:02X}h is out of range (at most {limit:X}h)")
    return value


def parse_triple(text: str) -> Sense:
    """Read a sense triple or raw sense bytes written as text.

    Accepted: ``5/20/0``, ``5/20/00``, ``0x05 0x20 0x00`` (any three hex
    numbers, ``0x`` prefix or ``h`` suffix optional), raw bytes separated by
    spaces or commas (``70 00 05 ...``), or one unbroken run of hex digits.
    Three numbers are a triple; more are sense bytes.
    """
    if "/" in text:
        parts = text.split("/")
    else:
        parts = text.replace(",", " ").split()
    if len(parts) == 3:
        return Sense(
            format=TRIPLE,
            response_code=None,
            deferred=False,
            key=_byte(parts[0], "sense key", 0x0F),
            asc=_byte(parts[1], "ASC"),
            ascq=_byte(parts[2], "ASCQ"),
        )
    if "/" in text:
        raise ParseError(f"expected KEY/ASC/ASCQ, got {text.strip()!r}")
    if len(parts) == 1 and (run := re.fullmatch(_HEX_RUN, parts[0], re.IGNORECASE)) is not None:
        return decode_sense(bytes.fromhex(run.group(1)))
    if len(parts) < 3:
        raise ParseError(
            f"cannot read {text.strip()!r} as sense: give KEY/ASC/ASCQ or the sense bytes in hex"
        )
    return decode_sense(bytes(_byte(part, f"byte {i}") for i, part in enumerate(parts)))


class SenseError(RescueError):
    """A command ended in CHECK CONDITION; carries the decoded sense and advice.

    The exit code follows the sense key (``rescue.errors.SENSE_KEY_EXIT``) so a
    script can tell "not ready" from "drive refused the command".

    An error made from decoded sense (``from_sense``) words its message and hint
    when something first reads them (the message, the hint, ``str``, ``to_dict``):
    naming the ASC loads the T10 table and the advice, which an error that is
    only caught and judged by its triple never needs (a scan's refused GET
    CONFIGURATION, its bad sectors; issue 15). The words are the same either way.
    """

    exit_code = ExitCode.TRANSPORT

    def __init__(
        self,
        message: str | None,
        hint: str | None,
        *,
        command: str,
        sense: Sense | None,
        raw: bytes,
    ) -> None:
        """MESSAGE None (with SENSE given): worded from SENSE when first read."""
        Exception.__init__(self, *(() if message is None else (message,)))
        self._message, self._hint = message, hint
        self.command = command
        self.sense = sense
        self.raw = raw
        if sense is not None:
            self.exit_code = SENSE_KEY_EXIT.get(sense.key, ExitCode.TRANSPORT)

    def _worded(self) -> None:
        """Word the message and hint from the sense, once (no-op when they are known)."""
        if self._message is not None or self.sense is None:
            return
        from rescue.scsi.advice import advise

        sense = self.sense
        advice = advise(sense.key, sense.asc, sense.ascq)
        self._message = (
            f"{self.command}: {sense.triple} {sense.key_name}, {sense.asc_name} — {advice.meaning}"
        )
        self._hint = advice.next_step
        self.args = (self._message,)

    @property
    def message(self) -> str:
        self._worded()
        return self._message or ""

    @message.setter
    def message(self, value: str) -> None:
        self._worded()  # the hint keeps its words
        self._message = value
        self.args = (value,)

    @property
    def hint(self) -> str | None:
        self._worded()
        return self._hint

    @hint.setter
    def hint(self, value: str | None) -> None:
        self._worded()  # the message keeps its words
        self._hint = value

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    @property
    def triple(self) -> str | None:
        return None if self.sense is None else self.sense.triple

    @classmethod
    def from_sense(cls, raw: bytes, command: str) -> SenseError:
        raw = bytes(raw)
        try:
            sense = decode_sense(raw)
        except ParseError as err:
            shown = raw[:32].hex(" ") + (" ..." if len(raw) > 32 else "")
            return cls(
                f"{command}: CHECK CONDITION with undecodable sense data "
                f"[{shown or 'empty'}]: {err.message}",
                "the drive refused the command but did not say why in a standard way; "
                "retry once, and if it repeats keep the journal (--journal) for a report",
                command=command,
                sense=None,
                raw=raw,
            )
        return cls(None, None, command=command, sense=sense, raw=raw)

    def to_dict(self) -> dict[str, object]:
        return super().to_dict() | {
            "command": self.command,
            "sense": None if self.sense is None else self.sense.to_dict(),
            "sense_hex": self.raw.hex(" "),
        }
