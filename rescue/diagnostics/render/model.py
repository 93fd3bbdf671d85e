"""A report read back: which kind it is, and the views the renderers draw from.

Reports travel between machines and people edit them, so every field a
renderer uses is read here through ``Fields`` (type-checked, text cleaned), a
file that does not have a rescue report's shape becomes one ``BadInput`` line
instead of a traceback inside a chart, and the words (sense in plain language,
the one-line outcome, the labelled facts) are made once for both the HTML page
and the terminal.
"""

from __future__ import annotations

import json

from rescue.diagnostics.render.fields import Fields
from rescue.errors import BadInput, ParseError, RescueError
from rescue.inputs import read_user_file
from rescue.record import record
from rescue.scsi.sense import parse_triple

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

Rows = list[tuple[str, str | None]]  # labelled facts; renderers leave out the None ones
BAD_HEADERS = ("LBA", "sectors", "at", "sense", "what it means", "what to do")
SLOW_HEADERS = ("LBA", "sectors", "read time")
WEAK_HEADERS = ("LBA", "sectors", "C2 error pointers")
PROBE_HEADERS = ("LBA", "read test")


@record(frozen=True)
class Identity:
    vendor: str
    product: str
    revision: str

    @classmethod
    def read(cls, f: Fields | None) -> Identity | None:
        if f is None:
            return None
        return cls(f.text("vendor"), f.text("product"), f.text("revision"))

    @property
    def name(self) -> str:
        return f"{self.vendor} {self.product}".strip()


@record(frozen=True)
class SenseWords:
    """A sense triple in words: the T10 name, what it means here, what to do."""

    triple: str
    name: str
    meaning: str
    next_step: str


def sense_words(detail: str | None) -> SenseWords:
    """Explain the ``detail`` of a bad range (a triple, "no sense", or None: earlier run)."""
    if detail is None:
        return SenseWords("-", "", "found bad by an earlier run (from the mapfile)", "")
    try:
        sense = parse_triple(detail)
    except ParseError:
        return SenseWords(detail, "", "the drive gave no usable sense data", "")
    from rescue.scsi.advice import advise  # here: a page without bad ranges needs no advice

    advice = advise(sense.key, sense.asc, sense.ascq)
    return SenseWords(sense.triple, sense.asc_name, advice.meaning, advice.next_step)


@record(frozen=True)
class Span:
    """A range of sectors on the disc: bad (with its sense) or slow (with its time)."""

    first: int
    last: int
    detail: str | None
    seconds: float

    @classmethod
    def read(cls, f: Fields) -> Span:
        seconds = f.amount("seconds") or 0.0
        return cls(f.count("first"), f.count("last"), f.opt_text("detail"), seconds)

    @classmethod
    def read_weak(cls, f: Fields) -> Span:
        """A weak range (read, but with C2 errors): its detail is the C2 totals in words."""
        flagged, worst = f.opt_count("c2_bytes") or 0, f.opt_count("worst_sector_c2_bytes") or 0
        detail = f"{flagged:,} bytes flagged, at most {worst:,} in one sector"
        return cls(f.count("first"), f.count("last"), detail, 0.0)

    @property
    def count(self) -> int:
        return max(0, self.last - self.first + 1)

    @property
    def lbas(self) -> str:
        return f"{self.first:,}" if self.first == self.last else f"{self.first:,}..{self.last:,}"


@record(frozen=True)
class ZoneSpeed:
    first: int
    count: int
    kib_per_second: float | None  # None: nothing in the zone was read this run


READ, UNREAD, SLOW, WEAK, BAD = "read", "unread", "slow", "weak", "bad"  # error-map cell states


