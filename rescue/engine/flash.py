"""The flashing engine: write a firmware image with every safety check, then prove it.

``flash(FlashOptions(device, firmware, ...), RunContext(...)) -> FlashReport``
is the library API; `rescue flash` (``rescue.ops.flash``), the menu and
`rescue bench` are faces over it. One ``FlashJob`` carries the run: its
options, its context, the report being filled, and the report's file name.

The order follows docs/architecture.md's safety policy: the image must parse and
validate for the drive's family; the drive's identity must match the image's;
the catalog must not call the jump unsafe; a backup is taken where the family
can read its flash (else ``no_backup`` must say the user accepts that); no
disc; nobody else holding the drive (a lock held from the first command to
the last); media polling and udev's tray lock off; the user's YES. Only then
are write-class commands sent, each once. Afterwards the drive is polled until
it is back (unit attentions expected), its identity re-read and compared with
the image, and a report written next to the journal of every command sent.

After a success, ``read_test`` (or a yes to the question asked on a
terminal) runs doctor's read test on a disc: the drive was empty for the
flash, so on a terminal the user is asked to insert one and the drive is
polled until it is loaded; without a terminal and without a disc the report
says the test was skipped. Its verdict goes into the report beside the
flash's result, which it never changes: a good flash with a scratched test
disc is still a good flash.

``force={"identity"}`` (a cross-flash) and ``force={"plan"}`` (a jump the
catalog calls unsafe) override exactly that check and are written into the
report; nothing overrides an invalid image.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path
from shlex import quote

from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from rescue import __version__
from rescue.devices import open_device
from rescue.diagnostics.doctor import OK, PROBLEM, read_test_after_flash
from rescue.diagnostics.report import drive_tag, reports_dir, write_html_beside
from rescue.discovery.refind import remember_node
from rescue.engine.context import RunContext
from rescue.engine.interrupts import FlashInterrupted, InterruptGuard
from rescue.engine.steps import steps_for
from rescue.errors import BadInput, Refused, RescueError, VerifyFailed
from rescue.families import Family, Match, Step, resolve_family
from rescue.families.base import StepFailed, run_steps, squeeze, wait_until_back
from rescue.firmware.plan import revision_key
from rescue.ops.pathcheck import bridge_or_drive, check_path, path_of
from rescue.ops.plan import catalog_entry, plan_text, upgrade_plan
from rescue.ops.safety import (
    Preflight,
    check_no_disc,
    confirm,
    drive_key,
    exclusive_lock,
    quiet_drive,
)
from rescue.record import field, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from rescue.discovery.path import PathInfo
    from rescue.discovery.refind import DriveKey
    from rescue.drive import Drive
    from rescue.transport.journal import Journal

FORCE_CHOICES = ("identity", "plan", "family", "downgrade")
INVALID_OPCODE = "5/20/00"
SKIPPED = "skipped"
#: The write bar and its progress events move this many times per flash (a whole percent).
PROGRESS_STEPS = 100


@record(frozen=True)
class FlashOptions:
    """What to flash where; consent, journal and reports folder are the run's (RunContext)."""

    device: str
    firmware: str
    dry_run: bool = False
    no_backup: bool = False
    force: frozenset[str] = frozenset()
    family: str | None = None
    read_test: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.force) - set(FORCE_CHOICES)
        if unknown:
            raise ValueError(f"unknown force {sorted(unknown)}; choose from {FORCE_CHOICES}")
        object.__setattr__(self, "force", frozenset(self.force))


def remember(transport: Any) -> DriveKey | None:
    """What finds this drive again if it re-enumerates; None for emulated or replayed ones,
    and None when discovery cannot tell (the flash then goes on without that safety net)."""
    if not transport.real_hardware:
        return None
    try:
        return remember_node(transport.path)
    except (RescueError, OSError):
        return None


