"""The BTC DRW-1004IM / DRW-1008 (MediaTek MT1x08) DVD writer, as far as flashing goes.

Public facts (docs/protocols.md; btcflash 1.18 in cdrtools / dvd+rw-tools, public
domain): the drive holds 1 MiB of flash; btcflash sends every 4 KiB chunk at
image offset ``o`` with WRITE BUFFER(10) mode 6, buffer 0, buffer offset
``o + 0x20``; then a 32-byte header at buffer offset 0 whose bytes 30-31 are
the 16-bit sum of the image (big-endian); then mode 7, offset 0, length 0
("save"), after which the drive writes its flash. btcflash waits 50 s and
polls TEST UNIT READY; INQUIRY then shows the new revision. INQUIRY's
vendor/product/revision are those of the canned block in the image
(``rescue.emulator.images``). READ BUFFER is not offered (5/20/00), so a
host cannot back this drive up.

Modelled plausibly, not known from a source (say so when comparing traces):
- The commit refuses an incomplete download with 5/2C/00 and a header sum
  that does not match the downloaded image with 5/26/00; either way the
  download buffer is discarded and the flash is untouched.
- The burn takes 40 s of model time; every command but REQUEST SENSE
  answers 2/04/07 meanwhile (INQUIRY included: the controller is busy). It
  ends as a power-on: unit attentions 6/29/00 then 6/3F/01 are queued.
- A drive whose flash does not boot (a bank not starting 02h/80h, or no
  identity block) runs its boot loader ("recovery mode"): INQUIRY revision
  ``BOOT``; only TEST UNIT READY (2/3A/01: it spins no disc), REQUEST SENSE,
  INQUIRY and WRITE BUFFER work; a full download + commit repairs it.
- Quirk ``stepping`` (field report: BTC's updater for 0151 failed on
  0040/0043 with 5/20/00; 0050 first, then 0151, worked): while running
  0040 or 0043, a commit whose image revision is numerically above 0050 is
  answered 5/20/00 and nothing is written.
- Quirk ``dvdread`` (for diagnostics stories): while running 0043, DVD reads
  at or beyond the middle of the disc fail with 3/11/00; CDs read fine.

Registry keys (besides the common ones in ``rescue.emulator.registry``):
  ``state=PATH``        the flash, as a 1 MiB file: loaded when it exists (it
                        then wins over rev=/image=/mode=), written when first
                        created and after every burn, so separate runs see one
                        drive (a firmware dump anyone can inspect; its marker
                        NAME.emu.json beside it, rescue.emulator.state: an
                        existing file without one is refused, never taken)
  ``image=PATH``        start from this 1 MiB flash image instead of a made one
  ``quirk=Q[+Q...]``    stepping, dvdread, or none (default: stepping)
  ``commit=ok|badsum|powerloss``  the first commit is refused as if the sum
                        were wrong / loses power mid-burn (back in recovery mode)
  ``mode=normal|recovery``  start with a flash that does not boot
Download faults use the common ``fault=`` rules on opcode 3b: chunk N is the
Nth WRITE BUFFER, e.g. ``sense:4/44/00@3b.7``, ``hang@3b.7``, ``reset@3b.100``
(a reset discards the download buffer and reports 6/29/00).
"""

from __future__ import annotations

import os
from enum import StrEnum

