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

import contextlib
import errno
import os

from rescue import paths

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


def replace(
    temp: str | os.PathLike[str], target: str | os.PathLike[str], *, sync: bool = True
) -> None:
    """Give TEMP (written and flushed) the name TARGET, and make the new name last.

    ``sync=False``: the caller flushes TARGET's folder itself, once for several files
    renamed into it, before it tells anyone they are saved."""
    os.replace(temp, target)
    if sync:
        sync_folder(paths.parent(target))


def write_bytes(path: str | os.PathLike[str], data: bytes) -> str | os.PathLike[str]:
    """Write DATA to PATH atomically and durably; never a half file under PATH's name.
    Returns PATH (a ``Path`` for a ``Path``, text for text)."""
    target = paths.pure(path)
    temp = os.path.join(paths.parent(target), f".{paths.name(target)}.part")
    try:
        with open(temp, "wb") as fh:
            fh.write(data)
            flush(fh)
        replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    return paths.like(path, target)
