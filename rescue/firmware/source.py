"""Reading a firmware file from disk, with every OS failure turned into one clear line.

Firmware files are small (the largest known image is 2 MiB; a BTC .HEX text of
1 MiB is under 3 MiB), so anything far larger is refused before it is read: a
wrong path to a disc image should not fill memory.
"""

from __future__ import annotations

import errno
from pathlib import Path

from rescue.errors import BadInput

MAX_FILE_BYTES = 8 * 1024 * 1024


def read_source(path: Path) -> bytes:
    """The file's bytes, or BadInput naming the file and what is wrong with it."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{path}: is a directory, not a firmware file") from None
    except PermissionError:
        raise BadInput(
            f"{path}: not readable (permission denied)", hint="check the file's permissions"
        ) from None
    except OSError as err:
        reason = err.strerror or errno.errorcode.get(err.errno or 0, "I/O error")
        raise BadInput(f"{path}: cannot be read: {reason}") from None
    if not data:
        raise BadInput(f"{path}: file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise BadInput(
            f"{path}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, not a drive firmware file"
        )
    return data
