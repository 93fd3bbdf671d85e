"""CDB builders for the SPC, MMC and SAT commands the tool sends.

Each builder validates its arguments (``ValueError`` for a field that does
not fit) and returns a ``Cdb``: the command bytes, plus how many bytes of
data the command moves and in which direction, so the caller hands the
transport exactly the allocation or transfer length the CDB announces.

Layouts are from the T10 standards (SPC-4 for INQUIRY, TEST UNIT READY,
REQUEST SENSE, MODE SENSE(10), START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL,
READ/WRITE BUFFER; SBC-3 for READ CAPACITY(10), READ(10), READ(12); MMC-6 for
GET CONFIGURATION, READ CD, READ TOC/PMA/ATIP, GET EVENT STATUS NOTIFICATION;
SAT-3 for ATA PASS-THROUGH), cross-checked against the opcode list in the
Linux kernel's ``include/scsi/scsi_proto.h`` and sg3_utils' tables.
"""

from __future__ import annotations

import struct
from enum import IntEnum
from functools import partial

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.scsi.buffer import ReadBufferMode, WriteBufferMode  # noqa: F401 - __getattr__
    from rescue.scsi.events import StartStop
    from rescue.scsi.modepage import PageControl
    from rescue.scsi.readcd import C2Mode, HeaderCode, SectorType, SubChannel
    from rescue.scsi.toc import TocFormat

#: The field values of commands a scan never sends live beside the parsers of those commands'
#: answers and load on first use (PEP 562's module ``__getattr__``): ``cdb.StartStop.EJECT``
#: and ``from rescue.scsi.cdb import WriteBufferMode`` still name them. Making an IntEnum
#: costs about 0.1 M instructions a member, every scan's start (issue 15).
_ELSEWHERE = {
    "PageControl": "rescue.scsi.modepage",
    "TocFormat": "rescue.scsi.toc",
    "StartStop": "rescue.scsi.events",
    "WriteBufferMode": "rescue.scsi.buffer",
    "ReadBufferMode": "rescue.scsi.buffer",
}


def __getattr__(name: str) -> object:
    where = _ELSEWHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(__import__(where, fromlist=(name,)), name)


class Opcode:
    """Operation codes: a CDB's first byte, plain ints (nothing looks one up by value, and an
    IntEnum of these 17 cost 1.8 M instructions at every start)."""

    TEST_UNIT_READY = 0x00
    REQUEST_SENSE = 0x03
    INQUIRY = 0x12
    START_STOP_UNIT = 0x1B
    PREVENT_ALLOW_MEDIUM_REMOVAL = 0x1E
    READ_CAPACITY_10 = 0x25
    READ_10 = 0x28
    WRITE_BUFFER = 0x3B
    READ_BUFFER = 0x3C
    READ_TOC = 0x43
    GET_CONFIGURATION = 0x46
    GET_EVENT_STATUS_NOTIFICATION = 0x4A
    MODE_SENSE_10 = 0x5A
    ATA_PASS_THROUGH_16 = 0x85
    ATA_PASS_THROUGH_12 = 0xA1  # same value as MMC BLANK: see ata_pass_through_12
    READ_12 = 0xA8
    READ_CD = 0xBE


class Cdb(bytes):
    """A CDB that also says how much data it moves.

    ``data_in`` is the allocation (or transfer) length for device-to-host
    commands, ``data_out`` the parameter list length for host-to-device ones;
    at most one of them is non-zero. Typical use:
    ``transport.execute(c, data_in=c.data_in)``, or for a write
    ``transport.execute(c, data_out=payload)`` with ``len(payload) == c.data_out``.
    """

    data_in: int
    data_out: int

    def __new__(cls, raw: bytes | bytearray, *, data_in: int = 0, data_out: int = 0) -> Cdb:
        cdb = super().__new__(cls, raw)
        cdb.data_in = data_in
        cdb.data_out = data_out
        return cdb


