"""BTC's ``.HEX`` firmware text (what BTC's Windows updater unpacks), decoded to a 1 MiB image.

Format facts from btcflash (dvd+rw-tools / cdrtools ``btcflash.c``), as collected in
docs/protocols.md: Intel-HEX-like lines ``:LLOOOOTT<data>CC`` with 16-bit offsets
and the usual two's-complement checksum byte; ``:00000155AA`` moves to the next
64 KiB bank; ``:00000001FF`` ends the file; a complete file has exactly 15 bank
separators (16 banks); bytes not written stay 0xFF; any other zero-length record
is malformed. Everything else (other record types, text after the end record,
data running past a bank) is refused here too, because a flasher must not guess
at a half-understood file.
"""

from __future__ import annotations

from pathlib import Path

from rescue.errors import BadInput

BANK_SIZE = 0x10000
BANKS = 16
IMAGE_SIZE = BANK_SIZE * BANKS
RECORD_DATA = 0x00
RECORD_END = 0x01
RECORD_BANK = 0x55
BANK_SEPARATOR = bytes([0x00, 0x00, 0x01, RECORD_BANK])
END_RECORD = bytes([0x00, 0x00, 0x00, RECORD_END])
HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def looks_like_hex(data: bytes) -> bool:
    """True when the file starts like a HEX text (a ':' after optional blank space)."""
    return data.lstrip(b" \t\r\n").startswith(b":")


def _record_bytes(line: str, where: str) -> bytes:
    """Decode one ':...' line to its bytes and check its length and checksum."""
    if not line.startswith(":"):
        raise BadInput(f"{where}: record does not start with ':'")
    digits = line[1:]
    if len(digits) % 2 or not set(digits) <= HEX_DIGITS:
        raise BadInput(f"{where}: record is not an even run of hex digits")
    record = bytes.fromhex(digits)
    if len(record) < 5:
        raise BadInput(f"{where}: record too short ({len(record)} bytes, at least 5 needed)")
    if len(record) != record[0] + 5:
        raise BadInput(
            f"{where}: length byte says {record[0]} data bytes, the line holds {len(record) - 5}"
        )
    if sum(record) & 0xFF:
        expected = (-sum(record[:-1])) & 0xFF
        raise BadInput(
            f"{where}: record checksum is 0x{record[-1]:02X}, the bytes add up to 0x{expected:02X}"
        )
    return record


def parse_btc_hex(text: bytes, path: Path) -> bytes:
    """Decode a complete BTC .HEX file to its 1 MiB flash image, or raise BadInput
    naming the file, the line number and the fault."""
    image = bytearray(b"\xff" * IMAGE_SIZE)
    bank = 0
    ended = False
    for number, raw in enumerate(text.splitlines(), start=1):
        where = f"{path}: line {number}"
        try:
            line = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            raise BadInput(f"{where}: not ASCII text") from None
        if not line:
            continue
        if ended:
            raise BadInput(f"{where}: text after the end record")
        record = _record_bytes(line, where)
        length, kind = record[0], record[3]
        offset = int.from_bytes(record[1:3], "big")
        if kind == RECORD_DATA and length:
            if offset + length > BANK_SIZE:
                raise BadInput(
                    f"{where}: data at 0x{offset:04X}+{length} runs past the 64 KiB bank"
                )
            start = bank * BANK_SIZE + offset
            image[start : start + length] = record[4:-1]
        elif record[:-1] == BANK_SEPARATOR:
            bank += 1
            if bank >= BANKS:
                raise BadInput(
                    f"{where}: bank separator number {bank}: more than {BANKS - 1} "
                    f"(a complete file has {BANKS} banks)"
                )
        elif record[:-1] == END_RECORD:
            ended = True
        elif length == 0:
            raise BadInput(f"{where}: malformed zero-length record (type 0x{kind:02X})")
        else:
            raise BadInput(f"{where}: unsupported record type 0x{kind:02X}")
    if not ended:
        raise BadInput(f"{path}: truncated: no end record (:00000001FF)")
    if bank != BANKS - 1:
        raise BadInput(
            f"{path}: {bank} bank separators, a complete file has {BANKS - 1} "
            f"({BANKS} banks of 64 KiB)"
        )
    return bytes(image)
