"""The backup engine: read a drive's firmware out, where its family allows it.

``backup(BackupOptions(device, output), RunContext(...)) -> dict`` is the
library API (the dict is the sidecar written next to the image); `rescue
backup` (``rescue.ops.backup``) and the flasher's backup-before-flash are
faces over it. The image is written atomically (a temporary file in the same
directory, fsync, rename), so a crash never leaves a half backup under the
real name; ``FILE.sha256`` (sha256sum format) and ``FILE.json`` (drive
identity, family, method, date) sit next to it so a backup found on a stick
months later still says what it is. Families with no read command (BTC,
TSST, Plextor, ...) are refused with the reason, never faked.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn

from rescue import outputs
from rescue.devices import open_device
from rescue.engine.context import RunContext
from rescue.errors import Interrupted, RescueError, UsageError
from rescue.families import Family, resolve_family
from rescue.ops.safety import drive_key, exclusive_lock
from rescue.record import record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.drive import Drive


@record(frozen=True)
class BackupOptions:
    """Which drive, where the image goes, and (rarely) the protocol to read it with."""

    device: str
    output: str
    family: str | None = None
    force_family: bool = False
    overwrite: bool = False  # replace an existing regular file at ``output`` (and its sidecars)


def backup(options: BackupOptions, ctx: RunContext | None = None) -> dict[str, object]:
    """Back the drive's flash up to ``options.output``; returns the sidecar written beside it."""
    from rescue.drive import Drive
    from rescue.engine.flash import chosen_risk

    ctx = ctx or RunContext()
    # Before the drive is touched; the image first: a folder ("/", ".") names no sidecars.
    outputs.check_file(options.output, "-o", overwrite=options.overwrite)
    for path in backup_files(Path(options.output))[1:]:
        outputs.check_file(path, "-o", overwrite=options.overwrite)
    _apart_from_journal(Path(options.output), ctx.journal)
    ctx.emit(options.device, "stage", "open")
    with open_device(options.device, ctx.journal, exclusive=True) as transport:
        drive = Drive(transport)
        drive.settle()  # a reset drive reports unit attentions before anything else
        match = resolve_family(drive, options.family, force=options.force_family)
        family = match.family
        if match.chosen:
            ctx.emit(options.device, "note", f"warning: {chosen_risk(match)}")
            print(f"warning: {chosen_risk(match)}", file=sys.stderr)
        with exclusive_lock(drive_key(transport)):
            ctx.emit(options.device, "stage", "backup", detail=family.backup_method)

            def progress(done: int, total: int) -> None:
                ctx.emit(options.device, "progress", "backup", done=done, total=total)

            sidecar = take_backup(
                drive,
                family,
                Path(options.output),
                quiet=ctx.quiet,
                on_progress=progress,
                overwrite=options.overwrite,
            )
    ctx.emit(options.device, "stage", "done", detail="success")
    return sidecar


def _apart_from_journal(output: Path, journal: str | None) -> None:
    """`-o x.bin --journal x.bin` (or x.bin.json): the journal, opened first, took the name
    and the finished backup was refused at the end; now refused before the drive is read."""
    if journal is None:
        return
    for path in backup_files(output):
        if os.path.realpath(path) == os.path.realpath(journal):
            raise UsageError(f"-o and --journal both name {path}: give each its own file")


def take_backup(
    drive: Drive,
    family: Family,
    path: Path,
    *,
    quiet: bool,
    on_progress: Callable[[int, int], None] | None = None,
    overwrite: bool = False,
) -> dict[str, object]:
    """Read the flash with the family's method and store it with its checksum and sidecar.

    The bar appears with the first bytes read, not before: a family that cannot back up
    (or a drive that refuses the first read) is one line of refusal, no bar drawn for it.
    """
    progress = Progress(
        TextColumn("backup"),
        BarColumn(),
        DownloadColumn(),
        console=Console(stderr=True),
        disable=quiet,
    )
    task: list[TaskID] = []

    reached = [0, 0]  # bytes read, of how many: what an interrupt reports

    def advance(done: int, total: int) -> None:
        reached[:] = [done, total]
        if not task:
            progress.start()
            task.append(progress.add_task("backup", total=total))
        progress.update(task[0], completed=done, total=total)
        if on_progress is not None:
            on_progress(done, total)

    try:
        data = family.backup(drive, advance)
    except KeyboardInterrupt:
        raise _stopped(path, reached) from None
    finally:
        progress.stop()
    identity = drive.identity
    sidecar: dict[str, object] = {
        "file": path.name,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "drive": {
            "vendor": identity.vendor.strip(),
            "product": identity.product.strip(),
            "revision": identity.revision.strip(),
            "device": drive.transport.name,
        },
        "family": family.name,
        "method": family.backup_method,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        _store(path, data, sidecar, overwrite)
    except RescueError as err:
        raise _kept_elsewhere(err, data, str(sidecar["sha256"])) from None
    return sidecar


def _stopped(path: Path, reached: list[int]) -> Interrupted:
    """Ctrl-C while the flash is read: a backup only reads, so the drive is as it was, and
    nothing was written (the files are written after the last read)."""
    done, total = reached
    got = f"{done} of {total} bytes read" if total else "before the first read"
    return Interrupted(
        f"backup stopped by Ctrl-C ({got}); nothing was written to {path}, and the drive was "
        "only read, so it is as it was",
        hint="run the same command again to take the backup",
    )


def _store(path: Path, data: bytes, sidecar: dict[str, object], overwrite: bool) -> None:
    image, checksum, json_file = backup_files(path)
    outputs.write_atomic(image, data, "-o", overwrite=overwrite)
    digest_line = sha256sum_line(str(sidecar["sha256"]), path.name)
    outputs.write_atomic(checksum, digest_line, "-o", overwrite=overwrite)
    outputs.write_atomic(json_file, json.dumps(sidecar, indent=2) + "\n", "-o", overwrite=overwrite)


def _kept_elsewhere(err: RescueError, data: bytes, digest: str) -> RescueError:
    """A flash read in full is not thrown away because ``-o`` filled up or vanished: it goes to
    the temporary folder (``outputs.keep_fallback``) and the error names it (issue 11)."""
    kept = outputs.keep_fallback("backup", data, ".bin")
    where = f"the backup is kept in {kept} (sha256 {digest})" if kept else "it could not be kept"
    if kept is None:
        return type(err)(f"{err.message}; {where}", err.hint)
    hint = f"move {kept} to a safe place (a stick, another disk) before you power off"
    return type(err)(f"{err.message}; {where}", hint)


def sha256sum_line(digest: str, name: str) -> str:
    """The line `sha256sum -c` checks: GNU's format, in which a name with a backslash or a
    newline is escaped and the line then starts with a backslash (coreutils' manual, md5sum)."""
    if "\\" in name or "\n" in name:
        return f"\\{digest}  " + name.replace("\\", "\\\\").replace("\n", "\\n") + "\n"
    return f"{digest}  {name}\n"


def backup_files(path: Path) -> tuple[Path, Path, Path]:
    """The image and the two files written beside it (sha256sum line, JSON sidecar)."""
    return path, path.with_name(path.name + ".sha256"), path.with_name(path.name + ".json")