def _field(name: str, value: int, bits: int) -> int:
    """Check that ``value`` fits an unsigned field of ``bits`` bits."""
    if not 0 <= value < (1 << bits):
        raise ValueError(f"{name} {value} does not fit in {bits} bits")
    return value


def _put(cdb: bytearray, start: int, size: int, name: str, value: int) -> None:
    cdb[start : start + size] = _field(name, value, size * 8).to_bytes(size, "big")


# --- SPC: identity and readiness ------------------------------------------------------------

INQUIRY_ALLOC = 96  # the standard 36 bytes plus the vendor-specific 36-55 and spare


def inquiry(evpd: bool = False, page: int = 0, alloc: int = INQUIRY_ALLOC) -> Cdb:
    """INQUIRY (SPC-4 6.6): standard data, or the VPD page ``page`` if ``evpd``.

    SPC-4 forbids a page code without EVPD, so that combination is refused here
    rather than by the drive.
    """
    if page and not evpd:
        raise ValueError("an INQUIRY page code needs evpd=True")
    cdb = bytearray(6)
    cdb[0] = Opcode.INQUIRY
    cdb[1] = 1 if evpd else 0
    _put(cdb, 2, 1, "page", page)
    _put(cdb, 3, 2, "allocation length", alloc)
    return Cdb(cdb, data_in=alloc)


_TEST_UNIT_READY = Cdb(bytes(6))


def test_unit_ready() -> Cdb:
    """TEST UNIT READY (SPC-4 6.47): six zero bytes, no data.

    Always the same bytes, so one shared CDB: polls send it in loops.
    """
    return _TEST_UNIT_READY


SENSE_ALLOC = 252  # SPC-4: the largest sense a device may return to REQUEST SENSE


def request_sense(alloc: int = SENSE_ALLOC, descriptor: bool = False) -> Cdb:
    """REQUEST SENSE (SPC-4 6.29); decoding the answer is ``rescue.scsi.sense``'s job."""
    cdb = bytearray(6)
    cdb[0] = Opcode.REQUEST_SENSE
    cdb[1] = 1 if descriptor else 0
    _put(cdb, 4, 1, "allocation length", alloc)
    return Cdb(cdb, data_in=alloc)


# --- MMC: configuration, capabilities, media ------------------------------------------------


class ConfigRT(IntEnum):
    """GET CONFIGURATION Requested Type field (MMC-6 6.6.2.2)."""

    ALL = 0  # every feature the drive has, from the starting feature on
    CURRENT = 1  # only features whose Current bit is set
    ONE = 2  # only the starting feature


CONFIG_ALLOC = 0xFFF8  # large enough for any drive's full list, a multiple of 8


def get_configuration(
    rt: ConfigRT = ConfigRT.ALL, start_feature: int = 0, alloc: int = CONFIG_ALLOC
) -> Cdb:
    """GET CONFIGURATION (MMC-6 6.6): feature descriptors and the current profile."""
    cdb = bytearray(10)
    cdb[0] = Opcode.GET_CONFIGURATION
    cdb[1] = _field("requested type", int(rt), 2)
    _put(cdb, 2, 2, "starting feature", start_feature)
    _put(cdb, 7, 2, "allocation length", alloc)
    return Cdb(cdb, data_in=alloc)


#: MMC's CD/DVD Capabilities and Mechanical Status page: what MODE SENSE asks for unless told
#: otherwise. Defined here, where the builder's default needs it at import, and read by
#: rescue.scsi.modepage's parser: a scan that never asks for the page loads no parser of it.
CAPABILITIES_PAGE = 0x2A
MODE_SENSE_ALLOC = 0xFF  # header + page 0x2A with every write-speed descriptor a drive sends