from rescue.emulator.disc import Disc, MediaKind
from rescue.emulator.flashable import (
    FlashHoldingDrive,
    common_args,
    load_flash,
    persist_new,
)
from rescue.emulator.images import (
    FLASH_SIZE,
    IDENTITY_END,
    INQUIRY_BLOCK,
    FlashIdentity,
    flash_checksum,
    is_bootable,
    make_btc_image,
    read_identity,
)
from rescue.emulator.mmc import PROFILE_CD_ROM, PROFILE_DVD_ROM
from rescue.emulator.sense import (
    COMMAND_SEQUENCE_ERROR,
    INVALID_FIELD_IN_CDB,
    INVALID_FIELD_IN_PARAMETERS,
    INVALID_OPCODE,
    CheckCondition,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.emulator.base import Device
    from rescue.emulator.mmc import Handler
    from rescue.emulator.registry import ModelInfo, Options

WRITE_BUFFER = 0x3B
MODE_DOWNLOAD_WITH_OFFSETS = 0x06
MODE_DOWNLOAD_SAVE = 0x07
HEADER_SIZE = 0x20
CHECKSUM_AT = 30
BURN_SECONDS = 40.0
VENDOR, PRODUCT = "BTC", "DVDRW IDE1004"  # docs/drives.md: what a real DRW-1004IM reports
STEPPING_FROM = ("0040", "0043")
STEPPING_LAST_ALLOWED = 50
DVDREAD_REVISION = "0043"
#: MMC profiles of a DVD±RW writer (writing itself is not modelled).
PROFILES = (0x001A, 0x001B, 0x0014, 0x0011, PROFILE_DVD_ROM, 0x000A, 0x0009, PROFILE_CD_ROM)
KEYS = ("state", "image", "quirk", "commit", "mode")


class Quirk(StrEnum):
    STEPPING = "stepping"
    DVDREAD = "dvdread"


class CommitFault(StrEnum):
    OK = "ok"
    BADSUM = "badsum"
    POWERLOSS = "powerloss"


def interrupted(image: bytes) -> bytes:
    """What a burn cut off halfway leaves: the first half written, the rest still erased."""
    half = FLASH_SIZE // 2
    return image[:half] + b"\xff" * (FLASH_SIZE - half)


def btc_identity(flash: bytes) -> FlashIdentity | None:
    """The identity the main firmware reports, or None when the flash does not boot."""
    return read_identity(flash) if is_bootable(flash) else None


class BtcDrive(FlashHoldingDrive):
    """An MT1x08 drive holding ``flash``; see the module docstring for its behaviour."""

    vendor, product, profiles = VENDOR, PRODUCT, PROFILES
    identify_flash = staticmethod(btc_identity)

    def __init__(
        self,
        *,
        flash: bytes,
        quirks: frozenset[Quirk] = frozenset({Quirk.STEPPING}),
        commit_fault: CommitFault = CommitFault.OK,
        **common: object,
    ) -> None:
        self.quirks = quirks
        self.commit_fault = commit_fault
        self._discard_download()
        super().__init__(flash=flash, **common)  # type: ignore[arg-type]

    def flash_handlers(self) -> dict[int, Handler]:
        return {WRITE_BUFFER: self._write_buffer}

    def _discard_download(self) -> None:
        self._download = bytearray(b"\xff" * (HEADER_SIZE + FLASH_SIZE))
        self._received = bytearray(HEADER_SIZE + FLASH_SIZE)  # 1 where a byte arrived

    def power_on_reset(self) -> None:
        self._discard_download()
        super().power_on_reset()

    # ------------------------------------------------------ INQUIRY, reads

    def standard_inquiry(self) -> bytes:
        """The image's canned block with its date, as long as its additional-length byte says."""
        if self.recovery:
            return super().standard_inquiry()
        block = self.flash[INQUIRY_BLOCK:IDENTITY_END]
        total = block[4] + 5
        return block[:total].ljust(total, b"\0")

    def first_unreadable(self, disc: Disc, lba: int, count: int) -> int | None:
        bad = super().first_unreadable(disc, lba, count)
        if (
            Quirk.DVDREAD in self.quirks
            and self.identity.revision == DVDREAD_REVISION
            and disc.kind is MediaKind.DVD
            and lba + count > disc.sectors // 2
        ):
            weak = max(lba, disc.sectors // 2)
            bad = weak if bad is None else min(bad, weak)
        return bad

    # ------------------------------------------------------ WRITE BUFFER

    def _write_buffer(self, cdb: bytes, data_out: bytes | None) -> bytes:
        mode, buffer_id = cdb[1] & 0x1F, cdb[2]
        offset, length = int.from_bytes(cdb[3:6], "big"), int.from_bytes(cdb[6:9], "big")
        if buffer_id != 0:
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        if mode == MODE_DOWNLOAD_WITH_OFFSETS:
            data = data_out or b""
            if not length or len(data) != length or offset + length > len(self._download):
                raise CheckCondition(INVALID_FIELD_IN_CDB)
            self._download[offset : offset + length] = data
            self._received[offset : offset + length] = b"\x01" * length
        elif mode == MODE_DOWNLOAD_SAVE and offset == 0 and length == 0:
            self._commit()
        else:
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        return b""

    def _commit(self) -> None:
        try:
            if self._received.count(0):
                raise CheckCondition(COMMAND_SEQUENCE_ERROR)
            image = bytes(self._download[HEADER_SIZE:])
            declared = int.from_bytes(self._download[CHECKSUM_AT:HEADER_SIZE], "big")
            if declared != flash_checksum(image) or self.commit_fault is CommitFault.BADSUM:
                self.commit_fault = CommitFault.OK
                raise CheckCondition(INVALID_FIELD_IN_PARAMETERS)
            if self._stepping_refuses(image):
                raise CheckCondition(INVALID_OPCODE)
        finally:
            self._discard_download()
        if self.commit_fault is CommitFault.POWERLOSS:
            self.commit_fault = CommitFault.OK
            image = interrupted(image)
        self.start_burn(image, BURN_SECONDS)

    def _stepping_refuses(self, image: bytes) -> bool:
        if Quirk.STEPPING not in self.quirks or self.recovery:
            return False
        if self.identity.revision not in STEPPING_FROM:
            return False
        new = read_identity(image)
        return (
            new is not None
            and new.revision.isdigit()
            and int(new.revision) > (STEPPING_LAST_ALLOWED)
        )


def build(info: ModelInfo, options: Options) -> Device:
    """The registry's constructor for ``btc-drw1004im`` (keys in the module docstring)."""
    extra = options.extra
    flash = load_flash(options, FLASH_SIZE, make_btc_image, info.default_revision)
    state = extra.get("state")
    if _one_of(extra, "mode", ("normal", "recovery")) == "recovery" and not (
        state and os.path.exists(state)
    ):
        flash = interrupted(flash)
    drive = BtcDrive(
        flash=flash,
        quirks=_quirks(extra.get("quirk", Quirk.STEPPING.value)),
        commit_fault=CommitFault(_one_of(extra, "commit", tuple(CommitFault))),
        **common_args(options),
    )
    return persist_new(drive)


def _one_of(extra: dict[str, str], key: str, allowed: tuple[str, ...]) -> str:
    value = extra.get(key, allowed[0])
    if value not in allowed:
        raise ValueError(f"{key}={value!r}: want one of {', '.join(allowed)}")
    return value


def _quirks(text: str) -> frozenset[Quirk]:
    if text == "none":
        return frozenset()
    try:
        return frozenset(Quirk(q) for q in text.split("+"))
    except ValueError:
        valid = ", ".join(q.value for q in Quirk)
        raise ValueError(f"quirk={text!r}: want none or {valid}, joined by +") from None
