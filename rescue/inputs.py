"""Reading a file the user named, without hanging on what only looks like a file.

Every reader of user files (reports, firmware images, mapfiles, journals,
state files) goes through ``read_user_file``: it opens without blocking
(``O_NONBLOCK``: a FIFO nobody writes to would otherwise hang the open), checks
the opened descriptor is a regular file (a device node such as ``/dev/zero``
or ``/dev/urandom`` never ends, a folder is not a file), refuses the kernel's
pseudo files under ``/proc`` and ``/sys`` (their size says 0 and some of them
block forever, e.g. ``/proc/kmsg``), and reads at most ``limit`` bytes. Each
refusal is one ``BadInput`` line naming the file (exit code 5); a file the user
may not read is ``PermissionDenied`` (exit code 4).
"""

from __future__ import annotations

import errno
import os
import stat
from functools import cache

from rescue.errors import BadInput, PermissionDenied

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from pathlib import Path

DEFAULT_LIMIT = 64 * 1024 * 1024
_DENIED = (errno.EACCES, errno.EPERM)
#: The kernel's own file systems; /dev (devtmpfs) too: a file written there is lost at
#: the next boot and is almost always a slip for a device (`-o /dev/sr0x`).
_PSEUDO_ROOTS = ("/proc", "/sys", "/dev")


def kind_of(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device node"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


@cache
def _pseudo_devices() -> frozenset[int]:
    """The file systems mounted at ``_PSEUDO_ROOTS``; a root that is a plain folder of "/"
    (nothing mounted there, as in a bare chroot) would make every file pseudo, so not it."""
    devices = set()
    try:
        system = os.stat("/").st_dev
    except OSError:
        system = None
    for root in _PSEUDO_ROOTS:
        try:
            device = os.stat(root).st_dev
        except OSError:
            continue
        if device != system:
            devices.add(device)
    return frozenset(devices)


def is_pseudo(st: os.stat_result) -> bool:
    """True for a file of procfs, sysfs or devtmpfs (the kernel's generated files)."""
    return st.st_dev in _pseudo_devices()


def read_user_file(path: str | os.PathLike[str], what: str, limit: int = DEFAULT_LIMIT) -> bytes:
    """The bytes of the regular file at ``path`` (at most ``limit``), or one clear error.

    ``what`` names the file's role in messages ("report", "firmware file", ...).
    """
    name = os.fspath(path)
    if not name:
        raise BadInput(f"{what}: an empty file name")
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise BadInput(f"{name}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{name}: is a directory, not {_a(what)}") from None
    except OSError as err:
        if err.errno in _DENIED:
            raise PermissionDenied(
                f"{name}: not readable (permission denied)", hint="check the file's permissions"
            ) from None
        raise BadInput(f"{name}: cannot be read: {_reason(err)}") from None
    try:
        st = os.fstat(fd)
        kind = kind_of(st.st_mode)
        if kind is not None:
            raise BadInput(f"{name}: is {kind}, not {_a(what)}")
        if is_pseudo(st):
            raise BadInput(f"{name}: is a kernel pseudo file (/proc, /sys, /dev), not {_a(what)}")
        if st.st_size > limit:
            raise BadInput(f"{name}: {st.st_size} bytes, too big for {_a(what)} ({_size(limit)})")
        chunks: list[bytes] = []
        got = 0
        while got <= limit:
            try:
                chunk = os.read(fd, min(1 << 20, limit + 1 - got))
            except BlockingIOError:
                raise BadInput(f"{name}: did not answer a read at once, not {_a(what)}") from None
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got > limit:
            raise BadInput(f"{name}: grows past {_size(limit)}, not {_a(what)}")
        return b"".join(chunks)
    except OSError as err:
        raise BadInput(f"{name}: cannot be read: {_reason(err)}") from None
    finally:
        os.close(fd)


def read_user_text(path: str | os.PathLike[str], what: str, limit: int = DEFAULT_LIMIT) -> str:
    """``read_user_file`` decoded as UTF-8; other bytes are one BadInput line."""
    raw = read_user_file(path, what, limit)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{os.fspath(path)}: not UTF-8 text, not {_a(what)}") from None


def check_regular(path: str | os.PathLike[str], what: str) -> Path:
    """Refuse, without reading it, a path that is not a readable regular file."""
    from pathlib import Path  # here: a scan imports this module, and no pathlib (issue 15)

    name = os.fspath(path)
    st = _stat(name, name, "file")
    kind = kind_of(st.st_mode)
    if kind is not None:
        raise BadInput(f"{name}: is {kind}, not {_a(what)}")
    if is_pseudo(st):
        raise BadInput(f"{name}: is a kernel pseudo file (/proc, /sys, /dev), not {_a(what)}")
    return Path(name)


def check_folder(path: str | os.PathLike[str], what: str) -> Path:
    """Refuse a path that is not a folder of ordinary files rescue may list and read.

    A folder of images offered for flashing (the menu's ``--firmware``) is listed and each
    file read; ``/proc`` or ``/sys`` would give dozens of pseudo files, each refused.
    """
    from pathlib import Path  # here: a scan imports this module, and no pathlib (issue 15)

    name = os.fspath(path)
    st = _stat(name, f"{what} {name}", "folder")
    if not stat.S_ISDIR(st.st_mode):
        raise BadInput(f"{what} {name}: is {kind_of(st.st_mode) or 'a file'}, not a folder")
    if is_pseudo(st):
        raise BadInput(f"{what} {name}: is a kernel pseudo folder (/proc, /sys, /dev)")
    if not os.access(name, os.R_OK | os.X_OK):
        raise PermissionDenied(
            f"{what} {name}: not readable (permission denied)",
            hint="check the folder's permissions",
        )
    return Path(name)


def _stat(name: str, label: str, noun: str) -> os.stat_result:
    """``os.stat`` (links followed), its failure one BadInput line starting with LABEL."""
    try:
        return os.stat(name)
    except FileNotFoundError:
        raise BadInput(f"{label}: no such {noun}") from None
    except OSError as err:
        raise BadInput(f"{label}: cannot be read: {_reason(err)}") from None


def _reason(err: OSError) -> str:
    return err.strerror or errno.errorcode.get(err.errno or 0, "I/O error")


def _size(limit: int) -> str:
    return f"at most {limit // (1024 * 1024)} MiB" if limit >= 1 << 20 else f"at most {limit} bytes"


def _a(what: str) -> str:
    """``what`` with its article: "a firmware file", "an image file"."""
    return f"an {what}" if what[:1].lower() in "aeiou" else f"a {what}"


def file_name(text: str) -> str:
    """argparse's ``type`` for a FILE argument: '' is refused at once (exit 2), where a
    ``Path('')`` would quietly become '.', the current folder."""
    if not text:
        import argparse

        raise argparse.ArgumentTypeError("an empty file name")
    return text