def mode_sense_10(
    page: int = CAPABILITIES_PAGE,
    subpage: int = 0,
    pc: PageControl | int = 0,
    dbd: bool = True,
    alloc: int = MODE_SENSE_ALLOC,
) -> Cdb:
    """MODE SENSE(10) (SPC-4 6.12). ``dbd`` drops block descriptors (MMC drives have none);
    ``pc`` a ``PageControl`` (``rescue.scsi.modepage``), 0 (CURRENT) unless told."""
    cdb = bytearray(10)
    cdb[0] = Opcode.MODE_SENSE_10
    cdb[1] = 0x08 if dbd else 0
    cdb[2] = _field("page control", int(pc), 2) << 6 | _field("page", page, 6)
    _put(cdb, 3, 1, "subpage", subpage)
    _put(cdb, 7, 2, "allocation length", alloc)
    return Cdb(cdb, data_in=alloc)


def read_capacity_10() -> Cdb:
    """READ CAPACITY(10) (SBC-3 5.15): last LBA and block length, 8 bytes back."""
    cdb = bytearray(10)
    cdb[0] = Opcode.READ_CAPACITY_10
    return Cdb(cdb, data_in=8)


_READ_10 = struct.Struct(">BBIBHB")  # opcode, flags, LBA, group, transfer length, control
_READ_10_OPCODE = Opcode.READ_10  # one global lookup per use, not a class lookup too


def read_10_bytes(lba: int, blocks: int, fua: bool = False) -> bytes:
    """READ(10)'s ten bytes alone, packed in one call: a scan sends one per block and
    needs no ``Cdb`` object around them (docs/architecture.md, "The command path")."""
    if not (0 <= lba <= 0xFFFFFFFF and 0 <= blocks <= 0xFFFF):
        _field("lba", lba, 32)
        _field("transfer length", blocks, 16)
    return _READ_10.pack(_READ_10_OPCODE, 0x08 if fua else 0, lba, 0, blocks, 0)


#: read_10_bytes(lba, blocks) as one C call (flags, group and control zero): what a scan's
#: prepared reader sends for each block (``Transport.bulk_reader``). No range check: struct
#: refuses what does not fit, and the scan's LBAs and block come checked from its command line.
read_10_plain = partial(struct.Struct(">BxIxHx").pack, _READ_10_OPCODE)


def read_10(lba: int, blocks: int, block_length: int = 2048, fua: bool = False) -> Cdb:
    """READ(10) (SBC-3 5.11); ``block_length`` (2048 for CD/DVD/BD data) sizes the transfer."""
    return Cdb(read_10_bytes(lba, blocks, fua), data_in=blocks * block_length)


def read_12(lba: int, blocks: int, block_length: int = 2048, streaming: bool = False) -> Cdb:
    """READ(12) (MMC-6 6.23): a 32-bit block count and the Streaming bit."""
    cdb = bytearray(12)
    cdb[0] = Opcode.READ_12
    _put(cdb, 2, 4, "lba", lba)
    _put(cdb, 6, 4, "transfer length", blocks)
    cdb[10] = 0x80 if streaming else 0
    return Cdb(cdb, data_in=blocks * block_length)


def read_cd(
    lba: int,
    blocks: int,
    *,
    sector_type: SectorType | None = None,
    sync: bool = True,
    header: HeaderCode | None = None,
    user_data: bool = True,
    edc_ecc: bool = True,
    c2: C2Mode | None = None,
    subchannel: SubChannel | None = None,
    dap: bool = False,
) -> Cdb:
    """READ CD (MMC-6 6.19). The defaults read whole 2352-byte raw sectors: a None
    option is sector type ANY, header ALL, no C2 and no sub-channel.

    The transfer length is computed by ``rescue.scsi.readcd.block_size`` from
    the same options, so the CDB and the buffer split always agree. readcd (four
    enums) is imported here, not with this module: a DVD's scan sends no READ CD.
    """
    from rescue.scsi.readcd import C2Mode, HeaderCode, SectorType, SubChannel, block_size

    sector_type = SectorType.ANY if sector_type is None else sector_type
    header = HeaderCode.ALL if header is None else header
    c2 = C2Mode.NONE if c2 is None else c2
    subchannel = SubChannel.NONE if subchannel is None else subchannel
    size = block_size(sector_type, sync, header, user_data, edc_ecc, c2, subchannel)
    cdb = bytearray(12)
    cdb[0] = Opcode.READ_CD
    cdb[1] = int(sector_type) << 2 | (0x02 if dap else 0)
    _put(cdb, 2, 4, "lba", lba)
    _put(cdb, 6, 3, "transfer length", blocks)
    cdb[9] = (
        (0x80 if sync else 0)
        | int(header) << 5
        | (0x10 if user_data else 0)
        | (0x08 if edc_ecc else 0)
        | int(c2) << 1
    )
    cdb[10] = int(subchannel)
    return Cdb(cdb, data_in=blocks * size)


