"""The one place that decides whether rescue may write a file, and writes it safely.

Output paths (a backup's ``-o``, scan's ``--mapfile``, ``--journal``, the
``--reports`` folder, an emulated drive's ``state=``) are chosen by the user,
so a slip of the keyboard must never destroy something. The rules:

- a device node, a FIFO or socket, a folder, or a symbolic link is never
  written to or replaced (writing "through" a link would change its target);
- an existing regular file is replaced only when the caller says it may be:
  ``overwrite=True`` (an explicit ``--overwrite``), or ``existing=UPDATE`` for a
  file the command owns by design (a mapfile it resumes, a journal it appends
  to) after the caller has checked the content is of that kind;
- a missing folder is never created silently: the error names it (the reports
  folder itself may be created inside an existing parent, as documented);
- ``preflight_*`` checks run before any long work, so a scan of a whole disc
  never ends in "cannot write";
- ``write_atomic`` writes a temporary file in the same folder and renames it,
  so a crash or a full disc leaves the old file or none, never half of one;
- every file written here is on the medium before the call returns: its data
  is flushed (fsync) before the rename and its folder after it
  (``rescue.durable``), so the command's "saved" line, printed after, is true
  even when the user pulls the stick or cuts the power at once;
- if writing still fails at the end, ``keep_fallback`` stores the data in the
  system's temporary folder and the command names that file in its message.

Refusals are ``BadInput`` (exit code 5); the OS saying no is ``PermissionDenied``
(exit code 4). Every message is one line naming the path, spelled as pathlib spells
it (``rescue.paths``, which spares a scan pathlib's imports). A function given a
``Path`` returns one; given text, it returns text.
"""

from __future__ import annotations

import errno
import os
import stat
from enum import Enum

from rescue import paths
from rescue.errors import BadInput, PermissionDenied, RescueError
from rescue.inputs import is_pseudo, kind_of

_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)
HINT = "name a new file in a folder you can write"


class Existing(Enum):
    """What to do when the output path already holds a regular file."""

    REFUSE = "refuse"  # a new file only (unless overwrite=True)
    UPDATE = "update"  # the caller owns it (checked its content): replace or append


def _error(err: OSError, message: str, hint: str | None = None) -> RescueError:
    reason = err.strerror or errno.errorcode.get(err.errno or 0, "error")
    if err.errno in _DENIED:
        return PermissionDenied(f"{message}: {reason}", hint=hint)
    return BadInput(f"{message}: {reason}", hint=hint)


def _lstat(path: str, what: str = "") -> os.stat_result | None:
    said = f"{what} {path}" if what else str(path)
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise BadInput(f"{said}: a part of the path is not a folder", hint=HINT) from None
    except OSError as err:
        raise _error(err, f"{said}: cannot be checked", HINT) from None


def check_folder(
    folder: str | os.PathLike[str], what: str, *, may_create: bool = False
) -> str | os.PathLike[str]:
    """``folder`` exists (or, with ``may_create``, its parent does) and can be written into."""
    return paths.like(folder, _check_folder(paths.pure(folder), what, may_create))


def _check_folder(path: str, what: str, may_create: bool) -> str:
    st = _lstat(path, what)
    if st is None:
        parent = paths.parent(path)
        if not may_create:
            raise BadInput(
                f"{what} {path}: no such folder", hint="create it first, or name another"
            )
        pst = _lstat(parent, what)
        if pst is None or not stat.S_ISDIR(pst.st_mode):
            reason = "no such folder" if pst is None else f"is {kind_of(pst.st_mode)}"
            raise BadInput(
                f"{what} {path}: its parent folder {parent} {reason}; rescue does not create it",
                hint="create the folder first, or name another",
            )
        if is_pseudo(pst):
            raise BadInput(f"{what} {path}: {parent} is a kernel pseudo folder (/proc, /sys, /dev)")
        _writable(parent, f"{what} {path}: cannot create it in {parent}")
        return path
    if stat.S_ISLNK(st.st_mode):
        try:
            st = os.stat(path)  # a link to a folder is fine: files are made inside it
        except OSError:
            raise BadInput(f"{what} {path}: a link to nothing", hint=HINT) from None
    if not stat.S_ISDIR(st.st_mode):
        raise BadInput(f"{what} {path}: is {kind_of(st.st_mode) or 'a file'}, not a folder")
    if is_pseudo(st):
        raise BadInput(f"{what} {path}: is a kernel pseudo folder (/proc, /sys, /dev)")
    _writable(path, f"{what} {path}: cannot write into it")
    return path


def _writable(folder: str, message: str) -> None:
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionDenied(f"{message}: permission denied", hint=HINT)


def check_file(
    path: str | os.PathLike[str],
    what: str,
    *,
    overwrite: bool = False,
    existing: Existing = Existing.REFUSE,
) -> str | os.PathLike[str]:
    """Raise unless ``path`` may be written (see the module rules); returns it, spelled as
    pathlib spells it."""
    return paths.like(path, _check_file(path, what, overwrite, existing))


