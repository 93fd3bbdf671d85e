"""`rescue bench` without a job: the live bench screen, 80x25, keyboard only, serial-friendly.

One table of every drive (identity and firmware as the kernel reports them,
the catalog's verdict, the disc, the job running on it with its stage and
progress, and its last result); below it, the last messages and a command
line. The screen is redrawn with plain ANSI (home + clear), at most a few
times a second, so it works on the Linux console and on a serial line alike.
Input is line by line (a command and Enter), which a serial terminal handles
without raw mode:

  d SEL   doctor      s SEL   scan      b SEL   backup (to the reports folder, where the
                                                family can)
  f SEL   flash from the firmware folder (asks the image, the backup question, one YES)
  q       quit (when no job runs; q! stops them)          SEL: 1 3 5, 2-4 or all

Drives come from the DEVs given, or from discovery (sysfs/udev, no command
sent), re-read at once when pyudev's monitor reports a scsi_generic change
and every few seconds anyway (the guest and a stick without udev): a drive
that appears gets a row, one that goes away is marked gone, and one that
comes back under a new node (re-enumerated by its flash) keeps its row,
found by identity and unit serial. The disc column is asked of idle drives
only, each in a short worker of its own. Every job runs in a worker process
of its own (``rescue.bench.runner``), so the screen never waits on a drive.
At the end the session summary (JSON + HTML) is written as for the headless
form. docs/architecture.md ("The repair bench") has the why of each part.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

from rescue.bench.jobs import PLAIN_WORK, disc_work, flash_work, prepared
from rescue.bench.runner import Batch, DriveResult, Task, log_path, worst
from rescue.bench.summary import document, save
from rescue.engine.flash import FlashOptions
from rescue.errors import RescueError
from rescue.record import field, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import TextIO

    from rescue.discovery import DriveNode
    from rescue.discovery.refind import DriveKey

WIDTH, HEIGHT = 80, 25
MAX_ROWS = 16  # drive rows on one screen
REDRAW = 0.4  # seconds between redraws while events arrive
VERBS = {"d": "doctor", "s": "scan", "b": "backup"}  # f (flash) asks questions first
RESCAN = 3.0  # seconds between discovery passes (hot-plug)
DISC_EVERY = 10.0  # seconds between disc probes of an idle drive
PROBE_TIMEOUT = 15.0  # a disc probe that takes longer is stopped; the column shows "?"
PROBE_WAIT = 5.0  # a job waits this long for its drive's probe to end
HELP = "d/s/b/f SEL: doctor/scan/backup/flash (SEL: 1 3, 2-4, all)  q: quit  q!: stop"


@record
class Row:
    device: str
    identity: str = "?"
    firmware: str = "?"
    catalog: str = "?"
    disc: str = ""
    job: str = ""
    progress: str = ""
    last: str = ""
    backup: str = "?"  # "yes", or why this drive's family cannot be backed up
    key: DriveKey | None = None  # what finds it again when it re-enumerates (a real drive)
    listed_revision: str = ""  # the kernel's copy, kept from the scan: stale after a flash
    gone: bool = False
    busy: bool = False


@record
class Screen:
    devices: list[str]
    firmware_dir: Path | None
    session: Path
    out: TextIO = field(default_factory=lambda: sys.stdout)
    rows: list[Row] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    results: list[DriveResult] = field(default_factory=list)
    fixed: bool = False

    def __post_init__(self) -> None:
        self.fixed = bool(self.devices)
        self.batch = Batch(reports=str(self.session), on_event=self._event, on_result=self._result)
        self.jobs: dict[int, Row] = {}
        self.probing: dict[int, Row] = {}  # disc probes in flight, by task index
        self.last_probe = 0.0
        self.pending: tuple[str, list[Row]] | None = None  # flash: image, backup, then YES
        self.question: list[str] = []  # shown instead of the table while a flash is asked
        self.no_backup = False
        self.stop_jobs = False
        self.dirty = True
        self.last_scan = 0.0
        self.monitor = None if self.fixed else _udev_monitor()
        self._refresh()

    # --- drives -------------------------------------------------------------------------------

    @property
    def live(self) -> bool:
        """Whether discovery is re-read: any drive but the emulated ones may come and go."""
        return not self.fixed or any(r.device.startswith("/dev/") for r in self.rows)

    def _refresh(self) -> None:
        """Re-read the drives: rows for new ones, gone ones marked, a moved drive followed."""
        if self.fixed:
            for device in self.devices:
                if not any(r.device == device for r in self.rows):
                    self.rows.append(_emulated_row(device) or Row(device))
            if all(r.device.startswith(("emu:", "replay:")) for r in self.rows):
                return
        from rescue.discovery import discover

        try:
            found = discover().drives
        except Exception as err:  # noqa: BLE001 - discovery trouble is a message, not an exit
            self.say(f"discovery: {err}")
            return
        known = {r.device: r for r in self.rows}
        seen, fresh = set(), []
        for node in found:
            device = node.sg or node.sr or ""
            seen.update(x for x in (node.sg, node.sr) if x)
            row = known.get(device) or (known.get(node.sr or "") if node.sr else None)
            if row is None:
                fresh.append(node)
            else:
                _describe(row, node)
        for row in self.rows:
            if row.device not in seen and not row.gone and row.device.startswith("/dev/"):
                row.gone = True
                self.say(f"drive gone: {row.device}")
        for node in fresh:
            row = self._follow(node)
            if row is None and not self.fixed:
                row = Row(node.sg or node.sr or "")
                self.rows.append(row)
                self.say(f"new drive: {row.device}")
            if row is not None:
                _describe(row, node)
        self.dirty = True

    def _follow(self, node: DriveNode) -> Row | None:
        """The gone row whose drive NODE is (identity + serial, rescue/discovery/refind.py)."""
        from rescue.discovery import Inventory
        from rescue.discovery.refind import find_again
        from rescue.errors import DeviceNotFound

        for row in self.rows:
            if not row.gone or row.key is None:
                continue
            try:
                again = find_again(row.key, discover_now=lambda: Inventory("screen", [node]))
            except DeviceNotFound:
                continue
            self.say(f"{row.device} came back as {again.node} (by {again.matched_by})")
            row.device = again.node
            return row
        return None

    # --- events from workers ----------------------------------------------------------------------

    def _event(self, index: int, event: dict) -> None:
        row = self.jobs.get(index)
        if row is None:
            return
        if event["kind"] == "stage":
            row.progress = event["text"]
        elif event["kind"] == "progress" and event["total"]:
            row.progress = f"{event['text']} {100 * event['done'] // event['total']}%"
        self.dirty = True

    def _result(self, result: DriveResult) -> None:
        if result.index in self.probing:
            self.probing.pop(result.index).disc = result.result if result.ok else "?"
            self.dirty = True
            return
        row = self.jobs.pop(result.index, None)
        self.results.append(result)
        if row is not None:
            row.busy = False
            row.progress = ""
            row.last = result.result if result.ok else f"{result.result} ({result.exit_code})"
            after = (result.drive_after or {}).get("revision")
            if after:
                row.firmware = after
        number = next((n for n, r in enumerate(self.rows, 1) if r is row), "?")
        self.say(f"drive {number}: {result.job} {result.result} (exit {result.exit_code})")

    # --- commands ---------------------------------------------------------------------------------

    def say(self, text: str) -> None:
        self.messages = [*self.messages, text][-4:]
        self.dirty = True

    def select(self, words: list[str]) -> list[Row]:
        rows = [r for r in self.rows[:MAX_ROWS] if not r.gone]
        if words == ["all"]:
            return rows
        picked = []
        for word in words:
            match = re.fullmatch(r"(\d+)(?:-(\d+))?", word)
            if not match:
                raise ValueError(f"not a drive number: {word}")
            first, last = int(match[1]), int(match[2] or match[1])
            picked += [r for n, r in enumerate(self.rows[:MAX_ROWS], 1) if first <= n <= last]
        return [r for r in picked if not r.gone]

    def command(self, line: str) -> bool:
        """Act on one line; False to quit."""
        words = line.split()
        if self.pending is not None:
            return self._answer(line.strip())
        if not words:
            return True
        verb, rest = words[0], words[1:]
        if verb in ("q", "q!"):
            if self.jobs and verb == "q":
                self.say("jobs still run: wait, or q! to stop them")
                return True
            self.stop_jobs = verb == "q!"
            return False
        if verb not in VERBS and verb != "f":
            self.say(f"unknown command {verb!r}: {HELP}")
            return True
        try:
            rows = self.select(rest or ["all"])
        except ValueError as err:
            self.say(str(err))
            return True
        rows = [r for r in rows if not r.busy]
        if not rows:
            self.say("no idle drive selected")
            return True
        if verb == "f":
            files = _firmware_files(self.firmware_dir)
            if not files:
                self.say(f"no firmware files in {self.firmware_dir}")
                return True
            self.pending = ("image", rows)
            names = "  ".join(f"{n}) {p.name}" for n, p in enumerate(files, 1))
            self.say(f"image? {names}"[: WIDTH - 1])
            return True
        self._start_all(rows, VERBS[verb], None)
        return True

    def _answer(self, text: str) -> bool:
        """The flash's questions, as `rescue flash` asks them: the image, the backup, one YES."""
        stage, rows = self.pending or ("", [])
        if stage == "image":
            files = _firmware_files(self.firmware_dir)
            if not text.isdigit() or not 1 <= int(text) <= len(files):
                return self._drop("no image chosen: nothing sent")
            self.image = files[int(text) - 1]
            without = [r for r in rows if r.backup != "yes"]
            if without:
                self.pending = ("backup", rows)
                self.question = [
                    f"{len(without)} of these drives cannot be backed up:",
                    *(f"  {_fit(r.device, 14)} {_fit(r.identity, 18)} {r.backup}" for r in without),
                    "Flash them without a backup? y: yes, n: they are skipped with the reason",
                ]
                self.say("backup? y/n")
                return True
            return self._ask_yes(rows, no_backup=False)
        if stage == "backup":
            return self._ask_yes(rows, no_backup=text.lower() in ("y", "yes"))
        self.pending, self.question = None, []
        if text != "YES":
            self.say("not confirmed: nothing sent")
            return True
        self._start_all(rows, "flash", self.image)  # every check still runs in each worker
        return True

    def _ask_yes(self, rows: list[Row], *, no_backup: bool) -> bool:
        """One confirmation listing the image and every drive with what happens to its flash."""
        self.no_backup = no_backup
        self.pending = ("yes", rows)
        size = self.image.stat().st_size if self.image.is_file() else 0
        self.question = [f"Flash {self.image.name} ({size} bytes) onto {len(rows)} drive(s):"]
        for row in rows:
            plan = (
                "backed up first"
                if row.backup == "yes"
                else "no backup"
                if no_backup
                else "skipped: no backup"
            )
            self.question.append(
                f"  {_fit(row.device, 14)} {_fit(row.identity, 18)} {_fit(row.firmware, 5)} {plan}"
            )
        self.question.append("Every check still runs on each drive. Type YES to flash.")
        self.say("Type YES")
        return True

    def _drop(self, message: str) -> bool:
        self.pending, self.question = None, []
        self.say(message)
        return True

    def _start_all(self, rows: list[Row], job: str, image: Path | None) -> None:
        rows = self._after_probes(rows)
        firmware = str(image) if job == "flash" and image is not None else None
        try:  # one discovery (and one read of the image) for all, before the forks
            with prepared([r.device for r in rows], firmware):
                for row in rows:
                    self._start(row, job, image)
        except RescueError as err:  # the image went away since it was picked
            self.say(f"{err.message}; nothing started")

    def probe_discs(self) -> None:
        """Ask every idle drive about its tray and disc, each in a short worker of its own."""
        self.last_probe = time.monotonic()
        asking = set(map(id, self.probing.values()))
        idle = [r for r in self.rows if not (r.busy or r.gone or id(r) in asking)]
        with prepared([r.device for r in idle]):
            for row in idle:
                task = Task(row.device, "disc", disc_work, timeout=PROBE_TIMEOUT)
                self.probing[self.batch.start(task)] = row

    def _after_probes(self, rows: list[Row]) -> list[Row]:
        """A job never shares its drive with a disc probe: wait for those, drop hung ones."""
        end = time.monotonic() + PROBE_WAIT
        while time.monotonic() < end and set(map(id, rows)) & set(map(id, self.probing.values())):
            self.batch.pump(0.1)
        hung = {id(r) for r in self.probing.values()}
        for row in rows:
            if id(row) in hung:
                self.say(f"{row.device}: still answering the disc probe; job not started")
        return [r for r in rows if id(r) not in hung]

    def _start(self, row: Row, job: str, image: Path | None) -> None:
        number = len(self.batch.tasks)
        log = log_path(self.session, number)
        if job == "flash":
            options = FlashOptions(row.device, str(image), no_backup=self.no_backup)
            task = Task(row.device, job, flash_work(options), log=log)
        else:
            journal = str(Path(log).with_suffix(".journal.jsonl"))
            work = PLAIN_WORK[job]
            task = Task(row.device, job, work, journal, log)
        self.jobs[self.batch.start(task)] = row
        row.busy, row.job, row.progress, row.disc = True, job, "start", ""
        self.dirty = True

    # --- drawing ----------------------------------------------------------------------------------

    def frame(self) -> list[str]:
        head = (
            f"{'#':>2} {'drive':<12} {'identity':<18} {'fw':<5} {'catalog':<7} {'disc':<5} "
            f"{'job':<14} last"
        )
        lines = [f"rescue bench: {len(self.rows)} drives, {len(self.jobs)} jobs running", head]
        if self.question:
            lines[1:] = self.question[: HEIGHT - 6]
        for n, row in enumerate([] if self.question else self.rows[:MAX_ROWS], 1):
            job = "gone" if row.gone else f"{row.job} {row.progress}".strip() if row.busy else ""
            lines.append(
                f"{n:>2} {_fit(row.device, 12)} {_fit(row.identity, 18)} {_fit(row.firmware, 5)} "
                f"{_fit(row.catalog, 7)} {_fit(row.disc, 5)} {_fit(job, 14)} {row.last}"
            )
        if len(self.rows) > MAX_ROWS and not self.question:
            lines.append(f"   ... {len(self.rows) - MAX_ROWS} more drives not shown")
        lines += [""] * max(0, HEIGHT - 6 - len(lines))
        lines += self.messages[-3:] + [""] * (3 - len(self.messages[-3:]))
        lines += [HELP, "> "]
        return [line[: WIDTH - 1] for line in lines[:HEIGHT]]

    def draw(self) -> None:
        self.out.write("\x1b[H\x1b[2J" + "\r\n".join(self.frame()))
        self.out.flush()
        self.dirty = False

    # --- the loop -------------------------------------------------------------------------------

    def run(self, keys: TextIO) -> int:
        fd = keys.fileno()
        buffer = b""
        last_draw = 0.0
        going = True
        while going or self.batch.running:
            now = time.monotonic()
            if self.live and now - self.last_scan > RESCAN:
                self.last_scan = now
                self._refresh()
            if going and now - self.last_probe > DISC_EVERY:
                self.probe_discs()
            if self.dirty and now - last_draw >= REDRAW:
                self.draw()
                last_draw = now
            if not going and self.stop_jobs:  # q!: the user stops them; end of input waits
                self.batch.kill_all()
            watch = [fd] if going else []
            if self.monitor is not None:
                watch.append(self.monitor.fileno())
            ready = self.batch.pump(0.2, watch)
            if self.monitor is not None and self.monitor.fileno() in ready:
                while self.monitor.poll(timeout=0) is not None:  # drain, then one re-read
                    pass
                self._refresh()
            if fd in ready:
                chunk = os.read(fd, 1024)
                if not chunk:
                    going = False
                    continue
                buffer += chunk
                while going and b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    going = self.command(line.decode(errors="replace").strip("\r"))
        self.draw()
        return self.finish()

    def finish(self) -> int:
        code = worst([r.exit_code for r in self.results])
        if self.results:
            for n, result in enumerate(self.results):
                result.index = n
            started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            doc = document("screen", None, self.results, started, 0.0, code)
            summary, page = save(self.session.with_name(self.session.name), doc)
            self.out.write(f"\r\nsummary: {summary} (page: {page.name})\r\n")
        self.out.flush()
        return code


