"""READ CD options, the block size they produce, and splitting what comes back.

MMC-6 6.19 lets a READ CD return, per block, a chosen subset of the raw
sector (sync, headers, user data, EDC/ECC), then optional C2 error
information, then optional sub-channel data, in that order. The size of each
block follows from the sector's mode and the options; computing it in one
place keeps the CDB's transfer length and the split of the answer in step.
Field sizes are from ECMA-130 (CD-ROM sector layouts) and MMC-6 table
"Number of bytes returned based on data selection field".
"""

from __future__ import annotations

from enum import IntEnum

from rescue.errors import ParseError
from rescue.record import record
from rescue.scsi.fields import Record

RAW_SECTOR = 2352


class SectorType(IntEnum):
    """Expected Sector Type field (byte 1 bits 4-2)."""

    ANY = 0
    CDDA = 1
    MODE1 = 2
    MODE2_FORMLESS = 3
    MODE2_FORM1 = 4
    MODE2_FORM2 = 5


class HeaderCode(IntEnum):
    """Header Codes field (byte 9 bits 6-5)."""

    NONE = 0
    HEADER = 1  # the 4-byte header
    SUBHEADER = 2  # the 8-byte Mode 2 sub-header
    ALL = 3


class C2Mode(IntEnum):
    """C2 Error Information field (byte 9 bits 2-1)."""

    NONE = 0
    C2 = 1  # 294 bytes: one bit per byte of the 2352-byte sector
    C2_AND_BLOCK = 2  # 296 bytes: the same plus a block error byte and a pad byte


class SubChannel(IntEnum):
    """Sub-channel Data Selection field (byte 10 bits 2-0)."""

    NONE = 0
    RAW = 1  # 96 bytes of raw P-W
    Q = 2  # 16 bytes of formatted Q
    RW = 4  # 96 bytes of de-interleaved, corrected R-W


C2_SIZES = {C2Mode.NONE: 0, C2Mode.C2: 294, C2Mode.C2_AND_BLOCK: 296}
SUBCHANNEL_SIZES = {SubChannel.NONE: 0, SubChannel.RAW: 96, SubChannel.Q: 16, SubChannel.RW: 96}

# user data and EDC/ECC bytes per sector type (ECMA-130 sections 14 and 16)
_USER = {
    SectorType.MODE1: 2048,
    SectorType.MODE2_FORMLESS: 2336,
    SectorType.MODE2_FORM1: 2048,
    SectorType.MODE2_FORM2: 2324,
}
_EDC_ECC = {
    SectorType.MODE1: 288,  # EDC 4 + intermediate 8 + P/Q parity 276
    SectorType.MODE2_FORMLESS: 0,
    SectorType.MODE2_FORM1: 280,  # EDC 4 + P/Q parity 276
    SectorType.MODE2_FORM2: 4,  # EDC (optional) only
}
_XA = (SectorType.MODE2_FORM1, SectorType.MODE2_FORM2)


def main_channel_size(
    sector_type: SectorType, sync: bool, header: HeaderCode, user_data: bool, edc_ecc: bool
) -> int:
    """Bytes of main-channel data per block for these options.

    A CD-DA sector has no sync or headers: its 2352 bytes are all user data.
    With sector type ANY the size depends on each sector's mode, so only the
    two selections whose size does not (everything, or nothing) are accepted.
    """
    sector_type, header = SectorType(sector_type), HeaderCode(header)  # ValueError if unknown
    wanted = (sync, header is HeaderCode.ALL, user_data, edc_ecc)
    if sector_type is SectorType.CDDA:
        return RAW_SECTOR if user_data else 0
    if sector_type is SectorType.ANY:
        if all(wanted):
            return RAW_SECTOR
        if not any((sync, header is not HeaderCode.NONE, user_data, edc_ecc)):
            return 0
        raise ValueError("with sector type ANY only a full raw sector or no main data has a size")
    size = 12 if sync else 0
    if header in (HeaderCode.HEADER, HeaderCode.ALL):
        size += 4
    if header in (HeaderCode.SUBHEADER, HeaderCode.ALL) and sector_type in _XA:
        size += 8
    if user_data:
        size += _USER[sector_type]
    if edc_ecc:
        size += _EDC_ECC[sector_type]
    return size


def block_size(
    sector_type: SectorType,
    sync: bool,
    header: HeaderCode,
    user_data: bool,
    edc_ecc: bool,
    c2: C2Mode,
    subchannel: SubChannel,
) -> int:
    """Bytes the drive returns per block: main channel, then C2, then sub-channel."""
    return (
        main_channel_size(sector_type, sync, header, user_data, edc_ecc)
        + C2_SIZES[C2Mode(c2)]
        + SUBCHANNEL_SIZES[SubChannel(subchannel)]
    )


@record(frozen=True, slots=True)
class CdBlock(Record):
    """One block of a READ CD answer, cut into its parts."""

    main: bytes
    c2: bytes
    subchannel: bytes

    @property
    def c2_error_count(self) -> int:
        """Bytes flagged by the C2 pointers (the block error byte is not counted)."""
        return int.from_bytes(self.c2[:294], "big").bit_count()


def split_blocks(
    data: bytes, main_size: int, c2: C2Mode = C2Mode.NONE, subchannel: SubChannel = SubChannel.NONE
) -> list[CdBlock]:
    """Cut a READ CD buffer into blocks of main data, C2 pointers and sub-channel.

    ``main_size`` is ``main_channel_size(...)`` for the options the CDB used.
    A buffer that is not a whole number of blocks is a ParseError: it means the
    drive answered something other than what was asked.
    """
    c2_size = C2_SIZES[C2Mode(c2)]
    step = main_size + c2_size + SUBCHANNEL_SIZES[SubChannel(subchannel)]
    if step == 0:
        raise ParseError("READ CD: the options select no data to split")
    if len(data) % step:
        raise ParseError(f"READ CD: {len(data)} bytes is not a whole number of {step}-byte blocks")
    mv = memoryview(data)
    blocks = []
    for start in range(0, len(data), step):
        split_c2 = start + main_size
        split_sub = split_c2 + c2_size
        blocks.append(
            CdBlock(
                bytes(mv[start:split_c2]),
                bytes(mv[split_c2:split_sub]),
                bytes(mv[split_sub : start + step]),
            )
        )
    return blocks
