"""The TSST SE-506CB Blu-ray writer (MediaTek MT1939), as far as flashing and dumping go.

Public facts (docs/protocols.md; ``rbdixon/coastermelt`` ``doc/update-ts01-notes.txt``,
``doc/bootloader.txt``, ``flasher/checksum.py``): a 2 MiB flash whose first
64 KiB is a locked boot loader; INQUIRY's identity sits in a trailer at
0x1FFFD0 and the 16-bit sum of [0x10000, 0x1E2000) at 0x1FFFFE
(``rescue.emulator.images``). The update is vendor opcode 0xFF,
``FF 00 01 00 00 SS``, in 0xF800-byte chunks, SS = 00 first, FF after, 02 on
the last (2 KiB) chunk; the drive stalls about 10 s per MiB inside commands.
INQUIRY reports revision ``BOOT`` while the boot loader runs.
``3C 06 00 aa aa aa ll ll ll`` reads memory at a 24-bit address.

Modelled plausibly, not known from a source:
- The flash is mapped at address 0 for READ BUFFER; reading past its end
  answers 5/24/00 (the real drive returns other memory there).
- A chunk with state FF or 02 before any 00 answers 5/2C/00; a chunk that is
  empty, longer than 0xF800 or runs past 2 MiB answers 5/24/00; a last chunk
  that does not complete exactly 2 MiB answers 5/2C/00; a completed image
  whose stored sum is wrong answers 5/26/00. Every refusal drops the download.
- Each chunk costs 10 s per MiB of model time inside the command; after the
  last, the drive answers 2/04/07 for 10 s, then comes back as from a power
  on (6/29/00, then 6/3F/01). The boot loader's 64 KiB is never rewritten.
- A flash whose main firmware fails its sum runs the boot loader: revision
  ``BOOT``, only TEST UNIT READY (2/3A/01), REQUEST SENSE, INQUIRY, READ
  BUFFER and the download command work.

Registry keys: ``state=PATH`` (the 2 MiB flash, loaded when it exists, written
when created and after every burn; marked as rescue's by ``rescue.emulator.state``),
``image=PATH`` (start from this flash).
"""

from __future__ import annotations

from rescue.emulator.flashable import (
    READ_BUFFER,
    VendorDownloadDrive,
    common_args,
    load_flash,
    persist_new,
)
from rescue.emulator.images import (
    MT1939_LOADER,
    MT1939_SIZE,
    make_mt1939_image,
    read_mt1939_identity,
)
from rescue.emulator.mmc import (
    PROFILE_CD_ROM,
    PROFILE_DVD_ROM,
    Handler,
)
from rescue.emulator.sense import (
    INVALID_FIELD_IN_CDB,
    INVALID_FIELD_IN_PARAMETERS,
    CheckCondition,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.emulator.base import Device
    from rescue.emulator.registry import ModelInfo, Options

VENDOR, PRODUCT = "TSSTcorp", "BDDVDW SE-506CB"
CHUNK = 0xF800
END_STATE = 0x02
SECONDS_PER_MIB = 10.0
COME_BACK_SECONDS = 10.0
#: A BD-RE writer's MMC profiles (BD-RE, BD-R, BD-ROM, DVD, CD); writing is not modelled.
PROFILES = (0x0043, 0x0041, 0x0040, 0x001A, 0x0011, PROFILE_DVD_ROM, 0x000A, PROFILE_CD_ROM)
KEYS = ("state", "image")


class Mt1939Drive(VendorDownloadDrive):
    """An SE-506CB holding ``flash``; see the module docstring for its behaviour."""

    vendor, product, profiles = VENDOR, PRODUCT, PROFILES
    flash_size, chunk, end_states = MT1939_SIZE, CHUNK, (END_STATE,)
    identify_flash = staticmethod(read_mt1939_identity)
    seconds_per_mib = SECONDS_PER_MIB

    def flash_handlers(self) -> dict[int, Handler]:
        return {**super().flash_handlers(), READ_BUFFER: self._read_buffer}

    def accept_download(self, image: bytes) -> None:
        if read_mt1939_identity(image) is None:
            raise CheckCondition(INVALID_FIELD_IN_PARAMETERS)
        self.start_burn(self.flash[:MT1939_LOADER] + image[MT1939_LOADER:], COME_BACK_SECONDS)

    def _read_buffer(self, cdb: bytes, data_out: bytes | None) -> bytes:
        mode, buffer_id = cdb[1] & 0x1F, cdb[2]
        address, length = int.from_bytes(cdb[3:6], "big"), int.from_bytes(cdb[6:9], "big")
        if mode != 0x06 or buffer_id != 0 or address + length > MT1939_SIZE:
            raise CheckCondition(INVALID_FIELD_IN_CDB)
        return self.flash[address : address + length]


def build(info: ModelInfo, options: Options) -> Device:
    """The registry's constructor for ``tsst-se506cb`` (keys in the module docstring)."""
    flash = load_flash(options, MT1939_SIZE, make_mt1939_image, info.default_revision)
    return persist_new(Mt1939Drive(flash=flash, **common_args(options)))