def _describe(row: Row, node: DriveNode) -> None:
    """Fill ROW from what discovery says about its drive (no command sent)."""
    from rescue.discovery.refind import remember

    vendor, model, revision = node.vendor or "", node.model or "", node.revision or ""
    row.gone = False
    row.identity = " ".join(f"{vendor} {model}".split()) or "?"  # "DVDR   PX-716A": one space
    if revision != row.listed_revision:  # else a flash's own re-read revision stands
        row.firmware, row.listed_revision = revision or "?", revision
    row.catalog = _catalog(vendor, model)
    row.backup = _backup(vendor, model, revision)
    row.key = remember(node)


def _udev_monitor() -> object | None:
    """pyudev's monitor of the scsi_generic subsystem, when udev runs; else None (polling)."""
    try:
        from rescue.discovery.udev import open_context

        context, _ = open_context(None, "/sys")
        if context is None:
            return None
        import pyudev

        monitor = pyudev.Monitor.from_netlink(context)
        monitor.filter_by("scsi_generic")
        monitor.start()
        return monitor
    except Exception:  # noqa: BLE001 - no monitor: the periodic re-read still sees changes
        return None


def _fit(text: str, width: int) -> str:
    return text[:width].ljust(width)


def _catalog(vendor: str, product: str) -> str:
    from rescue.ops.plan import catalog_entry

    try:
        return "known" if catalog_entry({"vendor": vendor, "product": product}) else "unknown"
    except Exception:  # noqa: BLE001 - a broken catalog is shown, not fatal
        return "?"


