"""The TSST SH-D163C DVD-ROM drive (MediaTek), flashed with vendor opcode 0xFF.

Public facts (docs/protocols.md; redumper ``drive/flash_tsst.ixx``, ``cmd_flash_tsst``
in ``scsi/cmd.ixx``): one 12-byte vendor command, opcode 0xFF, byte 2 = 01,
byte 5 the state: 00 on the first chunk, FF on the following ones, 04 on the
last chunk of a 256 KiB image (02 would end a 128 KiB one); the image goes in
0xFC00-byte chunks carried by the command.

Modelled plausibly, not known from a source:
- This drive holds 256 KiB; the end state 02 (a 128 KiB image) and any other
  state answer 5/24/00; the sequence and size refusals are those of
  ``rescue.emulator.mt1939.VendorDownload`` (5/2C/00, 5/24/00).
- Identity: the emulator's images carry INQUIRY text at 0x3FFD0
  (``rescue.emulator.images``); an image without readable text there does
  not boot, the drive then runs its loader (revision ``BOOT``). No sum is
  checked: none is public.
- After the last chunk the drive answers 2/04/07 for 20 s, then comes back
  as from a power on (6/29/00, 6/3F/01).
- READ BUFFER is not offered (5/20/00): no public command reads this flash.

Registry keys: ``state=PATH``, ``image=PATH`` as in ``rescue.emulator.mt1939``.
"""

from __future__ import annotations

from rescue.emulator.flashable import (
    VendorDownloadDrive,
    common_args,
    load_flash,
    persist_new,
)
from rescue.emulator.images import TSST_SIZE, make_tsst_image, read_tsst_identity
from rescue.emulator.mmc import PROFILE_CD_ROM, PROFILE_DVD_ROM

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.emulator.base import Device
    from rescue.emulator.registry import ModelInfo, Options

VENDOR, PRODUCT = "TSSTcorp", "DVD-ROM SH-D163C"
CHUNK = 0xFC00
END_256K = 0x04
BURN_SECONDS = 20.0
PROFILES = (PROFILE_DVD_ROM, PROFILE_CD_ROM)
KEYS = ("state", "image")


class TsstDrive(VendorDownloadDrive):
    """An SH-D163C holding ``flash``; see the module docstring for its behaviour."""

    vendor, product, profiles = VENDOR, PRODUCT, PROFILES
    flash_size, chunk, end_states = TSST_SIZE, CHUNK, (END_256K,)
    identify_flash = staticmethod(read_tsst_identity)

    def accept_download(self, image: bytes) -> None:
        self.start_burn(image, BURN_SECONDS)


def build(info: ModelInfo, options: Options) -> Device:
    """The registry's constructor for ``tsst-shd163c``."""
    flash = load_flash(options, TSST_SIZE, make_tsst_image, info.default_revision)
    return persist_new(TsstDrive(flash=flash, **common_args(options)))