def chosen_risk(match: Match) -> str:
    """What the user takes on by naming the protocol of a drive (``--family``)."""
    table = (
        f"the drive table serves this drive as {match.overridden}; you forced"
        if match.overridden
        else "this drive is not in rescue's table; you chose"
    )
    return (
        f"{table} the {match.family.name} protocol; a wrong protocol can leave the drive unusable"
    )


@record
class FlashReport:
    """Everything the run learnt, written as JSON next to the journal."""

    device: str
    firmware: str
    journal: str
    dry_run: bool
    forced: list[str]
    started: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    result: str = "not started"
    drive_before: dict[str, str] | None = None
    drive_after: dict[str, str] | None = None
    device_after: str | None = None  # the node it came back on, when it re-enumerated
    family: str | None = None
    family_match: dict[str, object] | None = None  # the table row (and file), or --family
    image: dict[str, Any] | None = None
    preflight: Preflight = field(default_factory=Preflight)
    steps_total: int = 0
    steps_sent: int = 0
    wait_events: list[str] = field(default_factory=list)
    backup: str | None = None
    error: dict[str, object] | None = None
    commands: list[dict[str, object]] = field(default_factory=list)  # dry run: what would go
    read_test: dict[str, Any] | None = None  # doctor's read test after the flash, when run
    journal_incomplete: str | None = None  # where the journal stops and why (a full medium)

    def to_dict(self) -> dict[str, Any]:
        data = {"kind": "flash", "rescue_version": __version__, **self.__dict__}
        data["preflight"] = self.preflight.to_list()
        return data


class JournalLost(BadInput):
    """The journal could not be written before the commit: the flash stops unsaved."""


class FlashFailed(RescueError):
    """A write step failed; keeps the drive's own error (and its exit category) as the cause."""

    def __init__(self, message: str, hint: str | None, *, cause: RescueError) -> None:
        super().__init__(message, hint)
        self.cause = cause
        self.exit_code = cause.exit_code

    def to_dict(self) -> dict[str, object]:
        return super().to_dict() | {"cause": self.cause.to_dict()}


def flash(options: FlashOptions, ctx: RunContext | None = None) -> FlashReport:
    """Flash one drive; returns the report of a success (or a dry run).

    A failure raises its ``RescueError`` (exit category kept) after the report
    is saved; ``FlashJob`` keeps the report and its path for a caller that
    must know them either way (the bench).
    """
    return FlashJob(options, ctx or RunContext()).run()


def _ident(identity: Any) -> dict[str, str]:
    return {
        "vendor": (identity.vendor or "").strip(),
        "product": (identity.product or "").strip(),
        "revision": (identity.revision or "").strip(),
    }


def _report_base(directory: Path, tag: str = "") -> Path:
    """A fresh ``flash-<drive>-<UTC time>-<pid>-<n>`` name (``drive_tag``: model and
    serial): reports name their drive and never overwrite each other."""
    stem = f"flash-{tag + '-' if tag else ''}{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    stem += f"-{os.getpid()}"
    number = 1
    while list(directory.glob(f"{stem}-{number}.*")):
        number += 1
    return directory / f"{stem}-{number}"


