"""Files that are on the medium before the tool says they are saved.

Why: the boot image keeps reports, backups and journals on a USB stick that
the user pulls out as soon as the screen says "saved". A close() leaves the
data in the page cache, and a rename is only durable once the folder that
holds the name is flushed as well (fsync(2): "Calling fsync() does not
necessarily ensure that the entry in the directory containing the file has
also reached disk"). On vfat, fsync of the file writes its data and its
directory entry; the folder's own fsync covers a rename within it.

Use: ``flush`` on a file before it is renamed or closed, ``replace`` to give
a flushed temporary its final name, ``sync_folder`` after a file was created
by other means (a journal, flushed once when it is closed, not per command),
``write_bytes`` for a whole file that needs no checks. ``rescue.outputs``
decides what may be written and calls these for every file a user keeps.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import IO, Any


def flush(fh: IO[Any]) -> None:
    """Push FH's buffered data to the kernel, then the kernel's copy to the medium."""
    fh.flush()
    os.fsync(fh.fileno())


def sync_folder(folder: str | os.PathLike[str]) -> None:
    """Flush FOLDER's entries (new names, renames) to the medium."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as err:  # some file systems refuse fsync on a directory
        if err.errno not in (errno.EINVAL, errno.EOPNOTSUPP):  # nothing more can be done
            raise
    finally:
        os.close(fd)


def replace(temp: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
    """Give TEMP (written and flushed) the name TARGET, and make the new name last."""
    os.replace(temp, target)
    sync_folder(Path(target).parent)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write DATA to PATH atomically and durably; never a half file under PATH's name."""
    path = Path(path)
    temp = path.with_name(f".{path.name}.part")
    try:
        with temp.open("wb") as fh:
            fh.write(data)
            flush(fh)
        replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path
