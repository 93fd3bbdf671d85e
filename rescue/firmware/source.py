"""Reading a firmware file from disk, with every OS failure turned into one clear line.

Firmware files are small (the largest known image is 2 MiB; a BTC .HEX text of
1 MiB is under 3 MiB), so anything far larger is refused before it is read: a
wrong path to a disc image should not fill memory.
"""

from __future__ import annotations

from pathlib import Path

from rescue.errors import BadInput
from rescue.inputs import read_user_file

MAX_FILE_BYTES = 8 * 1024 * 1024


def read_source(path: Path) -> bytes:
    """The file's bytes, or BadInput (PermissionDenied) naming the file and what is wrong.

    Special files (``/dev/zero``, a FIFO, ``/proc`` files, folders) are refused
    before a byte is read (``rescue.inputs``), so nothing hangs or fills memory.
    """
    try:  # a file the OS will not let us read stays PermissionDenied (exit 4, README)
        data = read_user_file(path, "firmware file", MAX_FILE_BYTES)
    except BadInput as err:
        if "too big" in err.message or "grows past" in err.message:
            raise BadInput(
                f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, "
                "not a drive firmware file"
            ) from None
        raise
    if not data:
        raise BadInput(f"{path}: file is empty")
    return data
