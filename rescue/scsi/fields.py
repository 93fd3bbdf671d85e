"""Shared helpers for the response parsers: length checks, text fields, JSON.

Every parser treats the drive's answer as untrusted input. Funnelling the
checks through these few helpers is what guarantees the contract of the
package: a short or inconsistent response becomes a one-line
``rescue.errors.ParseError``, never an ``IndexError`` or ``struct.error``.
"""

from __future__ import annotations

from enum import Enum

from rescue import record
from rescue.errors import ParseError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import Any


def require(data: bytes, length: int, what: str) -> None:
    """Fail with a ParseError unless ``data`` holds at least ``length`` bytes."""
    if len(data) < length:
        raise ParseError(f"{what}: response too short ({len(data)} bytes, need {length})")


def extent(data: bytes, announced: int) -> tuple[int, bool]:
    """Where a response's useful bytes end, and whether the allocation cut it.

    ``announced`` is the total size the response's own length field claims.
    A parser keeps everything up to the returned end; when ``truncated`` is
    true a record that runs past it was lost to the allocation length, when
    false such a record means the drive's length fields contradict each other.
    """
    return min(len(data), announced), len(data) < announced


def ascii_field(raw: bytes, encoding: str = "ascii") -> str:
    """Decode a space-padded ASCII field (SPC-4 4.3.1): garbage never raises.

    NUL bytes are treated as padding too because many ATAPI drives fill
    unused INQUIRY and VPD text with them.
    """
    return raw.decode(encoding, errors="replace").replace("\x00", " ").strip()


def be(data: bytes, start: int, size: int) -> int:
    """Big-endian unsigned field; the caller has already checked the length."""
    return int.from_bytes(data[start : start + size], "big")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, (tuple, list)):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return value


class Record:
    """Base of the parsed-response records: gives them ``to_dict()``.

    Bytes become hex strings and enums their names, so the result can go
    straight to ``json.dumps`` for the CLI's ``--json`` output.
    """

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            field.name: _jsonable(getattr(self, field.name))
            for field in record.fields(self)  # type: ignore[arg-type]
        }
