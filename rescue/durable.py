"""Files that are on the medium before the tool says they are saved.

Why: the boot image keeps reports, backups and journals on a USB stick that
the user pulls out as soon as the screen says "saved". A close() leaves the
data in the page cache, and a rename is only durable once the folder that
holds the name is flushed as well (fsync(2): "Calling fsync() does not
necessarily ensure that the entry in the directory containing the file has
also reached disk"). On vfat, fsync of the file writes its data and its
directory entry; the folder's own fsync covers a rename within it.

Use: ``write_bytes``/``write_text`` for a whole file (temporary name in the
same folder, fsync, rename, fsync of the folder), or ``sync_file`` +
``sync_folder`` after writing a file by other means (a journal appended to
as it goes, then closed).
"""

from __future__ import annotations

import os
from pathlib import Path


def sync_folder(folder: Path) -> None:
    """Flush FOLDER's entries (new names, renames) to the medium."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as err:  # some file systems refuse fsync on a directory
        if err.errno not in (22, 95):  # EINVAL, EOPNOTSUPP: nothing more can be done
            raise
    finally:
        os.close(fd)


def sync_file(path: Path) -> None:
    """Flush PATH's data and its folder entry to the medium."""
    path = Path(path)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    sync_folder(path.parent)


def write_bytes(path: Path, data: bytes) -> Path:
    """Write DATA to PATH atomically and durably; never a half file under PATH's name."""
    path = Path(path)
    temp = path.with_name(f".{path.name}.part")
    try:
        with temp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)
    return path


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    return write_bytes(path, text.encode(encoding))
