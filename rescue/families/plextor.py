"""Plextor drives: standard WRITE BUFFER download, mode 4 per chunk and mode 5 to save.

Sources: redumper ``drive/flash_plextor.ixx``; QPxTool ``console/pxfw/pxfw.cpp``
(``speed47/qpxtool``), summarised in PROTOCOLS.md. Facts used here:

- every chunk but the last is WRITE BUFFER mode 4 (download microcode), the
  last is mode 5 (download and save); buffer offset and length are the
  chunk's own, buffer ID 0;
- Plextor's own flasher sends TEST UNIT READY before each chunk (redumper
  keeps it, unsure whether it is needed): a probe whose answer is ignored;
- the chunk size depends on the model (0x1000 or 0x4000): it is data, in
  ``rescue/data/families.json``;
- pxfw checks the file size, a 16-bit additive checksum and the model named
  in the file (the firmware layout does that) and ejects any disc first (the
  engine refuses to flash with a disc in).

No read command for the flash is public: no backup. Waits are our choice.
"""

from __future__ import annotations

from rescue.families.base import Family, Identity, Step, write_buffer_chunks
from rescue.scsi.cdb import WriteBufferMode, test_unit_ready

CHUNK_TIMEOUT = 60.0  # our choice


class PlextorFamily(Family):
    name = "plextor"
    title = "Plextor"
    source = "redumper drive/flash_plextor.ixx; QPxTool console/pxfw/pxfw.cpp"
    no_backup_reason = "no public command reads a Plextor drive's flash"
    settle_seconds = 10.0
    ready_timeout = 120.0

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