def _emulated_row(device: str) -> Row | None:
    """An emu: drive's identity read in this process (no SG_IO, so no GIL held)."""
    if not device.startswith("emu:"):
        return None
    from rescue.devices import open_device
    from rescue.drive import Drive

    try:
        with open_device(device) as transport:
            ident = Drive(transport).identity
    except Exception:  # noqa: BLE001 - a row with what is known; its job will say why
        return Row(device)
    vendor, product, revision = ident.vendor.strip(), ident.product.strip(), ident.revision.strip()
    return Row(
        device,
        " ".join(f"{vendor} {product}".split()),
        revision,
        _catalog(vendor, product),
        backup=_backup(vendor, product, revision),
    )


def _backup(vendor: str, product: str, revision: str) -> str:
    """Whether a flash can back this drive up first ("yes"), else why not (the table's family)."""
    from types import SimpleNamespace

    from rescue.families import family_for

    try:
        family = family_for(SimpleNamespace(vendor=vendor, product=product, revision=revision))
    except Exception:  # noqa: BLE001 - a broken user table: the worker's checks say why
        return "?"
    if family is None:
        return "no protocol for this drive"
    return "yes" if family.can_backup else family.no_backup_reason


def _firmware_files(folder: Path | None) -> list[Path]:
    if folder is None or not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