def _check_file(
    path: str | os.PathLike[str], what: str, overwrite: bool, existing: Existing
) -> str:
    target = paths.pure(path)
    if not str(path):
        raise BadInput(f"{what}: an empty file name")
    st = _lstat(target, what)
    if st is None and str(path).endswith(os.sep):  # pure() drops the "/" the user typed
        raise BadInput(
            f"{what} {path}: ends in /, so it names a folder, and there is none; "
            "rescue does not create it",
            hint="name a file (FOLDER/NAME) in a folder that exists",
        )
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise BadInput(
                f"{what} {target}: is a symbolic link; rescue does not write through links",
                hint=HINT,
            )
        kind = kind_of(st.st_mode)
        if kind is not None:
            raise BadInput(f"{what} {target}: is {kind}; rescue writes only regular files")
        if is_pseudo(st):
            raise BadInput(f"{what} {target}: is a kernel pseudo file (/proc, /sys, /dev)")
        if existing is Existing.REFUSE and not overwrite:
            raise BadInput(
                f"{what} {target}: already exists; rescue does not replace a file it did not write",
                hint="name a new file, or pass --overwrite to replace it",
            )
        if not os.access(target, os.W_OK):
            raise PermissionDenied(f"{what} {target}: not writable (permission denied)", hint=HINT)
    parent = paths.parent(target)
    pst = _lstat(parent, what)
    if pst is None:
        raise BadInput(
            f"{what} {target}: the folder {parent} does not exist; rescue does not create it",
            hint="create the folder first, or name another",
        )
    try:
        followed = os.stat(parent)
    except OSError as err:
        raise _error(err, f"{what} {target}: the folder {parent} cannot be used", HINT) from None
    if not stat.S_ISDIR(followed.st_mode):
        raise BadInput(f"{what} {target}: {parent} is not a folder")
    if is_pseudo(pst) or is_pseudo(followed):  # a link to /proc is /proc
        raise BadInput(f"{what} {target}: {parent} is a kernel pseudo folder (/proc, /sys, /dev)")
    _writable(parent, f"{what} {target}: cannot write into {parent}")
    return target


def write_atomic(
    path: str | os.PathLike[str],
    data: bytes | str,
    what: str,
    *,
    overwrite: bool = False,
    existing: Existing = Existing.REFUSE,
    sync: bool = True,
) -> str | os.PathLike[str]:
    """Check ``path`` again, then write ``data`` to a temporary file beside it and rename.

    An existing file keeps its permission bits; a new one gets 0666 less the umask.
    ``sync=False`` leaves the folder's flush (the new name on the medium) to the caller,
    who writes several files into one folder and then flushes it once
    (``rescue.durable.sync_folder``) before it says they are saved.
    """
    target = _check_file(path, what, overwrite, existing)
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    old = _lstat(target)
    from rescue import durable  # here, not at import: a command loads it when it writes

    try:
        fd, temp = _temp_beside(target)
    except OSError as err:
        raise _error(
            err, f"{what} {target}: cannot write into {paths.parent(target)}", HINT
        ) from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(raw)
            durable.flush(out)
        os.chmod(temp, stat.S_IMODE(old.st_mode) if old else 0o666 & ~_umask())
        if _lstat(target) is not None and old is None and not overwrite:
            raise BadInput(f"{what} {target}: appeared while rescue was writing it; left alone")
        durable.replace(temp, target, sync=sync)
    except OSError as err:
        _remove(temp)
        raise _error(err, f"{what} {target}: cannot write it", HINT) from None
    except BaseException:
        _remove(temp)
        raise
    return paths.like(path, target)


def _temp_beside(target: str) -> tuple[int, str]:
    """A new, empty, private file beside ``target`` for its next contents, and its name.

    What ``tempfile.mkstemp`` makes (O_EXCL, no link followed, mode 0600, a
    random name, another name on a clash), made here because importing
    tempfile brings shutil and random, a tenth of a scan's start-up under an
    emulated CPU (docs/performance.md).
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    folder, name = paths.parent(target), paths.name(target)
    for _ in range(100):
        temp = os.path.join(folder, f".{name[:80]}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(temp, flags, 0o600), temp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", folder)


def flush_folder(folder: str, what: str, path: str) -> None:
    """Put on the medium the names of the files written into FOLDER with ``sync=False``
    (PATH the last of them); a failure is one line, as ``write_atomic`` words its own."""
    from rescue import durable

    try:
        durable.sync_folder(folder)
    except OSError as err:
        raise _error(err, f"{what} {path}: cannot write it", HINT) from None


def create_new(
    path: str | os.PathLike[str], data: bytes | str, what: str, *, sync: bool = True
) -> bool:
    """Write ``data`` to ``path`` only if nothing is there; False if something is.

    The name is claimed first with an empty file (O_EXCL: two runs never get the
    same name), then filled as ``write_atomic`` fills any file, so a power cut
    leaves that empty claim or the whole file, never half of one. ``sync`` as for
    ``write_atomic``.
    """
    try:
        fd = os.open(
            path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666
        )
    except FileExistsError:
        return False
    except OSError as err:
        raise _error(err, f"{what} {path}: cannot create it", HINT) from None
    os.close(fd)
    try:
        write_atomic(path, data, what, existing=Existing.UPDATE, sync=sync)
    except BaseException:
        _remove(str(path))
        raise
    return True


def keep_fallback(kind: str, data: bytes | str, suffix: str) -> str | None:
    """Store ``data`` in a new file of the system's temporary folder; None if even that fails."""
    raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    import tempfile  # only a command that writes loads it (see write_atomic)

    from rescue import durable

    try:
        fd, name = tempfile.mkstemp(prefix=f"rescue-{kind}-", suffix=suffix)
        with os.fdopen(fd, "wb") as out:
            out.write(raw)
            durable.flush(out)
        durable.sync_folder(paths.parent(name))
    except OSError:
        return None
    return name


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _remove(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass


def tell(errors: list[RescueError]) -> int:
    """Print each error as the CLI does (one line, and its hint) on stderr; the first's code."""
    import sys

    for err in errors:
        print(f"error: {err.message}", file=sys.stderr)
        if err.hint:
            print(f"next: {err.hint}", file=sys.stderr)
    return int(errors[0].exit_code)
