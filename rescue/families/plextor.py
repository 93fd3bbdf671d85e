"""Plextor drives: standard WRITE BUFFER download, mode 4 per chunk and mode 5 to save.

Sources: redumper ``superg/redumper`` ``drive/flash_plextor.ixx``; pxfw 0.5,
QPxTool ``speed47/qpxtool`` @ fc1cf4c8 ``console/pxfw/pxfw.cpp`` (``main()``,
``fwblk_send()``, ``FW_convert_to_ID()``, ``PLEXTOR_convert_to_ID()``). The
facts, every check pxfw makes and rescue's equivalent, and what the capture
of pxfw flashing the emulated PX-716A shows are in docs/families/plextor.md.
Facts used here:

- every chunk but the last is WRITE BUFFER mode 4 (download microcode), the
  last is mode 5 (download and save); buffer ID 0, buffer offset and length
  the chunk's own (both peers agree);
- pxfw judges a file by the model its first 24 bytes name ("PLEXTOR " and
  the product), that model's firmware size and a 16-bit sum at the model's
  offset (rescue.firmware.layouts.plextor), and flashes only a drive that
  model serves (a PX-716A image also serves the PX-714A, a PX-712A image the
  PX-708A2, a PX-760A image the PX-755A). That last rule is checked here,
  and ``--force identity`` does not lift it: pxfw has no way around it either.

The choice, where the two peers part (tests/data/peers/pxfw-plextor.meta.json
says "differs"): rescue sends what redumper sends, TEST UNIT READY before
each chunk (a probe whose answer is ignored; redumper keeps it because
Plextor's own updater sends it) and the chunk size of redumper's model table
(``chunk`` in ``rescue/data/families.json``: 0x4000 for the PX-712A to
PX-760A, 0x1000 for the others). pxfw 0.5 sends no TUR and 0x1000 chunks to
every model but the PX-W4824A/W5224A (0x4000). redumper is the maintained
peer and the one whose sequence mirrors Plextor's own tool; pxfw's sizes come
from 2006-2009 and its 0x4000 rule contradicts redumper's for exactly the
two CD-R models, so neither source settles it further.

No read command for the flash is public: no backup. Waits are our choice.
"""

from __future__ import annotations

from rescue.errors import Refused
from rescue.families.base import Family, Identity, Step, squeeze, write_buffer_chunks
from rescue.firmware.layouts.plextor import model_of
from rescue.scsi.cdb import WriteBufferMode, test_unit_ready

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.drive import Drive

CHUNK_TIMEOUT = 60.0  # our choice


class PlextorFamily(Family):
    name = "plextor"
    title = "Plextor"
    source = "redumper drive/flash_plextor.ixx; QPxTool console/pxfw/pxfw.cpp"
    no_backup_reason = "no public command reads a Plextor drive's flash"
    settle_seconds = 10.0
    ready_timeout = 120.0

    def prepare(self, drive: Drive, data: bytes) -> bytes:
        """pxfw's model rule: the image's model must serve this drive (no override)."""
        model = model_of(data)
        product = squeeze(drive.identity.product)
        if model is None or product not in {squeeze(d) for d in model.drives}:
            named = data[8:24].decode("latin-1").strip() or "no model"
            served = ", ".join(" ".join(d.split()) for d in model.drives) if model else "none"
            raise Refused(
                f"the image is Plextor firmware for {named!r} (serves: {served}), not for this "
                f"{drive.identity.product.strip()}: pxfw refuses it too (FW is not for "
                "selected dev); nothing was sent",
                hint="use the firmware file made for this drive model",
            )
        return data

    def flash_steps(self, data: bytes, identity: Identity) -> list[Step]:
        chunk = int(self.params(identity)["chunk"])
        chunks = write_buffer_chunks(
            data,
            chunk,
            WriteBufferMode.DOWNLOAD,
            timeout=CHUNK_TIMEOUT,
            last_mode=WriteBufferMode.DOWNLOAD_SAVE,
        )
        probe = Step(label="ready?", cdb=bytes(test_unit_ready()), probe=True)
        return [step for chunk_step in chunks for step in (probe, chunk_step)]
