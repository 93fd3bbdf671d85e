"""A generic MMC optical drive, the base every emulated drive model builds on.

Written from the standards, not from the host side of this project: SPC-4
(INQUIRY, REQUEST SENSE, TEST UNIT READY, unit attention rules, fixed sense)
and MMC-5/6 (GET CONFIGURATION features, mode page 2Ah, READ CD, READ TOC,
GET EVENT STATUS NOTIFICATION, tray handling). Field offsets are cited where
they are used. What the standards leave open is modelled plainly and said so.

Behaviour worth knowing when reading a host-side trace against it:
- A unit attention condition (6/29/00 at power on, 6/28/00 when a disc is
  loaded, others a subclass queues) is reported, oldest first, as CHECK
  CONDITION by the next command other than INQUIRY, REQUEST SENSE or GET
  EVENT STATUS NOTIFICATION; REQUEST SENSE returns it as data and clears it.
- Medium-access commands without a disc answer 2/3A/02 with the tray open,
  2/3A/01 with it closed. A locked tray (PREVENT ALLOW MEDIUM REMOVAL)
  refuses eject with 5/53/02.
- Unreadable sectors answer 3/11/00 with the failing LBA in the INFORMATION
  field and the sectors before it transferred; READ CD asked for C2 error
  pointers instead delivers every sector, flagging every byte of a bad one
  and a few bytes of a weak one (``Disc.c2_errors``), whose user data plain
  READs still return. A model built with ``c2_pointers=False`` claims no C2
  support (feature 001Eh, page 2Ah) and refuses READ CD's error field 5/24/00.
- Unknown opcodes answer 5/20/00; bad fields 5/24/00. Sense is fixed format.
- Subclasses add opcodes by extending ``handlers``, advance time-driven state
  in ``tick`` and can make the whole unit not ready (a flash burn) by
  overriding ``unit_not_ready``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime

from rescue.emulator.base import BUSY, CHECK_CONDITION, Clock, Reply
from rescue.emulator.disc import (
    RAW_SECTOR,
    SECTOR,
    TOP_SPEED,
    Disc,
    MediaKind,
    page_speed_kbps,
)
from rescue.emulator.faults import Action, Fault, FaultPlan
from rescue.emulator.sense import (
    ILLEGAL_MODE_FOR_TRACK,
    INVALID_FIELD_IN_CDB,
    INVALID_OPCODE,
    LBA_OUT_OF_RANGE,
    MEDIUM_MAY_HAVE_CHANGED,
    NO_MEDIUM_TRAY_CLOSED,
    NO_MEDIUM_TRAY_OPEN,
    NO_SENSE,
    POWER_ON_RESET,
    REMOVAL_PREVENTED,
    SAVING_NOT_SUPPORTED,
    UNRECOVERED_READ_ERROR,
    CheckCondition,
    Sense,
    fixed_sense,
)
from rescue.record import record

TEST_UNIT_READY = 0x00
REQUEST_SENSE = 0x03
INQUIRY = 0x12
START_STOP_UNIT = 0x1B
PREVENT_ALLOW = 0x1E
READ_CAPACITY = 0x25
READ_10 = 0x28
READ_TOC = 0x43
GET_CONFIGURATION = 0x46
GET_EVENT_STATUS = 0x4A
MODE_SENSE_10 = 0x5A
READ_12 = 0xA8
READ_CD = 0xBE

#: Commands that neither report nor clear a pending unit attention (SPC-4 5.14, MMC-6 GESN).
UA_EXEMPT = frozenset({INQUIRY, REQUEST_SENSE, GET_EVENT_STATUS})
#: Answered while the drive is busy (2/04/xx): SPC-4 has INQUIRY and REQUEST SENSE
#: work whatever the unit's state, and pxfw asks INQUIRY right after its last chunk.
NOT_READY_EXEMPT = frozenset({INQUIRY, REQUEST_SENSE})

#: CDB length by opcode group (SPC-4 4.2.5.1); vendor groups 3, 6, 7 are checked by their handler.
CDB_LENGTH = {0: 6, 1: 10, 2: 10, 4: 16, 5: 12}

PROFILE_NONE = 0x0000
PROFILE_CD_ROM = 0x0008
PROFILE_DVD_ROM = 0x0010
PROFILE_OF_MEDIA = {MediaKind.CD: PROFILE_CD_ROM, MediaKind.DVD: PROFILE_DVD_ROM}

#: MMC-6 5.3.2 Core feature: physical interface standard 2 = ATAPI.
INTERFACE_ATAPI = 2
#: Mode page 2Ah / feature 0003h loading mechanism field: 001b = tray.
LOADING_TRAY = 0x20

Handler = Callable[[bytes, bytes | None], "bytes | Reply"]


@record
class Identity:
    """What INQUIRY reports; fields are padded/truncated to their SPC widths on output."""

    vendor: str
    product: str
    revision: str
    serial: str = "EMU0000001"


def ascii_field(text: str, width: int) -> bytes:
    return text.encode("ascii", "replace")[:width].ljust(width, b" ")


def firmware_info_date(date: str) -> bytes:
    """MMC-6 feature 010Ch wants 'YYYYMMDDhhmmss' in ASCII; models keep 'YYYY/MM/DD hh:mm'."""
    try:
        stamp = datetime.strptime(date.strip(), "%Y/%m/%d %H:%M")
    except ValueError:
        return b"0" * 14  # the image carries no parsable date: report none, not a guess
    return stamp.strftime("%Y%m%d%H%M%S").encode("ascii")


def _u16(cdb: bytes, at: int) -> int:
    return int.from_bytes(cdb[at : at + 2], "big")


def _u32(cdb: bytes, at: int) -> int:
    return int.from_bytes(cdb[at : at + 4], "big")


def _lba_to_msf(lba: int) -> bytes:
    """MMC-6 table 'LBA to MSF': 150 frames of lead-in offset, 75 frames a second."""
    frames = lba + 150
    return bytes([0, frames // (75 * 60), (frames // 75) % 60, frames % 75])


class MmcDrive:
    """A drive answering the SPC/MMC commands listed in the module docstring."""

    def __init__(
        self,
        *,
        identity: Identity,
        profiles: tuple[int, ...],
        clock: Clock,
        disc: Disc | None = None,
        tray_open: bool = False,
        faults: list[Fault] | None = None,
        firmware_date: str = "2006/02/14 10:00",
        microcode_upgrade: bool = False,
        c2_pointers: bool = True,
    ) -> None:
        self.identity = identity
        self.profiles = profiles
        self.clock = clock
        self.disc = disc
        self.tray_open = tray_open
        self.firmware_date = firmware_date
        self.microcode_upgrade = microcode_upgrade
        self.c2_pointers = c2_pointers
        self.faults = FaultPlan(faults)
        self.locked = False
        self.unit_attentions: deque[Sense] = deque([POWER_ON_RESET])
        self.media_event = 0  # MMC media event code waiting for GESN; 0 = no change
        self.gone = False
        self.handlers: dict[int, Handler] = {
            TEST_UNIT_READY: self._test_unit_ready,
            REQUEST_SENSE: self._request_sense,
            INQUIRY: self._inquiry,
            START_STOP_UNIT: self._start_stop_unit,
            PREVENT_ALLOW: self._prevent_allow,
            READ_CAPACITY: self._read_capacity,
            READ_10: self._read_10,
            READ_TOC: self._read_toc,
            GET_CONFIGURATION: self._get_configuration,
            GET_EVENT_STATUS: self._get_event_status,
            MODE_SENSE_10: self._mode_sense_10,
            READ_12: self._read_12,
            READ_CD: self._read_cd,
        }

    # ----------------------------------------------------------- dispatch

    def submit(self, cdb: bytes, data_out: bytes | None, data_in_len: int) -> Reply:
        if self.gone:
            return Reply(gone=True)
        if not cdb:
            return self._check(CheckCondition(INVALID_OPCODE))
        self.tick()
        fault = self.faults.next_command(cdb[0])
        extra = 0.0
        if fault is not None:
            if fault.action is Action.HANG:
                return Reply(hang=True)
            if fault.action is Action.GONE:
                self.gone = True
                return Reply(gone=True)
            if fault.action is Action.BUSY:
                return Reply(status=BUSY)
            if fault.action is Action.SENSE and fault.sense is not None:
                return self._check(CheckCondition(fault.sense))
            if fault.action is Action.RESET:
                self.power_on_reset()
            extra = fault.seconds
        reply = self._dispatch(bytes(cdb), data_out)
        reply.busy_seconds += extra
        return reply

    def _dispatch(self, cdb: bytes, data_out: bytes | None) -> Reply:
        opcode = cdb[0]
        try:
            if opcode not in UA_EXEMPT and self.unit_attentions:
                raise CheckCondition(self.unit_attentions.popleft())
            handler = self.handlers.get(opcode)
            if handler is None:
                raise CheckCondition(INVALID_OPCODE)
            if len(cdb) < CDB_LENGTH.get(opcode >> 5, 0):
                raise CheckCondition(INVALID_FIELD_IN_CDB)
            if opcode not in NOT_READY_EXEMPT and (busy := self.unit_not_ready()) is not None:
                raise CheckCondition(busy)
            result = handler(cdb, data_out)
        except CheckCondition as cc:
            return self._check(cc)
        return result if isinstance(result, Reply) else Reply(data=result)

    @staticmethod
    def _check(cc: CheckCondition) -> Reply:
        return Reply(
            status=CHECK_CONDITION, sense=fixed_sense(cc.sense, cc.information), data=cc.data
        )

    # ------------------------------------------------------ state changes

    def power_on_reset(self) -> None:
        """What a reset does to volatile state; subclasses drop their own and call this."""
        self.unit_attentions.clear()
        self.unit_attentions.append(POWER_ON_RESET)
        self.locked = False

    def tick(self) -> None:
        """Let time-driven state (a flash burn) move on before a command is looked at."""

    def unit_not_ready(self) -> Sense | None:
        """A condition that fails every command but REQUEST SENSE (none in a healthy drive)."""
        return None

    def load_disc(self, disc: Disc | None) -> None:
        """Put ``disc`` in the (then closed) tray, as a person would; None empties it."""
        self.disc = disc
        self.tray_open = False
        if disc is not None:
            self._medium_changed(new=True)

    def _medium_changed(self, new: bool) -> None:
        # MMC-6 table 'Media Event Format': 2 = NewMedia, 3 = MediaRemoval.
        self.media_event = 2 if new else 3
        if new:
            self.unit_attentions.append(MEDIUM_MAY_HAVE_CHANGED)

    def medium_sense(self) -> Sense | None:
        if self.tray_open:
            return NO_MEDIUM_TRAY_OPEN
        if self.disc is None:
            return NO_MEDIUM_TRAY_CLOSED
        return None

    def require_medium(self) -> Disc:
        sense = self.medium_sense()
        if sense is not None or self.disc is None:
            raise CheckCondition(sense or NO_MEDIUM_TRAY_CLOSED)
        return self.disc

    def current_profile(self) -> int:
        if self.medium_sense() is not None or self.disc is None:
            return PROFILE_NONE
        return PROFILE_OF_MEDIA[self.disc.kind]

    # ------------------------------------------------------ SPC commands

    def _test_unit_ready(self, cdb: bytes, data_out: bytes | None) -> bytes:
        self.require_medium()
        return b""

    def _request_sense(self, cdb: bytes, data_out: bytes | None) -> bytes:
        if cdb[1] & 0x01:  # DESC: descriptor format is not offered (SPC-4 6.39)
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        if self.unit_attentions:
            sense = self.unit_attentions.popleft()
        else:
            sense = self.unit_not_ready() or self.medium_sense() or NO_SENSE
        return fixed_sense(sense)[: cdb[4]]

    def _inquiry(self, cdb: bytes, data_out: bytes | None) -> bytes:
        evpd, page, alloc = cdb[1] & 0x01, cdb[2], _u16(cdb, 3)
        if not evpd:
            if page:
                raise CheckCondition(INVALID_FIELD_IN_CDB)
            return self.standard_inquiry()[:alloc]
        pages = {0x00: self._vpd_supported, 0x80: self._vpd_serial, 0x83: self._vpd_identifiers}
        if page not in pages:
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        body = pages[page]()
        return (bytes([0x05, page]) + len(body).to_bytes(2, "big") + body)[:alloc]

    def standard_inquiry(self) -> bytes:
        """96 bytes (SPC-4 6.6.2): type 5 (CD/DVD), RMB, SPC-3, format 2, then identity."""
        ident = self.identity
        out = bytearray(96)
        out[0:5] = bytes([0x05, 0x80, 0x05, 0x02, len(out) - 5])
        out[8:16] = ascii_field(ident.vendor, 8)
        out[16:32] = ascii_field(ident.product, 16)
        out[32:36] = ascii_field(ident.revision, 4)
        return bytes(out)

    def _vpd_supported(self) -> bytes:
        return bytes([0x00, 0x80, 0x83])

    def _vpd_serial(self) -> bytes:
        return self.identity.serial.encode("ascii", "replace")

    def _vpd_identifiers(self) -> bytes:
        # One T10 vendor ID based designator (SPC-4 7.8.6.4): code set 2 (ASCII), type 1.
        ident = self.identity
        designator = ascii_field(ident.vendor, 8) + ident.product.encode("ascii", "replace")
        designator += b" " + ident.serial.encode("ascii", "replace")
        return bytes([0x02, 0x01, 0x00, len(designator)]) + designator

    # ------------------------------------------------------ tray

    def _start_stop_unit(self, cdb: bytes, data_out: bytes | None) -> bytes:
        loej, start = cdb[4] & 0x02, cdb[4] & 0x01
        if not loej:
            return b""  # spin up / down: nothing to model
        if not start:
            if self.locked:
                raise CheckCondition(REMOVAL_PREVENTED)
            if not self.tray_open:
                self.tray_open = True
                if self.disc is not None:
                    self._medium_changed(new=False)
        elif self.tray_open:
            self.tray_open = False
            if self.disc is not None:
                self._medium_changed(new=True)
        return b""

    def _prevent_allow(self, cdb: bytes, data_out: bytes | None) -> bytes:
        self.locked = bool(cdb[4] & 0x01)
        return b""

    def _get_event_status(self, cdb: bytes, data_out: bytes | None) -> bytes:
        # MMC-6 6.6: only polled operation is offered; media class is bit 4 of the request.
        if not cdb[1] & 0x01:
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        alloc = _u16(cdb, 7)
        supported = 0x10
        if not cdb[4] & supported:
            return bytes([0, 2, 0x80, supported])[:alloc]  # NEA: no class asked for is offered
        status = (0x01 if self.tray_open else 0) | (0x02 if self.disc is not None else 0)
        event, self.media_event = self.media_event, 0
        return bytes([0, 6, 0x04, supported, event, status, 0, 0])[:alloc]

    # ------------------------------------------------------ MMC identity

    def _get_configuration(self, cdb: bytes, data_out: bytes | None) -> bytes:
        rt, start, alloc = cdb[1] & 0x03, _u16(cdb, 2), _u16(cdb, 7)
        if rt == 3:
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        body = b""
        for code, current, feature in self.features():
            wanted = code == start if rt == 2 else code >= start and (rt == 0 or current)
            if wanted:
                body += feature
        header = (len(body) + 4).to_bytes(4, "big") + b"\0\0"
        header += self.current_profile().to_bytes(2, "big")
        return (header + body)[:alloc]

    def features(self) -> list[tuple[int, bool, bytes]]:
        """(code, current, descriptor) for every feature, ascending (MMC-6 5.2, 5.3)."""
        profile = self.current_profile()
        cd, dvd = profile == PROFILE_CD_ROM, profile == PROFILE_DVD_ROM
        blocking = 16 if dvd else 1
        profile_list = b"".join(
            p.to_bytes(2, "big") + bytes([int(p == profile), 0]) for p in self.profiles
        )
        found = [
            _feature(0x0000, 0, True, True, profile_list),
            _feature(0x0001, 1, True, True, INTERFACE_ATAPI.to_bytes(4, "big") + b"\x01\0\0\0"),
            _feature(0x0003, 0, True, True, bytes([LOADING_TRAY | 0x09, 0, 0, 0])),
            _feature(
                0x0010,
                0,
                False,
                profile != PROFILE_NONE,
                SECTOR.to_bytes(4, "big") + blocking.to_bytes(2, "big") + b"\0\0",
            ),
            # CD Read: byte 4 bit 1 is C2 Flags (MMC-6 feature 001Eh)
            _feature(0x001E, 2, False, cd, bytes([0x02 if self.c2_pointers else 0, 0, 0, 0])),
        ]
        if PROFILE_DVD_ROM in self.profiles:
            found.append(_feature(0x001F, 1, False, dvd, bytes(4)))
        if self.microcode_upgrade:
            found.append(_feature(0x0104, 1, True, True, bytes(4)))
        found.append(
            _feature(0x010C, 0, True, True, firmware_info_date(self.firmware_date) + b"\0\0")
        )
        return found

    def _mode_sense_10(self, cdb: bytes, data_out: bytes | None) -> bytes:
        control, page, alloc = cdb[2] >> 6, cdb[2] & 0x3F, _u16(cdb, 7)
        if page not in (0x2A, 0x3F):
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        if control == 3:
            raise CheckCondition(SAVING_NOT_SUPPORTED)
        body = self._capabilities_page(changeable=control == 1)
        return ((len(body) + 6).to_bytes(2, "big") + bytes(6) + body)[:alloc]

    def _capabilities_page(self, changeable: bool) -> bytes:
        """Mode page 2Ah (MMC-3 table 361 layout, 20 bytes after the header)."""
        page = bytearray(22)
        page[0:2] = bytes([0x2A, len(page) - 2])
        if not changeable:
            page[2] = 0x03 | (0x08 if PROFILE_DVD_ROM in self.profiles else 0)  # CD-R/RW, DVD-ROM
            page[5] = 0x10 if self.c2_pointers else 0  # C2 pointers supported
            page[6] = LOADING_TRAY | 0x09 | (0x02 if self.locked else 0)  # eject, lock, state
            best = MediaKind.DVD if PROFILE_DVD_ROM in self.profiles else MediaKind.CD
            top = page_speed_kbps(best, TOP_SPEED[best])
            now = page_speed_kbps(self.disc.kind, self.disc.speed) if self.disc else top
            page[8:10] = top.to_bytes(2, "big")  # maximum read speed, kB/s
            page[12:14] = (512).to_bytes(2, "big")  # buffer size, KB
            page[14:16] = now.to_bytes(2, "big")  # current read speed, kB/s
        return bytes(page)

    # ------------------------------------------------------ reading

    def _read_capacity(self, cdb: bytes, data_out: bytes | None) -> bytes:
        disc = self.require_medium()
        return (disc.sectors - 1).to_bytes(4, "big") + SECTOR.to_bytes(4, "big")

    def _read_10(self, cdb: bytes, data_out: bytes | None) -> Reply:
        return self.read_user_data(_u32(cdb, 2), _u16(cdb, 7))

    def _read_12(self, cdb: bytes, data_out: bytes | None) -> Reply:
        return self.read_user_data(_u32(cdb, 2), _u32(cdb, 6))

    def _checked_range(self, lba: int, count: int) -> Disc:
        disc = self.require_medium()
        if lba + count > disc.sectors:
            raise CheckCondition(LBA_OUT_OF_RANGE)
        return disc

    def first_unreadable(self, disc: Disc, lba: int, count: int) -> int | None:
        """Where a user-data read of ``[lba, lba + count)`` fails; models add their own trouble."""
        return disc.first_unreadable(lba, count)

    def read_user_data(self, lba: int, count: int) -> Reply:
        """2048-byte sectors; stops at the first unreadable one with 3/11/00 (SBC/MMC)."""
        disc = self._checked_range(lba, count)
        delay = disc.delay(lba, count)
        bad = self.first_unreadable(disc, lba, count)
        if bad is not None:
            good = disc.read(lba, bad - lba)
            reply = self._check(CheckCondition(UNRECOVERED_READ_ERROR, bad, good))
        else:
            reply = Reply(data=disc.read(lba, count))
        reply.busy_seconds = delay
        return reply

    def _read_cd(self, cdb: bytes, data_out: bytes | None) -> Reply:
        """READ CD (MMC-6 6.19) for Mode 1 user data, optionally with C2 error pointers.

        Byte 9 selects the fields: 10h user data alone, 12h plus 294 bytes of C2
        bits, 14h plus C2 bits and the block error byte (296). Raw fields (sync,
        header, EDC/ECC) and subchannels are not modelled: 5/24/00.
        """
        sector_type, lba = (cdb[1] >> 2) & 0x07, _u32(cdb, 2)
        count = int.from_bytes(cdb[6:9], "big")
        fields, subchannel = cdb[9], cdb[10] & 0x07
        c2_len = {0x10: 0, 0x12: 294, 0x14: 296}.get(fields)
        if c2_len is None or subchannel or (c2_len and not self.c2_pointers):
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        disc = self._checked_range(lba, count)
        if disc.kind is not MediaKind.CD or sector_type not in (0, 2):  # any / Mode 1
            raise CheckCondition(ILLEGAL_MODE_FOR_TRACK)
        if not c2_len:
            return self.read_user_data(lba, count)
        out = bytearray()
        for n in range(lba, lba + count):
            readable = disc.is_readable(n)
            flagged = disc.c2_errors(n) if readable else RAW_SECTOR
            out += disc.read(n, 1) if readable else bytes(SECTOR)
            out += _c2_pointers(flagged)
            if c2_len == 296:  # block error byte (any C2 error), then a pad byte
                out += b"\xff\0" if flagged else b"\0\0"
        return Reply(data=bytes(out), busy_seconds=disc.delay(lba, count))

    def _read_toc(self, cdb: bytes, data_out: bytes | None) -> bytes:
        """READ TOC formats 0 and 1 (MMC-6 6.26) for a one-track, one-session data disc."""
        msf, fmt, track, alloc = cdb[1] & 0x02, cdb[2] & 0x0F, cdb[6], _u16(cdb, 7)
        disc = self.require_medium()

        def address(lba: int) -> bytes:
            return _lba_to_msf(lba) if msf else lba.to_bytes(4, "big")

        def descriptor(number: int, lba: int) -> bytes:
            return bytes([0, 0x14, number, 0]) + address(lba)  # ADR 1, control 4: data track

        if fmt == 0:
            if track not in (0, 1, 0xAA):
                raise CheckCondition(INVALID_FIELD_IN_CDB)
            body = b"" if track == 0xAA else descriptor(1, 0)
            body += descriptor(0xAA, disc.sectors)
        elif fmt == 1:
            body = descriptor(1, 0)
        else:
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        return ((len(body) + 2).to_bytes(2, "big") + bytes([1, 1]) + body)[:alloc]


def _c2_pointers(flagged: int) -> bytes:
    """294 bytes of C2 pointers flagging the first ``flagged`` bytes of the 2352.

    The first pointer byte's most significant bit stands for the sector's first byte.
    """
    bits = ((1 << flagged) - 1) << (RAW_SECTOR - flagged)
    return bits.to_bytes(RAW_SECTOR // 8, "big")


def _feature(
    code: int, version: int, persistent: bool, current: bool, data: bytes
) -> tuple[int, bool, bytes]:
    flags = version << 2 | int(persistent) << 1 | int(current)
    return code, current, code.to_bytes(2, "big") + bytes([flags, len(data)]) + data
