"""Which read command a scan uses, and reading with it.

READ(10) is what every drive takes and what ddrescue's kernel path sends.
READ(12) (MMC-6 6.23) reads the same sectors; it is offered for drives or
bridges that handle it better. On a CD, READ CD (MMC-6 6.19) with the Error
Field at 01b returns, after each sector's 2048 bytes of user data, 294 bytes
of C2 error pointers: one bit per byte of the 2352-byte raw sector, set where
the CIRC decoder gave up on that byte. A sector can have C2 errors and still
read, because a Mode 1 sector carries its own EDC/ECC layer (ECMA-130); those
are the weak spots of a disc that is starting to fail, which plain READs
cannot show. redumper's README describes its "SCSI/C2 repair" on the same
pointers.

``auto`` picks READ CD only when the medium is a CD and the drive claims C2
support: GET CONFIGURATION's CD Read feature (MMC-6 feature 001Eh, byte 4
bit 1 "C2 Flags"), else the capabilities mode page (2Ah, byte 5 bit 4 "C2
Pointers supported", MMC-3). A drive that still refuses READ CD
(5/20/00 no such command, 5/24/00 a field it does not take, 5/64/00 the
track is not Mode 1) makes the scan go on with READ(10), and the report says so.

Some drives take the command but ignore the Error Field: QEMU's ATAPI CD-ROM
(seen in the test guest) sends bare 2048-byte sectors, and SG_IO hands back
the whole buffer asked for, so user data lands where C2 pointers should be
and reads as errors. ``layout_holds`` catches that before a scan trusts the
pointers: two sectors by READ CD must carry the same user data, in the same
places, as by READ(10).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from rescue.drive import Drive
from rescue.errors import ParseError, RescueError
from rescue.scsi import cdb as build

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.scsi.readcd import CdBlock

SECTOR = 2048
CD_PROFILES = frozenset({0x0008, 0x0009, 0x000A})  # CD-ROM, CD-R, CD-RW (MMC-6 profile list)
CD_READ_FEATURE = 0x001E
C2_FLAGS_BIT = 0x02
#: ILLEGAL REQUEST answers that mean "not this command here", not "this sector is bad".
REFUSED = frozenset({"5/20/00", "5/24/00", "5/64/00"})


class ReadMethod(StrEnum):
    AUTO = "auto"
    READ10 = "read10"
    READ12 = "read12"
    CD = "cd"


LABELS = {
    ReadMethod.READ10: "READ(10)",
    ReadMethod.READ12: "READ(12)",
    ReadMethod.CD: "READ CD with C2 error pointers",
}


def sector_bytes(method: ReadMethod) -> int:
    """Bytes one sector moves with ``method``: what a READ's size on the path is counted in.

    READ CD with C2 returns 294 bytes of pointers after each 2048 of user data
    (2342 a sector, docs/protocols.md "Transfer size"), so a block
    sized at 2048 a sector would overrun a USB bridge's cap.
    """
    if method is not ReadMethod.CD:
        return SECTOR
    from rescue.scsi.readcd import C2_SIZES, C2Mode  # READ CD's own module: a CD's method only

    return SECTOR + C2_SIZES[C2Mode.C2]


def claims_c2(drive: Drive) -> bool:
    """The drive says it can return C2 error pointers (feature 001Eh, else page 2Ah)."""
    try:
        feature = drive.configuration().feature(CD_READ_FEATURE)
    except RescueError:
        feature = None
    if feature is not None and feature.data:
        return bool(feature.data[0] & C2_FLAGS_BIT)
    try:
        return drive.capabilities().c2_pointers
    except RescueError:
        return False


class UnknownMedium:
    """Why a scan reads with READ(10) when GET CONFIGURATION failed, worded by ``str``.

    The failure is usually a drive's refusal (scsi_debug refuses the command):
    a SenseError names its ASC only when its message is read (rescue.scsi.sense),
    so the T10 table loads when the summary or the report prints this reason,
    after the reads, not while the scan chooses its method (issue 15).
    """

    __slots__ = ("error",)

    def __init__(self, error: RescueError) -> None:
        self.error = error

    def __str__(self) -> str:
        return f"the current medium is unknown ({self.error.message})"


def choose(drive: Drive, asked: ReadMethod) -> tuple[ReadMethod, str | UnknownMedium]:
    """The method to scan with and why, in words for the report (``str`` of the reason)."""
    if asked is not ReadMethod.AUTO:
        return asked, "asked for with --read"
    try:
        profile = drive.configuration().current_profile
    except RescueError as err:
        return ReadMethod.READ10, UnknownMedium(err)
    if profile not in CD_PROFILES:
        return ReadMethod.READ10, "the medium is not a CD"
    if not claims_c2(drive):
        return ReadMethod.READ10, "a CD, but the drive does not claim C2 error pointers"
    return ReadMethod.CD, "a CD, and the drive claims C2 error pointers"


def _read_cd_c2(drive: Drive, lba: int, count: int) -> list[CdBlock]:
    from rescue.scsi.readcd import C2Mode, HeaderCode, SectorType, split_blocks  # a CD only

    c = build.read_cd(
        lba,
        count,
        sector_type=SectorType.MODE1,
        sync=False,
        header=HeaderCode.NONE,
        edc_ecc=False,
        c2=C2Mode.C2,
    )
    reply = drive.command(c, data_in=c.data_in, label=f"READ CD {lba}")
    if reply.residual:
        raise ParseError(f"READ CD {lba}: {reply.residual} bytes short of {c.data_in}")
    return split_blocks(reply.data, SECTOR, C2Mode.C2)


def layout_holds(drive: Drive, lba: int, count: int = 2) -> bool:
    """READ CD with C2 returns the user data READ(10) does, block by block.

    Only meaningful on sectors that are not blank (two zero sectors match in
    any layout); ISO 9660's volume descriptors at LBA 16 are a good choice.
    """
    blocks = _read_cd_c2(drive, lba, count)
    return b"".join(block.main for block in blocks) == drive.read10(lba, count)


NO_C2: tuple[int, ...] = ()  # what a read without C2 pointers flags: nothing to look at


def read_sectors(drive: Drive, method: ReadMethod, lba: int, count: int) -> Sequence[int]:
    """Read ``count`` sectors; C2-flagged bytes per sector (``NO_C2`` for methods without C2).

    A CHECK CONDITION raises the drive's SenseError, as ``Drive.read10`` does.
    """
    if method is ReadMethod.CD:
        return [block.c2_error_count for block in _read_cd_c2(drive, lba, count)]
    if method is ReadMethod.READ12:
        c = build.read_12(lba, count)
        drive.command(c, data_in=c.data_in, label=f"READ(12) {lba}")
    else:
        drive.read10(lba, count)
    return NO_C2
