"""Generic SPC download microcode, for drives that advertise MMC feature 0x0104.

Sources: SPC-4 WRITE BUFFER as documented by sg3_utils (``doc/sg_write_buffer.8``,
``lib/sg_lib_data.c``) and fwupd's SCSI plug-in (``plugins/scsi/fu-scsi-device.c``),
summarised in docs/protocols.md. Facts used here:

- mode 0Eh downloads microcode with offsets, saves it and defers activation;
  mode 0Fh then activates the deferred microcode: nothing runs until every
  chunk has arrived, which is why this mode pair is used rather than mode 7,
  which may activate as soon as the device thinks it has everything;
- fwupd sends 4 KiB chunks with a 60 s timeout; sg_write_buffer's default
  timeout is 300 s per command;
- a drive advertises support with feature 0x0104 (Microcode Upgrade).

docs/protocols.md warns that no optical drive is known to accept a plain SPC
download of its raw image: this family serves drives that say they do, and
an SPC image carries no identity, so flashing one always needs
``--force identity`` from the user. There is no standard read-back.
"""

from __future__ import annotations

from pathlib import Path

from rescue.families.base import Family, Identity, Step, write_buffer_chunks
from rescue.scsi.cdb import WriteBufferMode, write_buffer

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.firmware import FirmwareImage

CHUNK = 0x1000  # fwupd
CHUNK_TIMEOUT = 60.0  # fwupd
ACTIVATE_TIMEOUT = 300.0  # sg_write_buffer's default


class SpcFamily(Family):
    name = "spc"
    title = "SPC download microcode (feature 0x0104)"
    source = "sg3_utils sg_write_buffer(8); fwupd plugins/scsi"
    no_backup_reason = "SPC defines no command that reads microcode back"
    settle_seconds = 5.0
    ready_timeout = 300.0

    def load_image(self, path: str | Path) -> FirmwareImage:
        """Any non-empty file: SPC knows no image format, so nothing inside is checked."""
        from hashlib import sha256  # here: the families load for every drive command (issue 15)

        from rescue.firmware.model import Checksum, FirmwareImage
        from rescue.firmware.model import Identity as ImageIdentity
        from rescue.firmware.source import read_source

        path = Path(path)
        data = read_source(path)
        return FirmwareImage(
            path=path,
            format="bin",
            family=self.name,
            size=len(data),
            data=data,
            identity=ImageIdentity(),
            checksum=Checksum(None),
            sha256=sha256(data).hexdigest(),
            notes=["SPC microcode has no public format: nothing inside the file is checked"],
        )

    def validate(self, image: FirmwareImage) -> list[str]:
        """SPC has no format of its own, so a valid image of another family that names its
        drive is not SPC microcode: sent as plain WRITE BUFFER data it can only be refused
        by the drive halfway, or worse, taken. A bare size proves nothing."""
        from rescue.firmware.layouts import detect

        if not image.size:
            return ["the file is empty"]
        other = detect(image.data)
        if other is None:
            return []
        found = other.analyse(image.data)
        named = " ".join(filter(None, (found.identity.vendor, found.identity.product)))
        if found.problems or not named:  # a size alone proves nothing
            return []
        return [
            f"the file is a valid {other.FAMILY} image for {named} ({other.TITLE}), not SPC "
            "microcode: flash it onto a drive of that family"
        ]

    def flash_steps(self, data: bytes, identity: Identity) -> list[Step]:
        chunks = write_buffer_chunks(
            data, CHUNK, WriteBufferMode.DOWNLOAD_OFFSETS_SAVE_DEFER, timeout=CHUNK_TIMEOUT
        )
        activate = Step(
            label="activate deferred microcode (mode 0F)",
            cdb=bytes(write_buffer(WriteBufferMode.ACTIVATE_DEFERRED, 0, 0, 0)),
            timeout=ACTIVATE_TIMEOUT,
            commit=True,
        )
        return [*chunks, activate]
