"""IDENTIFY (PACKET) DEVICE data (ATA8-ACS 7.17/7.18): the drive's ATA identity.

Reached through SAT's ATA PASS-THROUGH. It carries the ATA model, serial and
firmware revision, which on bridged drives can differ from INQUIRY's, and
the transfer modes the link runs. Strings are stored two characters per
16-bit little-endian word, first character in the high byte, so each pair
of bytes is swapped before decoding.
"""

from __future__ import annotations

from rescue.errors import ParseError
from rescue.record import record
from rescue.scsi.fields import Record, ascii_field, require

IDENTIFY_LENGTH = 512
SIGNATURE = 0xA5  # word 255 low byte: the checksum in the high byte is valid

# word 0 bits 12-8 for packet devices (SPC/ATAPI command packet set types)
PACKET_DEVICE_TYPES: dict[int, str] = {
    0x00: "direct access",
    0x01: "sequential access",
    0x05: "CD/DVD",
    0x07: "optical memory",
}


def _word(data: bytes, index: int) -> int:
    return data[2 * index] | data[2 * index + 1] << 8


def ata_string(data: bytes, first_word: int, last_word: int) -> str:
    """Decode words ``first_word``..``last_word`` inclusive as an ATA string."""
    raw = bytearray(data[2 * first_word : 2 * (last_word + 1)])
    raw[0::2], raw[1::2] = raw[1::2], raw[0::2]
    return ascii_field(bytes(raw))


@record(frozen=True, slots=True)
class AtaIdentity(Record):
    packet: bool  # word 0 bits 15-14 = 10b: an ATAPI (packet) device
    packet_device_type: int | None
    packet_device_type_name: str | None
    packet_size: int | None  # 12 or 16 byte CDBs
    serial: str
    firmware: str
    model: str
    udma_supported: tuple[int, ...]  # modes 0-6 the device supports
    udma_selected: int | None
    checksum_valid: bool | None  # None when word 255 carries no signature


def parse_identify(data: bytes) -> AtaIdentity:
    """Parse the 512-byte block of IDENTIFY DEVICE or IDENTIFY PACKET DEVICE.

    A block with the A5h signature and a wrong checksum is refused: it is
    corrupt, and its strings would be trusted as identity.
    """
    require(data, IDENTIFY_LENGTH, "IDENTIFY")
    checksum_valid = None
    if data[510] == SIGNATURE:
        checksum_valid = sum(data[:IDENTIFY_LENGTH]) & 0xFF == 0
        if not checksum_valid:
            raise ParseError("IDENTIFY: integrity checksum (word 255) does not match")
    config = _word(data, 0)
    packet = config >> 14 == 0b10
    dtype = (config >> 8) & 0x1F if packet else None
    size = {0: 12, 1: 16}.get(config & 0x03) if packet else None
    udma = _word(data, 88)
    # word 53 bit 2: word 88 is valid
    udma_valid = bool(_word(data, 53) & 0x04)
    supported = tuple(m for m in range(7) if udma & (1 << m)) if udma_valid else ()
    selected = [m for m in range(7) if udma & (0x100 << m)] if udma_valid else []
    return AtaIdentity(
        packet=packet,
        packet_device_type=dtype,
        packet_device_type_name=None if dtype is None else PACKET_DEVICE_TYPES.get(dtype, "other"),
        packet_size=size,
        serial=ata_string(data, 10, 19),
        firmware=ata_string(data, 23, 26),
        model=ata_string(data, 27, 46),
        udma_supported=supported,
        udma_selected=selected[0] if len(selected) == 1 else None,
        checksum_valid=checksum_valid,
    )