TOC_ALLOC = 4 + 100 * 8  # header + 99 tracks + lead-out: the largest format-0 answer


def read_toc(
    fmt: TocFormat | int = 0, msf: bool = False, track: int = 0, alloc: int = TOC_ALLOC
) -> Cdb:
    """READ TOC/PMA/ATIP (MMC-6 6.26); ``track`` is the first track (format 0); ``fmt`` a
    ``TocFormat`` (``rescue.scsi.toc``), 0 (the TOC) unless told."""
    cdb = bytearray(10)
    cdb[0] = Opcode.READ_TOC
    cdb[1] = 0x02 if msf else 0
    cdb[2] = _field("format", int(fmt), 4)
    _put(cdb, 6, 1, "track", track)
    _put(cdb, 7, 2, "allocation length", alloc)
    return Cdb(cdb, data_in=alloc)


MEDIA_CLASS = 0x10  # Notification Class Request bit 4: media events
EVENT_ALLOC = 8  # 4-byte header + one 4-byte event descriptor


def get_event_status(classes: int = MEDIA_CLASS, alloc: int = EVENT_ALLOC) -> Cdb:
    """GET EVENT STATUS NOTIFICATION, polled (MMC-6 6.7); asynchronous mode is unused."""
    cdb = bytearray(10)
    cdb[0] = Opcode.GET_EVENT_STATUS_NOTIFICATION
    cdb[1] = 0x01  # Polled
    _put(cdb, 4, 1, "notification class request", classes)
    _put(cdb, 7, 2, "allocation length", alloc)
    return Cdb(cdb, data_in=alloc)


def start_stop_unit(action: StartStop, immediate: bool = False) -> Cdb:
    """START STOP UNIT: spin up/down, open (eject) or close (load) the tray."""
    cdb = bytearray(6)
    cdb[0] = Opcode.START_STOP_UNIT
    cdb[1] = 1 if immediate else 0
    cdb[4] = _field("action", int(action), 2)
    return Cdb(cdb)


def prevent_allow_medium_removal(prevent: bool) -> Cdb:
    """PREVENT ALLOW MEDIUM REMOVAL (SPC-4 6.13): lock or unlock the tray."""
    cdb = bytearray(6)
    cdb[0] = Opcode.PREVENT_ALLOW_MEDIUM_REMOVAL
    cdb[4] = 1 if prevent else 0
    return Cdb(cdb)


# --- SPC: buffers and microcode -------------------------------------------------------------


def _buffer_cdb(
    opcode: int, mode: int, mode_specific: int, buffer_id: int, offset: int, length: int
) -> bytearray:
    """The layout WRITE BUFFER and READ BUFFER share: mode, ID, 24-bit offset and length."""
    cdb = bytearray(10)
    cdb[0] = opcode
    cdb[1] = _field("mode specific", mode_specific, 3) << 5 | _field("mode", int(mode), 5)
    _put(cdb, 2, 1, "buffer id", buffer_id)
    _put(cdb, 3, 3, "buffer offset", offset)
    _put(cdb, 6, 3, "length", length)
    return cdb