@record(frozen=True)
class ScanView:
    start: int
    last: int  # the last LBA of the scanned range (inclusive, as the report says)
    sector_size: int
    complete: bool
    stopped_at: int
    stopped_by: str | None
    bad: tuple[Span, ...]
    weak: tuple[Span, ...]  # read, but READ CD's C2 pointers flagged errors: a degrading disc
    slow: tuple[Span, ...]
    zones: tuple[ZoneSpeed, ...]
    mapfile: str | None
    read_method: str | None
    fallback: str | None

    @classmethod
    def read(cls, f: Fields) -> ScanView:
        start, last = f.count("start"), f.count("end")
        if last < start:
            raise BadInput(f"{f.where}: the scan ends (LBA {last}) before it starts ({start})")
        zones = tuple(
            ZoneSpeed(z.count("first"), z.count("count"), z.amount("kib_per_second"))
            for z in f.objects("zones")
        )
        return cls(
            start,
            last,
            f.opt_count("sector_size") or 2048,
            f.flag("complete"),
            f.opt_count("stopped_at") or last + 1,
            f.opt_text("stopped_by"),
            tuple(Span.read(s) for s in f.objects("bad")),
            tuple(Span.read_weak(s) for s in f.objects("weak")),
            tuple(Span.read(s) for s in f.objects("slow")),
            zones,
            f.opt_text("mapfile"),
            f.opt_text("read_method"),
            f.opt_text("fallback"),
        )

    def bad_rows(self) -> list[tuple[str, ...]]:
        """One row per bad range, its sense in words (columns: ``BAD_HEADERS``)."""
        rows = []
        for span in self.bad:
            words = sense_words(span.detail)
            rows.append(
                (
                    span.lbas,
                    f"{span.count:,}",
                    f"{span.first * self.sector_size / 1e6:,.1f} MB",
                    f"{words.triple} {words.name}".strip(),
                    words.meaning,
                    words.next_step,
                )
            )
        return rows

    def slow_rows(self) -> list[tuple[str, ...]]:
        return [(s.lbas, f"{s.count:,}", f"{s.seconds:.1f} s") for s in self.slow]

    def weak_rows(self) -> list[tuple[str, ...]]:
        return [(s.lbas, f"{s.count:,}", s.detail or "") for s in self.weak]

    def facts(self) -> Rows:
        return [
            ("scanned", f"LBA {self.start:,}..{self.last:,}"),
            ("sector size", f"{self.sector_size} bytes"),
            ("read with", self.read_method),
            ("note", self.fallback),
            ("complete", "yes" if self.complete else f"no, stopped at LBA {self.stopped_at:,}"),
            ("stopped by", self.stopped_by),
            ("mapfile", self.mapfile),
        ]

    @property
    def bad_sectors(self) -> int:
        return sum(s.count for s in self.bad)

    def cells(self, n: int) -> list[str]:
        """The disc in ``n`` equal cells, each the worst state inside it.

        Worst first: BAD, WEAK, SLOW, UNREAD (past where an interrupted scan stopped),
        READ. A single bad sector on a whole DVD still marks its cell, which is
        the point of an error map; both renderers draw from this one list.
        """
        span = self.last - self.start + 1
        state = [READ] * n

        def cell(lba: int) -> int:
            return min(n - 1, max(0, (lba - self.start) * n // span))

        marks = [(UNREAD, self.stopped_at, self.last)] if not self.complete else []
        for mark, spans in ((SLOW, self.slow), (WEAK, self.weak), (BAD, self.bad)):
            marks += [(mark, s.first, s.last) for s in spans]
        for mark, first, last in marks:  # later marks win: bad over weak, slow, unread
            if first <= last and last >= self.start and first <= self.last:
                for i in range(cell(first), cell(last) + 1):
                    state[i] = mark
        return state

    def outcome(self) -> tuple[str, bool]:
        if self.bad:
            ranges = "range" if len(self.bad) == 1 else "ranges"
            text = f"{self.bad_sectors} unreadable sectors in {len(self.bad)} {ranges}"
        else:
            text = f"every sector of LBA {self.start}..{self.last} read"
        if self.weak:
            text += f"; {sum(s.count for s in self.weak)} weak sectors (read, but degrading)"
        if not self.complete:
            text += f"; stopped at LBA {self.stopped_at}: {self.stopped_by or 'interrupted'}"
        return text, self.complete and not self.bad and not self.weak


@record(frozen=True)
class ProbeView:
    lba: int
    count: int
    failed_at: int | None
    triple: str | None
    c2_bytes: int  # 0 also for reports written before doctor read C2 pointers


@record(frozen=True)
class ReadTest:
    """A verdict with its short read test: doctor's core, also run after a flash."""

    status: str
    verdict: str
    probes: tuple[ProbeView, ...]
    next_steps: tuple[str, ...]

    @classmethod
    def read(cls, f: Fields) -> ReadTest:
        probes = tuple(
            ProbeView(
                p.count("lba"),
                p.count("count"),
                p.opt_count("failed_at"),
                p.opt_text("triple"),
                p.opt_count("c2_bytes") or 0,
            )
            for p in f.objects("probes")
        )
        return cls(f.text("status"), f.text("verdict"), probes, f.texts("next_steps"))

    def probe_rows(self) -> list[tuple[str, ...]]:
        rows = []
        for p in self.probes:
            result = "read fine"
            if p.c2_bytes:
                result += f", but C2 pointers flagged {p.c2_bytes:,} bytes (a weak spot)"
            if p.failed_at is not None:
                words = sense_words(p.triple)
                result = f"failed at LBA {p.failed_at:,}: {words.triple} {words.name}, " + (
                    words.meaning
                )
            rows.append((f"{p.lba:,}..{p.lba + max(p.count, 1) - 1:,}", result))
        return rows

    def outcome(self) -> tuple[str, bool]:
        return self.verdict, self.status != "problem"


@record(frozen=True)
class DoctorView:
    catalog_id: str | None
    newest_revision: str | None
    unit_attentions: tuple[str, ...]
    not_ready: str | None  # the readiness sense triple when the drive was not ready
    profile: str | None
    sectors: int | None
    test: ReadTest

    @classmethod
    def read(cls, f: Fields) -> DoctorView:
        not_ready = f.obj("not_ready")
        return cls(
            f.opt_text("catalog_id"),
            f.opt_text("newest_revision"),
            f.texts("unit_attentions"),
            None if not_ready is None else not_ready.opt_text("triple"),
            f.opt_text("profile"),
            f.opt_count("sectors"),
            ReadTest.read(f),
        )

    def facts(self) -> Rows:
        readiness = "ready"
        if self.not_ready:
            words = sense_words(self.not_ready)
            readiness = f"not ready: {words.triple} {words.name}, {words.meaning}"
        return [
            ("catalog", self.catalog_id or "not in the catalog"),
            ("newer firmware", self.newest_revision),
            ("unit attentions", ", ".join(self.unit_attentions) or None),
            ("readiness", readiness),
            ("medium", self.profile),
            ("sectors", None if self.sectors is None else f"{self.sectors:,}"),
        ]

    def outcome(self) -> tuple[str, bool]:
        return self.test.outcome()


@record(frozen=True)
class Check:
    name: str
    outcome: str
    detail: str


@record(frozen=True)
class FlashView:
    firmware: str
    family: str | None
    dry_run: bool
    forced: tuple[str, ...]
    result: str
    before: Identity | None
    after: Identity | None
    image_revision: str | None
    image_sha256: str | None
    preflight: tuple[Check, ...]
    steps_total: int
    steps_sent: int
    wait_events: tuple[str, ...]
    backup: str | None
    error: str | None
    error_hint: str | None
    commands: int  # dry run: how many commands would have been sent
    read_test: ReadTest | None  # a disc read after a successful flash, when one was run

    @classmethod
    def read(cls, f: Fields) -> FlashView:
        image = f.obj("image")
        image_id = None if image is None else image.obj("identity")
        error = f.obj("error")
        return cls(
            f.text("firmware"),
            f.opt_text("family"),
            f.flag("dry_run"),
            f.texts("forced"),
            f.text("result"),
            Identity.read(f.obj("drive_before")),
            Identity.read(f.obj("drive_after")),
            None if image_id is None else image_id.opt_text("revision"),
            None if image is None else image.opt_text("sha256"),
            tuple(
                Check(c.text("name"), c.text("outcome"), c.opt_text("detail") or "")
                for c in f.objects("preflight")
            ),
            f.opt_count("steps_total") or 0,
            f.opt_count("steps_sent") or 0,
            f.texts("wait_events"),
            f.opt_text("backup"),
            None if error is None else error.opt_text("message"),
            None if error is None else error.opt_text("hint"),
            len(f.objects("commands")),
            None if (test := f.obj("read_test")) is None else ReadTest.read(test),
        )

    @property
    def commands_listed(self) -> str | None:
        return f"yes: {self.commands} commands listed, none sent" if self.dry_run else None

    def facts(self) -> Rows:
        return [
            ("firmware file", self.firmware),
            ("image revision", self.image_revision),
            ("image sha256", self.image_sha256),
            ("family", self.family),
            ("revision before", self.before.revision if self.before else None),
            ("revision after", self.after.revision if self.after else None),
            ("commands sent", f"{self.steps_sent} of {self.steps_total}"),
            ("dry run", self.commands_listed),
            ("backup", self.backup),
            ("checks overridden", ", ".join(self.forced) or None),
            ("drive came back with", ", ".join(self.wait_events) or None),
            ("error", self.error),
            ("next", self.error_hint),
        ]

    def outcome(self) -> tuple[str, bool]:
        return self.result, self.result == "success" or self.dry_run and self.error is None


Body = ScanView | DoctorView | FlashView


@record(frozen=True)
class Report:
    """What every renderer needs: the header facts, the kind's own view, the raw document."""

    kind: str
    device: str
    created: str | None
    version: str | None
    identity: Identity | None
    body: Body
    document: dict[str, Any]

    @property
    def title(self) -> str:
        drive = self.identity.name if self.identity else ""
        return f"rescue {self.kind} report" + (f": {drive}" if drive else "")

    def header(self) -> Rows:
        return [
            ("drive", self.identity.name if self.identity else "not recorded"),
            ("firmware revision", self.identity.revision if self.identity else "not recorded"),
            ("device", self.device),
            ("time", self.created),
            ("rescue version", self.version),
        ]


def kind_of(document: dict[str, Any]) -> str | None:
    """``kind`` as written by ``write_report``; a flash report is known by its shape."""
    kind = document.get("kind")
    if kind in ("doctor", "scan") and isinstance(document.get(kind), dict):
        return kind
    if kind in (None, "flash") and {"firmware", "preflight", "result"} <= document.keys():
        return "flash"
    return None


def read_report(document: object, where: str = "report") -> Report:
    """Check ``document`` and build its view; ``BadInput`` if it is not a rescue report."""
    kind = kind_of(document) if isinstance(document, dict) else None
    if kind is None:
        raise BadInput(
            f"{where}: not a rescue report (doctor, scan or flash)",
            hint="give the .json a `rescue doctor`, `scan` or `flash` wrote",
        )
    top = Fields(document, where)
    if kind == "flash":
        flash = FlashView.read(top)
        body: Body = flash
        identity = flash.after or flash.before
        created = top.opt_text("started")
    else:
        inner = Fields(document[kind], f"{where}.{kind}")
        body = DoctorView.read(inner) if kind == "doctor" else ScanView.read(inner)
        identity = Identity.read(inner.obj("identity") or top.obj("identity"))
        created = top.opt_text("created")
    return Report(
        kind,
        top.text("device"),
        created,
        top.opt_text("rescue_version"),
        identity,
        body,
        document,
    )


REPORT_LIMIT = 64 * 1024 * 1024  # a scan report of a ruined BD-XL is a few MiB


def load_report(path: Path) -> Report:
    """Read a report file; an ``.html`` report is read from the ``.json`` beside it."""
    if path.suffix == ".html":
        path = path.with_suffix(".json")
    try:  # never a device node, a FIFO, a folder or a /proc file: those hang or never end
        raw = read_user_file(path, "rescue report", REPORT_LIMIT)
    except RescueError as err:
        why = err.message.removeprefix(f"{path}: ")
        raise type(err)(f"{path}: cannot read the report: {why}", hint=err.hint) from None
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        reason = "nested too deeply" if isinstance(err, RecursionError) else "not valid JSON"
        raise BadInput(
            f"{path}: not a rescue report ({reason})",
            hint="give the .json a `rescue doctor`, `scan` or `flash` wrote",
        ) from None
    return read_report(document, path.name)