class FlashJob:
    """One flash: options, context, the report being filled and where it is saved."""

    def __init__(self, options: FlashOptions, ctx: RunContext) -> None:
        self.options = options
        self.ctx = ctx
        if ctx.journal:  # a --journal rescue may not write stops here, before a report names it
            from rescue.transport.journal import check_journal_target

            check_journal_target(ctx.journal)
        self.base = _report_base(reports_dir(ctx.reports), drive_tag(options.device))
        journal = Path(ctx.journal) if ctx.journal else self.base.with_suffix(".journal.jsonl")
        self.report = FlashReport(
            options.device, str(options.firmware), str(journal), options.dry_run,
            sorted(options.force),
        )  # fmt: skip
        self.report_path = self.base.with_suffix(".json")
        self.guard = InterruptGuard()
        self.path: PathInfo | None = None  # how the drive is attached, once it is open
        self.direction_warning = ""  # "DOWNGRADE 0043 -> 0040. " for the confirmation
        self.device = options.device  # where the drive is now: a new node after it re-enumerates
        self.journals: list[Journal] = []  # each transport's journal (a re-enumerated drive's too)

    # --- the run, start to end -----------------------------------------------------------------

    def run(self, finish: Callable[[FlashReport], None] | None = None) -> FlashReport:
        """Flash; on success FINISH (the CLI's --json print) runs while Ctrl-C still waits,
        so a press at the very end can no longer cut off what the user asked to see."""
        try:
            self._flash()
        except KeyboardInterrupt:  # before the guard went up: nothing had been sent to flash
            stopped = FlashInterrupted(
                "stopped by Ctrl-C before the first write: nothing was sent to the drive's flash",
                hint="run the same `rescue flash` again when ready",
            )
            self.report.result = "interrupted"
            self.report.error = stopped.to_dict()
            self._save()
            self._stage("done", "interrupted")
            raise stopped from None
        except RescueError as err:
            self._name_the_new_node(err)
            self.report.result = "interrupted" if isinstance(err, FlashInterrupted) else "failed"
            self.report.error = err.to_dict()
            self._note_journal()
            self._save()
            self._stage("done", f"failed: {err.message}")
            raise
        else:  # the guard is still up: a Ctrl-C now waits until the report is saved
            self._note_journal()
            self._save()
            self._stage("done", self.report.result)
            if finish is not None:
                finish(self.report)
        finally:
            self.guard.__exit__(None, None, None)
        return self.report

    # --- the journal: once the commit is sent, its failure never stops the flash ----------------

    def _keep_journal(self, transport: Any) -> None:
        """Follow this transport's journal; the flash, not the journal, reports its failure."""
        if transport.journal is not None:
            transport.journal.caller_reports_failure = True
            self.journals.append(transport.journal)

    def _stop_if_journal_lost(self, where: str) -> None:
        """Before the commit, a journal that cannot be written stops the flash here: the
        user asked for a record of every command, and nothing is on flash yet."""
        failure = next((j.failure for j in self.journals if j.failure), None)
        if failure is None or self.guard.committed:
            return
        revision = (self.report.drive_before or {}).get("revision", "?")
        raise JournalLost(
            f"journal {self.report.journal}: cannot write it ({failure}), stopped {where}: "
            f"nothing was committed, the drive is as it was (revision {revision})",
            hint="free space on the journal's medium (or name another --journal), then run "
            "the same `rescue flash` again",
        )

    def _note_journal(self) -> None:
        """After the commit a journal failure is a note: in the report and on stderr."""
        lost = next((j.incomplete() for j in self.journals if j.failure), None)
        if lost is None:
            return
        self.report.journal_incomplete = lost
        if self.guard.committed:  # before it, the flash's own error says so
            print(f"warning: the journal is incomplete: {lost}", file=sys.stderr)

    def _stage(self, name: str, detail: str = "") -> None:
        self.ctx.emit(self.options.device, "stage", name, detail=detail)

    def _save(self) -> None:
        """Write the report beside its journal; never replace a file, never hide the outcome.

        The folder was checked (and made) by ``reports_dir`` before anything was sent;
        if the write still fails, the report is kept in the temporary folder and the
        message names it: the flash's own outcome and exit code stand.
        """
        from rescue import outputs

        path = self.report_path
        document = self.report.to_dict()
        text = json.dumps(document, indent=2) + "\n"
        try:
            if not outputs.create_new(path, text, "report"):
                raise BadInput(f"report {path}: already exists; rescue does not replace it")
            page = write_html_beside(path, document)
        except RescueError as err:
            kept = outputs.keep_fallback("flash", text, ".json")
            where = f"kept in {kept}" if kept else "and could not be kept anywhere"
            print(f"error: {err.message}; the report is {where}", file=sys.stderr)
            return
        if not self.ctx.quiet:
            self.ctx.console.print(
                f"report: {path} (page: {page.name})  journal: {self.report.journal}"
                + (" (incomplete)" if self.report.journal_incomplete else "")
            )

    def _flash(self) -> None:
        from rescue.drive import Drive

        options, report, console = self.options, self.report, self.ctx.console
        self._stage("open")
        with (
            open_device(options.device, report.journal, exclusive=True) as transport,
            contextlib.ExitStack() as reopened,
        ):
            self._keep_journal(transport)
            drive = Drive(transport)
            with exclusive_lock(drive_key(transport)) as lock:
                report.preflight.add("exclusive lock", "ok", str(lock))
                before = drive.identity
                report.drive_before = _ident(before)
                self._stage("identity", " ".join(report.drive_before.values()))
                _, attentions = drive.settle()  # a reset drive reports these before anything else
                if attentions:
                    cleared = ", ".join(a.triple for a in attentions)
                    report.preflight.add("unit attentions", "ok", f"cleared {cleared}")
                self._stage("checks")
                match = resolve_family(drive, options.family, force="family" in options.force)
                family = match.family
                report.family = family.name
                report.family_match = match.to_dict()
                self._family_check(match)
                image = family.load_image(options.firmware)
                report.image = image.to_dict()
                data = self._checked_image(drive, family, image)
                steps = steps_for(family, data, before)  # built before a bench's fork
                report.steps_total = len(steps)
                # Every chunk must fit what the path carries (a USB bridge: 120 KiB or less).
                report.preflight.add("path", "ok", check_path(transport, steps, family.title))
                self.path = path_of(transport)
                if options.dry_run:
                    report.commands = [step.to_dict() for step in steps]
                    self._print_dry_run(family, steps)
                    report.result = "dry run: nothing sent"
                    return
                self._backup_or_refuse(drive, family)
                report.preflight.add("no disc", "ok", check_no_disc(drive))
                with quiet_drive(transport, report.preflight):
                    if not self.ctx.quiet:
                        self._print_summary(family, steps)
                    risk = f"Warning: {chosen_risk(match)}. " if match.chosen else ""
                    risk += self.direction_warning
                    self._stage("confirm")
                    confirm(
                        f"{risk}Flash {report.image['identity']['revision'] or 'this image'} onto "
                        f"{report.drive_before['product']} at {options.device}?",
                        self.ctx.assume_yes,
                        self.ctx.ask,
                    )
                    self._stop_if_journal_lost("before the first write")
                    self.guard.__enter__()  # Ctrl-C is a request from here (interrupts.py)
                    key = remember(transport)
                    self._write(drive, steps)
                    self._stage("wait", f"{family.settle_seconds:g} s settle, then polls")
                    drive = self._wait(drive, family, key, reopened)
                self._stage("verify")
                self._verify(drive, family, image, data)
                self.guard.saving = True
                report.result = "success"
                if not self.ctx.quiet:
                    after = report.drive_after or {}
                    console.print(
                        f"[bold green]success:[/] {after.get('product')} now runs "
                        f"{after.get('revision')}"
                    )
                self._read_test(drive)

    # --- checks --------------------------------------------------------------------------------

    def _family_check(self, match: Match) -> None:
        """Say which protocol was chosen and why; a --family choice is said as the risk it is."""
        if not match.chosen:
            self.report.preflight.add("family", "ok", match.describe())
            return
        risk = chosen_risk(match)
        self.report.preflight.add("family", "chosen", f"--family {match.family.name}: {risk}")
        self.ctx.emit(self.options.device, "note", f"warning: {risk}")
        if not self.ctx.quiet:
            self.ctx.console.print(f"[bold yellow]warning:[/] {escape(risk)}")

    def _checked_image(self, drive: Drive, family: Family, image: Any) -> bytes:
        """Image validity (never overridable), identity and the catalog's plan, in that order."""
        report = self.report
        problems = family.validate(image)
        if problems:
            report.preflight.add("image valid", "refused", "; ".join(problems))
            raise BadInput(
                f"{self.options.firmware} cannot be flashed onto a {family.title} drive: "
                + "; ".join(problems),
                hint="use an image made for this drive (`rescue fw inspect FILE` shows what it is)",
            )
        report.preflight.add(
            "image valid", "ok", f"{family.title} image, sha256 {image.sha256[:16]}"
        )
        self._check_identity(image, family.image_binding(drive.identity, image.data))
        self._check_plan(image, recovering=family.in_recovery(drive.identity))
        self._check_direction(image, recovering=family.in_recovery(drive.identity))
        return family.prepare(drive, image.data)

    def _check_identity(self, image: Any, binding: str | None = None) -> None:
        """The image must name the drive; a format that binds its images to a drive model
        its own way (``Family.image_binding``) has already checked that, unforceably."""
        report = self.report
        have = report.drive_before or {}
        want = image.identity
        if (want.vendor is None or want.product is None) and binding:
            report.preflight.add("identity", "ok", binding)
            return
        if want.vendor is None or want.product is None:
            mismatch = "the image does not say which drive it is for"
        elif (squeeze(want.vendor), squeeze(want.product)) != (
            squeeze(have["vendor"]),
            squeeze(have["product"]),
        ):
            mismatch = (
                f"the image is for {want.vendor.strip()} {want.product.strip()}, "
                f"the drive is {have['vendor']} {have['product']}"
            )
        else:
            report.preflight.add("identity", "ok", f"{have['vendor']} {have['product']}")
            return
        self._refuse_unless_forced(
            "identity",
            "identity",
            mismatch,
            f"identity check failed: {mismatch}; nothing was sent",
            "use the image made for this drive; a deliberate cross-flash needs --force identity",
        )

    def _refuse_unless_forced(
        self, check: str, force: str, detail: str, message: str, hint: str
    ) -> None:
        """The one shape of a check a named --force may lift: recorded either way."""
        if force in self.options.force:
            self.report.preflight.add(check, "overridden", f"--force {force}: {detail}")
            return
        self.report.preflight.add(check, "refused", detail)
        raise Refused(message, hint=hint)

    def _check_plan(self, image: Any, *, recovering: bool) -> None:
        report = self.report
        current = (report.drive_before or {}).get("revision", "")
        target = (image.identity.revision or "").strip()
        if recovering:
            report.preflight.add(
                "plan", "skipped", "drive in recovery mode: any revision may go on"
            )
            return
        entry = catalog_entry(report.drive_before or {})
        plan, why = upgrade_plan(entry, current, target)
        if plan is None:
            report.preflight.add("plan", "skipped", why)
            return
        if not plan.unsafe_direct:
            report.preflight.add("plan", "ok", f"{current} -> {target}: no catalog rule against it")
            return
        reason = f"{current} -> {target} is unsafe: {plan.steps[0].why}; plan: {plan_text(plan)}"
        self._refuse_unless_forced(
            "plan",
            "plan",
            reason,
            f"the catalog says {reason}",
            f"run `rescue plan {quote(self.options.device)} --to {quote(target)}` and "
            "flash each step in turn; --force plan tries the direct jump anyway",
        )

    def _wait(
        self, drive: Drive, family: Family, key: DriveKey | None, reopened: contextlib.ExitStack
    ) -> Drive:
        """Wait for the drive to come back; follow it when it comes back as a new node.

        A drive behind a USB bridge (or one the kernel resets) can vanish after its
        commit and reappear on another host: it is found again by identity and serial
        (rescue/discovery/refind.py), never by guessing between twins, and the wait and
        the verify go on with it there.
        """
        from rescue.discovery.refind import find_again
        from rescue.drive import Drive
        from rescue.errors import DeviceNotFound

        report = self.report
        try:
            report.wait_events = wait_until_back(drive, family)
            return drive
        except DeviceNotFound:
            if key is None:
                raise
        found = find_again(key, timeout=family.ready_timeout, poll=family.poll_interval)
        revisions = family.recovery_revisions
        report.device_after = self.device = found.node
        self._say(found.describe(revisions))
        transport = reopened.enter_context(
            open_device(found.node, report.journal, exclusive=True)
        )
        self._keep_journal(transport)
        again = Drive(transport)
        report.wait_events = wait_until_back(again, family)
        # The kernel's scan of the new node may have come mid-burn: the drive's own answer
        # says whether it started its boot loader (rescue/discovery/refind.py, Refound).
        now = found.told(again.inquiry().revision)
        if now.in_recovery(revisions) and not found.in_recovery(revisions):
            self._say(now.describe(revisions))
        report.preflight.add("re-enumerated", "ok", now.describe(revisions))
        return again

    def _say(self, line: str) -> None:
        if not self.ctx.quiet:
            self.ctx.console.print(line, markup=False)

    def _check_direction(self, image: Any, *, recovering: bool) -> None:
        """An older revision (a downgrade) or the running one again (a sidegrade) is named
        and needs --force downgrade: vendors rarely support going back, and an updater
        that refuses it may know why (issue 11). A drive in recovery takes any revision."""
        report = self.report
        current = (report.drive_before or {}).get("revision", "")
        target = (image.identity.revision or "").strip()
        if recovering or not current or not target:
            why = "drive in recovery mode" if recovering else "a revision is not known"
            report.preflight.add("direction", "skipped", f"{why}: no order to compare")
            return
        if revision_key(target) > revision_key(current):
            report.preflight.add("direction", "ok", f"{current} -> {target}: an upgrade")
            return
        kind = "a downgrade" if revision_key(target) < revision_key(current) else "a sidegrade"
        what = f"{current} -> {target} is {kind}"
        self._refuse_unless_forced(
            "direction",
            "downgrade",
            what,
            f"{what} (the drive runs {current}); nothing was sent",
            "flash a newer revision, or pass --force downgrade if you mean to go back "
            "(vendors rarely support it)",
        )
        self.direction_warning = f"{kind.upper()} {current} -> {target}. "

    def _backup_or_refuse(self, drive: Drive, family: Family) -> None:
        from rescue.engine.backup import take_backup

        report = self.report
        if family.can_backup:
            self._stage("backup", family.backup_method)
            path = self.base.with_suffix(".backup.bin")

            def progress(done: int, total: int) -> None:
                self.ctx.emit(self.options.device, "progress", "backup", done=done, total=total)

            take_backup(drive, family, path, quiet=self.ctx.quiet, on_progress=progress)
            report.backup = str(path)
            ignored = (
                " (--no-backup ignored: this drive can be backed up)"
                if self.options.no_backup
                else ""
            )
            report.preflight.add("backup", "ok", f"{family.backup_method} -> {path}{ignored}")
            return
        if not self.options.no_backup:
            report.preflight.add("backup", "refused", family.no_backup_reason)
            raise Refused(
                f"{family.title} drives cannot be backed up ({family.no_backup_reason}); "
                "nothing was sent",
                hint="pass --no-backup to accept flashing without a backup",
            )
        report.preflight.add("backup", "skipped", f"--no-backup: {family.no_backup_reason}")

    # --- what a person sees ----------------------------------------------------------------------

    def _print_dry_run(self, family: Family, steps: list[Step]) -> None:
        if self.ctx.quiet:
            return
        console = self.ctx.console
        console.print(f"dry run: {len(steps)} commands of the {family.title} protocol, none sent")
        for number, step in enumerate(steps, 1):
            console.print(f"{number:4d}  {step.describe()}", markup=False)
        console.print(
            f"then: wait {family.settle_seconds:g} s, poll TEST UNIT READY up to "
            f"{family.ready_timeout:g} s, re-read INQUIRY, verify",
            markup=False,
        )

    def _print_summary(self, family: Family, steps: list[Step]) -> None:
        console = self.ctx.console
        for check in self.report.preflight.checks:
            console.print(f"  {check.outcome:>10}  {check.name}: {check.detail}", markup=False)
        total = sum(step.payload for step in steps)
        console.print(f"{len(steps)} commands, {total} bytes, {family.title} protocol")

    # --- the write, its failure, and the proof ---------------------------------------------------

    def _write(self, drive: Drive, steps: list[Step]) -> None:
        """Send the steps. Per chunk only the Ctrl-C check, the commit flag and a sum run:
        the bar and the progress event move by whole percents (``PROGRESS_STEPS``), which
        is all a person or the bench screen can see, instead of 258 updates (each a clock
        read and a redraw check in rich, an Event for the listener) per 1 MiB image."""
        report = self.report
        total = sum(step.payload for step in steps)
        self._stage("write", f"{len(steps)} commands, {total} bytes")
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
        )
        revision = (report.drive_before or {}).get("revision", "?")
        # From the moment a commit is sent, a Ctrl-C must wait (interrupts.py): after the
        # n-th step is sent, the guard is committed when step n (0-based) is a commit.
        commits = {index for index, step in enumerate(steps) if step.commit}
        stride = max(total // PROGRESS_STEPS, 1)
        sent = shown = 0
        with Progress(*columns, console=self.ctx.console, disable=self.ctx.quiet) as progress:
            task = progress.add_task("flashing", total=total)

            def advance(step: Step) -> None:
                nonlocal sent, shown
                report.steps_sent += 1
                self.guard.stop_if_asked(report.steps_sent, len(steps), revision)
                if report.steps_sent in commits:
                    self.guard.committed = True
                self._stop_if_journal_lost(f"after {report.steps_sent} of {len(steps)} commands")
                sent += step.payload
                if sent - shown >= stride or report.steps_sent == len(steps):
                    shown = sent
                    progress.update(task, completed=sent, description=step.label)
                    self.ctx.emit(self.options.device, "progress", "write", done=sent, total=total)

            self.guard.committed = 0 in commits
            try:
                run_steps(drive, steps, advance)
            except StepFailed as err:
                report.steps_sent = err.index + 1
                raise self._explain_failure(err, steps) from err

    def _explain_failure(self, err: StepFailed, steps: list[Step]) -> RescueError:
        """Name the likely cause and the way back; the exit code stays the drive's."""
        before = self.report.drive_before or {}
        target = (self.report.image or {}).get("identity", {}).get("revision") or "the target"
        cause = getattr(err.cause, "triple", None)
        origin = bridge_or_drive(
            self.path,
            err.step.cdb[0],
            cause,
            self.report.family,
            transferred=err.step.payload,
            accepted_before=err.index > 0,
        )
        if origin.who == "bridge":
            message = f"{err.message}. The USB bridge refused it, not the drive: {origin.why}"
            hint = (
                "connect the drive to a SATA or IDE port, then run the same command again"
            )
        elif cause == INVALID_OPCODE:
            entry = catalog_entry(before)
            plan, _ = upgrade_plan(entry, before.get("revision", ""), target)
            likely = (
                f"{plan.steps[0].why}; the catalog's plan is {plan_text(plan)}"
                if plan is not None and plan.unsafe_direct
                else "the running firmware does not implement this update command "
                "(it may need a stepping-stone revision first)"
            )
            message = (
                f"the drive refused the update at step {err.index + 1} ({err.step.label}) with "
                f"5/20/00 INVALID COMMAND OPERATION CODE. Likely cause: {likely}"
            )
            hint = (
                f"run `rescue plan {quote(self.options.device)} --to {quote(target)}`, "
                "then flash each step in turn"
            )
        else:
            message = err.message
            hint = err.hint
        # A failing step may have been acted on, unless the drive rejected it: sense key 5
        # (ILLEGAL REQUEST) means the command was not performed (SPC-4, sense key table).
        sense = getattr(err.cause, "sense", None)
        rejected = sense is not None and sense.key == 0x5
        committed = any(step.commit for step in steps[: err.index]) or (
            err.step.commit and not rejected
        )
        way_back = (
            "The drive may have started rewriting its flash: if it now reports revision BOOT "
            "it is in recovery mode, and the same command flashes it again."
            if committed
            else "Nothing was saved to flash: the drive is as it was (revision "
            f"{before.get('revision', '?')}); the same command can try again."
        )
        return FlashFailed(f"{message}. {way_back}", hint, cause=err.cause)

    def _name_the_new_node(self, err: RescueError) -> None:
        """After a re-enumeration, the advice names the node the drive is on now (issue 13).

        "The same command" would open the old node, which is gone or, worse, another
        drive by now: it becomes the flash command on the new node, with the options that
        change what is checked; any other command the hint names moves to the new node.
        """
        old, new = self.options.device, self.device
        if new == old or not err.hint:
            return
        options = self.options
        argv = ["rescue", "flash", new, str(options.firmware)]
        argv += ["--family", options.family] if options.family else []
        argv += [word for force in sorted(options.force) for word in ("--force", force)]
        argv += ["--no-backup"] if options.no_backup else []
        again = "`" + " ".join(quote(word) for word in argv) + "`"
        hint = err.hint.replace("the same `rescue flash`", again)
        hint = hint.replace("the same command", again).replace(quote(old), quote(new))
        err.hint = hint if again in hint or quote(new) in hint else f"{hint} (on {new} now)"

    def _verify(self, drive: Drive, family: Family, image: Any, data: bytes) -> None:
        report = self.report
        after = drive.inquiry()
        report.drive_after = _ident(after)
        want = (image.identity.revision or "").strip()
        got = report.drive_after["revision"]
        if family.in_recovery(after):
            report.preflight.add("verify", "refused", "drive came back in recovery mode")
            raise VerifyFailed(
                f"the drive came back in recovery mode (revision {got}): "
                "the new firmware did not start",
                hint="run the same command again to re-flash it",
            )
        if want and got != want:
            report.preflight.add("verify", "refused", f"revision {got}, image {want}")
            raise VerifyFailed(
                f"the drive reports revision {got}, the image is {want}",
                hint="run the same command again; keep the report and journal if it repeats",
            )
        readback = family.read_back(drive, data)
        if readback is False:
            report.preflight.add("verify", "refused", "read-back differs")
            raise VerifyFailed("the flash read back differs from the image", hint="flash again")
        detail = f"revision {got}" + (", read-back identical" if readback else ", no read-back")
        report.preflight.add("verify", "ok", detail)

    # --- the read test after a success ---------------------------------------------------------

    def _read_test(self, drive: Drive) -> None:
        """Run (or offer) doctor's read test; its failure, or Ctrl-C, is reported, never raised.

        The flash is already done and verified here: nothing the read test meets
        may turn the report's "success" into anything else.
        """
        report, console = self.report, self.ctx.console
        interactive = self.ctx.interactive
        self.guard.let_through = True  # Ctrl-C ends the read test, not the flash
        try:
            if not (
                self.options.read_test or (interactive and _yes("Run a read test of a disc now?"))
            ):
                return
            report.read_test = read_test_after_flash(
                drive, self.device, _ask_for_disc if interactive else None
            )
        except RescueError as err:
            report.read_test = {"status": PROBLEM, "verdict": f"read test failed: {err.message}"}
        except (KeyboardInterrupt, EOFError):
            report.read_test = {"status": SKIPPED, "verdict": "read test interrupted"}
        finally:
            self.guard.let_through = False
        if not self.ctx.quiet:
            colour = "green" if report.read_test["status"] == OK else "yellow"
            console.print(f"[{colour}]read test:[/] {escape(report.read_test['verdict'])}")
            for step in report.read_test.get("next_steps", []):
                console.print(f"[yellow]next:[/] {escape(step)}")


def _ask_for_disc() -> bool:
    answer = input(
        "No disc in the drive. Insert a data CD or DVD, close the tray, then press Enter "
        "(s and Enter skips the read test): "
    )
    return answer.strip().lower() != "s"


def _yes(question: str) -> bool:
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
