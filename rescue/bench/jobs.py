"""What a bench worker runs on its drive: the engine's flash, doctor or scan, into a DriveResult."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator

from rescue.bench.runner import DriveResult
from rescue.engine.checkup import DoctorOptions, Outcome, ScanOptions, doctor, scan
from rescue.engine.context import RunContext
from rescue.engine.flash import FlashJob, FlashOptions
from rescue.errors import RescueError
from rescue.firmware.image import Pinned
from rescue.record import replace

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.discovery.model import Inventory
    from rescue.firmware.model import FirmwareImage

JOBS = ("flash", "backup", "doctor", "scan")

#: What a worker would otherwise import after the fork, by the kind of DEV it opens: done
#: once in the parent, not once per drive (seconds under QEMU's TCG, all workers at once).
WORKER_MODULES = {
    "any": ("rescue.transport.journal",),  # every worker journals its drive's commands
    "emu": ("rescue.emulator.registry", "rescue.transport.emulated"),
    "replay": ("rescue.transport.replay",),
    "node": ("rescue.transport.sgio", "py_sg", "rescue.discovery.refind"),
}


def _kind(device: str) -> str:
    kind = device.partition(":")[0]
    return kind if kind in ("emu", "replay") else "node"


@contextlib.contextmanager
def prepared(
    devices: list[str], firmware: str | None = None, family: str | None = None
) -> Iterator[Pinned | None]:
    """Do once, before forking the workers, what each would otherwise do for itself.

    Imports (``WORKER_MODULES``), the shipped drive table, the firmware file of a
    batch flash (read, decoded and checked once: ``rescue.firmware.image.pinned``;
    each worker still checks it against its own drive), and one discovery pass
    that every worker's ``resolve`` then reads (``rescue.discovery.pinned``); a
    worker's ``discover()`` after its flash (finding a re-enumerated drive) still
    reads afresh. When discovery fails here, each worker finds out itself. Yields
    the pinned firmware (None without one); a firmware file that cannot be read
    raises here, before anything is forked.
    """
    from rescue.discovery import discover, pinned
    from rescue.families.table import shipped_table
    from rescue.firmware.image import pinned as pinned_image

    kinds = {_kind(d) for d in devices}
    for kind in ("any", *sorted(kinds)):
        for name in WORKER_MODULES[kind]:
            with contextlib.suppress(ImportError):  # the worker reports it, per drive
                importlib.import_module(name)
    shipped_table()
    with contextlib.ExitStack() as stack:
        image = stack.enter_context(pinned_image(firmware, family)) if firmware else None
        inventory = None
        if "node" in kinds:
            with contextlib.suppress(Exception):  # each worker's own discovery says what is wrong
                inventory = stack.enter_context(pinned(discover()))
        if image is not None and image.image is not None and inventory is not None:
            _plan_steps(stack, image.image, devices, inventory, family)
        yield image


def _plan_steps(
    stack: contextlib.ExitStack,
    image: FirmwareImage,
    devices: list[str],
    inventory: Inventory,
    family: str | None,
) -> None:
    """Build the flash's steps once per drive model of the batch (``rescue.engine.steps``),
    from the INQUIRY strings discovery read (the kernel's copy in sysfs, or udev's; no
    command is sent). A worker whose drive answers other strings (sysfs keeps the revision
    of the last scan), or takes another family, builds its own."""
    from rescue.discovery import resolve
    from rescue.engine.steps import DriveModel, planned
    from rescue.families import family_for, family_named

    chosen = family_named(family) if family else None
    models: set[DriveModel] = set()
    for device in devices:
        if _kind(device) != "node":
            continue
        try:
            node = resolve(device, inventory)
        except RescueError:
            continue
        if node.vendor is None or node.model is None or node.revision is None:
            continue
        model = DriveModel(node.vendor, node.model, node.revision)
        serving = chosen or family_for(model)
        if serving is not None and serving.name == image.family:
            models.add(model)
    if models:
        stack.enter_context(planned(family_named(image.family), image.data, models))


def flash_work(options: FlashOptions) -> Callable[[RunContext, DriveResult], None]:
    def work(ctx: RunContext, result: DriveResult) -> None:
        job = None
        try:
            job = FlashJob(replace(options, device=result.device), ctx)
            job.run()
            result.exit_code, result.result = 0, job.report.result
        except RescueError as err:
            _failure(result, err)
        finally:
            if job is not None:
                report = job.report
                result.report = str(job.report_path)
                result.journal = report.journal
                result.drive_before, result.drive_after = report.drive_before, report.drive_after
                result.extra = {
                    "family": report.family,
                    "image_revision": ((report.image or {}).get("identity") or {}).get("revision"),
                    "steps_sent": report.steps_sent,
                    "steps_total": report.steps_total,
                    "preflight": report.preflight.to_list(),
                }

    return work


def _failure(result: DriveResult, err: RescueError) -> None:
    """The drive's result from the error that ended its job: refused or failed, and why."""
    from rescue.errors import ExitCode

    result.exit_code = int(err.exit_code)
    result.result = "refused" if err.exit_code == ExitCode.REFUSED else "failed"
    result.message, result.hint, result.error = err.message, err.hint, err.to_dict()