def write_buffer(
    mode: int, buffer_id: int = 0, offset: int = 0, length: int = 0, mode_specific: int = 0
) -> Cdb:
    """WRITE BUFFER (SPC-4 6.49): ``length`` bytes of data follow the CDB.

    Any 5-bit mode is accepted because optical vendors give the reserved and
    vendor modes their own meaning (docs/protocols.md: btcflash, DVRFlash, redumper).
    ``mode_specific`` fills bits 7-5 of byte 1 (activation events for mode 0Dh).
    """
    cdb = _buffer_cdb(Opcode.WRITE_BUFFER, mode, mode_specific, buffer_id, offset, length)
    return Cdb(cdb, data_out=length)


def read_buffer(mode: int, buffer_id: int = 0, offset: int = 0, length: int = 0) -> Cdb:
    """READ BUFFER (SPC-4 6.17): up to ``length`` bytes come back."""
    cdb = _buffer_cdb(Opcode.READ_BUFFER, mode, 0, buffer_id, offset, length)
    return Cdb(cdb, data_in=length)


def read_buffer_descriptor(buffer_id: int = 0) -> Cdb:
    """READ BUFFER mode 3: the buffer's offset boundary and capacity (4 bytes)."""
    from rescue.scsi.buffer import ReadBufferMode

    return read_buffer(ReadBufferMode.DESCRIPTOR, buffer_id, 0, 4)


def read_buffer_memory(address: int, length: int) -> Cdb:
    """``3C 06 00 aa aa aa ll ll ll``: MediaTek's memory read at a 24-bit address.

    Source: rbdixon/coastermelt ``doc/`` notes (MT1939) and redumper's MT1959
    flasher, summarised in docs/protocols.md. It is the standard buffer layout with
    mode 6, buffer ID 0 and the address in the offset field.
    """
    from rescue.scsi.buffer import ReadBufferMode

    return read_buffer(ReadBufferMode.VENDOR_OFFSETS, 0, address, length)


# --- SAT: ATA PASS-THROUGH ------------------------------------------------------------------

IDENTIFY_PACKET_DEVICE = 0xA1  # ATA/ATAPI-8 command code
_PIO_DATA_IN = 4  # SAT-3 protocol field
# T_DIR=1 (from device), BYT_BLOK=1 (count in blocks), T_LENGTH=2 (count in sector count)
_IDENTIFY_FLAGS = 0x08 | 0x04 | 0x02


def ata_pass_through_12(command: int = IDENTIFY_PACKET_DEVICE) -> Cdb:
    """ATA PASS-THROUGH(12) (SAT-3 12.2.3) carrying a one-block PIO data-in command.

    Caution: 0xA1 is also MMC's BLANK opcode; an MMC drive that is not behind
    a SAT layer reads this CDB as BLANK. Prefer the 16-byte form for optical
    drives (sg3_utils' sg_inq does the same for ATAPI).
    """
    cdb = bytearray(12)
    cdb[0] = Opcode.ATA_PASS_THROUGH_12
    cdb[1] = _PIO_DATA_IN << 1
    cdb[2] = _IDENTIFY_FLAGS
    cdb[4] = 1  # sector count: one 512-byte block
    _put(cdb, 9, 1, "command", command)
    return _identify(cdb)


def ata_pass_through_16(command: int = IDENTIFY_PACKET_DEVICE) -> Cdb:
    """ATA PASS-THROUGH(16) (SAT-3 12.2.2) carrying a one-block PIO data-in command."""
    cdb = bytearray(16)
    cdb[0] = Opcode.ATA_PASS_THROUGH_16
    cdb[1] = _PIO_DATA_IN << 1  # EXTEND=0: 28-bit registers
    cdb[2] = _IDENTIFY_FLAGS
    cdb[6] = 1  # sector count (7:0)
    _put(cdb, 14, 1, "command", command)
    return _identify(cdb)


def _identify(cdb: bytearray) -> Cdb:
    """A pass-through CDB that reads one IDENTIFY block (rescue.scsi.ata's parser, imported
    here: a scan sends no ATA command)."""
    from rescue.scsi.ata import IDENTIFY_LENGTH

    return Cdb(cdb, data_in=IDENTIFY_LENGTH)
