"""SCSI/MMC knowledge as pure code: CDB builders and response parsers, no I/O.

``cdb`` builds every command the tool sends and says how much data each one
moves; one module per answer type parses what comes back (``inquiry``,
``vpd``, ``configuration``, ``modepage``, ``capacity``, ``toc``, ``events``,
``buffer``, ``ata``, ``readcd``), and ``sense``/``advice`` decode failures.
Keeping this layer free of file descriptors lets the same code serve the
real SG_IO transport, the emulators and journal replays, and lets every
parser be fuzzed: whatever bytes a drive returns, the only exception a parser
raises is ``rescue.errors.ParseError``.
"""