def backup_work(ctx: RunContext, result: DriveResult) -> None:
    """The drive's firmware read out to the session folder, named by drive, with its sidecars."""
    import os
    from pathlib import Path

    from rescue.diagnostics.report import drive_tag
    from rescue.engine.backup import BackupOptions, backup

    output = Path(ctx.reports or ".") / f"backup-{drive_tag(result.device)}-{os.getpid()}.bin"
    try:
        sidecar = backup(BackupOptions(result.device, str(output)), ctx)
    except RescueError as err:
        _failure(result, err)
        return
    result.exit_code, result.result, result.report = 0, "saved", str(output)
    result.message = f"{sidecar['size']} bytes, sha256 {str(sidecar['sha256'])[:16]}"
    drive = sidecar["drive"]
    if isinstance(drive, dict):
        result.drive_before = {k: str(drive[k]) for k in ("vendor", "product", "revision")}


def doctor_work(ctx: RunContext, result: DriveResult) -> None:
    _checkup(doctor(DoctorOptions(result.device), ctx), result, "doctor")


def scan_work(ctx: RunContext, result: DriveResult) -> None:
    _checkup(scan(ScanOptions(result.device), ctx), result, "scan")


#: The jobs that need no question first (flash takes its options: ``flash_work``).
PLAIN_WORK: dict[str, Callable[[RunContext, DriveResult], None]] = {
    "backup": backup_work,
    "doctor": doctor_work,
    "scan": scan_work,
}


def _checkup(outcome: Outcome, result: DriveResult, kind: str) -> None:
    body = outcome.body
    result.exit_code = outcome.exit_code
    result.report = outcome.report
    identity = body.get("identity")
    if isinstance(identity, dict):
        result.drive_before = {k: str(v).strip() for k, v in identity.items()}
    error = outcome.error
    if error is not None:
        result.result = "failed"
        result.message, result.hint, result.error = error["message"], error.get("hint"), error
        return
    if kind == "doctor":
        result.result = str(body.get("status", "done"))
        result.message = body.get("verdict")
    else:
        bad = body.get("bad") or []
        result.result = "complete" if body.get("complete") else "stopped"
        result.message = (
            f"{sum(r['count'] for r in bad)} unreadable sectors in {len(bad)} ranges"
            if bad
            else "every sector read"
            if body.get("complete")
            else body.get("stopped_by")
        )
    result.extra = {"errors": body["errors"]} if body.get("errors") else {}


def disc_work(ctx: RunContext, result: DriveResult) -> None:
    """The screen's disc column: tray and medium, asked without touching the medium.

    GET EVENT STATUS NOTIFICATION, media class, polled (MMC-6 6.7; see
    rescue/scsi/events.py), which reports tray and medium without reading the
    medium; a drive that refuses it is asked TEST UNIT READY instead (2/3A/xx:
    no medium, 2/3A/02 tray open, as the T10 ASC table names them). Opened
    shared, as `rescue info` opens a drive; the screen never asks a drive that
    runs a job (docs/architecture.md, "The repair bench").
    """
    from rescue.devices import open_device
    from rescue.drive import Drive

    try:
        with open_device(result.device) as transport:
            drive = Drive(transport)
            try:
                media = drive.event_status().media
            except RescueError:
                media = None
            if media is not None:
                disc = "open" if media.tray_open else "disc" if media.media_present else "empty"
            else:
                sense = drive.test_unit_ready()
                disc = "disc" if sense is None else _no_disc(sense.key, sense.asc, sense.ascq)
    except RescueError as err:
        result.exit_code, result.result, result.message = int(err.exit_code), "?", err.message
        return
    result.exit_code, result.result = 0, disc


def _no_disc(key: int, asc: int, ascq: int) -> str:
    if key == 0x2 and asc == 0x3A:
        return "open" if ascq == 0x02 else "empty"
    return f"{key:X}/{asc:02X}/{ascq:02X}"
