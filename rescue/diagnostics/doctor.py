"""`doctor` logic: a guided look at one drive that ends in a verdict and next steps.

People bring a drive because "it stopped reading discs"; the useful answer
ties together what the drive is (identity against the catalog: is a newer
revision known?), whether it is ready and has a disc, what medium it sees,
and whether a short read test at the start, middle and end of the disc
works, because trouble often starts past the middle of a DVD where the
laser reaches the outer tracks. Everything is gathered as plain data first
(the JSON report), then turned into words.
"""

from __future__ import annotations

from collections.abc import Callable
from shlex import quote

from rescue.diagnostics.readmethod import (
    ReadMethod,
    choose,
    layout_holds,
    read_sectors,
    sector_bytes,
)
from rescue.diagnostics.scan import LAYOUT_PROBE_LBA, Scanner, ScanResult
from rescue.drive import Drive
from rescue.errors import ParseError, RescueError
from rescue.firmware.catalog import find_drive
from rescue.firmware.plan import revision_key
from rescue.ops.pathcheck import fit_sectors
from rescue.record import asdict, field, record
from rescue.scsi.sense import Sense, SenseError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import Any

PROBE_SECTORS = 16
SHORT_SCAN_SECTORS = 2048  # 4 MiB from the start: seconds on any drive
DISC_WAIT_SECONDS = 30.0  # after "insert a disc": how long a drive may take to load it
POLL_SECONDS = 1.0
BECOMING_READY = (0x04, 0x01)  # 2/04/01: the drive is loading the disc
SECTOR = 2048
NO_MEDIUM_ASC = 0x3A
NOT_READY_KEY = 0x2

OK = "ok"
NO_DISC = "no-disc"
PROBLEM = "problem"


@record(frozen=True)
class Probe:
    """One read of the short test: where, and the sense when it failed."""

    lba: int
    count: int
    failed_at: int | None = None
    triple: str | None = None
    sense_name: str = ""  # the ASC/ASCQ name, so the verdict reads in words
    c2_bytes: int = 0  # bytes the C2 pointers flagged (CDs in drives that report them)


@record
class Diagnosis:
    device: str
    identity: dict[str, str]
    catalog_id: str | None = None
    newest_revision: str | None = None  # the catalog's newest, when newer than the drive's
    unit_attentions: list[str] = field(default_factory=list)  # "6/29/00 POWER ON, ..."
    not_ready: dict[str, Any] | None = None  # the readiness sense, None when ready
    profile: str | None = None
    sectors: int | None = None
    probes: list[Probe] = field(default_factory=list)
    status: str = OK
    verdict: str = ""
    next_steps: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _catalog(d: Diagnosis) -> None:
    entry = find_drive(d.identity["vendor"], d.identity["product"])
    if entry is None or not entry.revisions:
        return
    d.catalog_id = entry.id
    newest = entry.revisions[-1].rev
    if revision_key(newest) > revision_key(d.identity["revision"]):
        d.newest_revision = newest


def _profile(drive: Drive) -> str | None:
    try:
        return drive.configuration().current_profile_name
    except RescueError:
        return None


C2Reader = Callable[[int, int], int]  # (lba, count) -> bytes the C2 pointers flagged


def _probe(drive: Drive, lba: int, count: int, c2: C2Reader | None) -> Probe:
    try:
        drive.read10(lba, count)
    except SenseError as err:
        info = err.sense.information if err.sense else None
        where = info if info is not None and lba <= info < lba + count else lba
        name = err.sense.asc_name if err.sense else ""
        return Probe(lba, count, where, err.triple or "no sense", name)
    if c2 is None:
        return Probe(lba, count)
    try:
        return Probe(lba, count, c2_bytes=c2(lba, count))
    except (SenseError, ParseError):  # READ CD is only a bonus here: READ(10) read it
        return Probe(lba, count)


def _c2_reader(drive: Drive, sectors: int) -> C2Reader | None:
    """C2-flagged bytes of a range, when the disc is a CD and the drive really reports them.

    The same choice and layout check as a scan (rescue.diagnostics.readmethod):
    a drive that ignores READ CD's Error Field would make user data read as errors.
    """
    if choose(drive, ReadMethod.AUTO)[0] is not ReadMethod.CD:
        return None
    lba = LAYOUT_PROBE_LBA if sectors >= LAYOUT_PROBE_LBA + 2 else 0
    fits = fit_sectors(drive.transport, 2, sector_bytes(ReadMethod.CD))  # 1 on a tiny cap
    try:
        if not layout_holds(drive, lba, min(2, sectors, fits)):
            return None
    except (SenseError, ParseError):
        return None
    return lambda lba, count: sum(read_sectors(drive, ReadMethod.CD, lba, count))


def read_test(drive: Drive, sectors: int) -> list[Probe]:
    """Read a few blocks at the first, middle and last LBAs of the disc.

    Each READ asks no more than the path carries (a USB bridge's cap,
    rescue/ops/pathcheck.py): READ CD with C2 moves 2048 + 294 bytes a sector.
    """
    c2 = _c2_reader(drive, sectors)
    per_sector = sector_bytes(ReadMethod.READ10 if c2 is None else ReadMethod.CD)
    count = min(fit_sectors(drive.transport, PROBE_SECTORS, per_sector), sectors)
    starts = sorted({0, max(0, sectors // 2 - count // 2), sectors - count})
    return [_probe(drive, lba, count, c2) for lba in starts]


def examine(drive: Drive, device: str) -> Diagnosis:
    ident = drive.identity
    d = Diagnosis(
        device, {"vendor": ident.vendor, "product": ident.product, "revision": ident.revision}
    )
    _catalog(d)
    sense, attentions = drive.settle()
    d.unit_attentions = [f"{a.triple} {a.asc_name}" for a in attentions]
    d.profile = _profile(drive)
    if sense is None:
        try:
            d.sectors = drive.read_capacity().blocks
        except SenseError as err:
            sense = err.sense
        else:
            d.probes = read_test(drive, d.sectors)
    if sense is not None:
        d.not_ready = sense.to_dict()
    conclude(d, sense)
    return d


def _no_disc(sense: Sense | None) -> bool:
    return sense is not None and sense.key == NOT_READY_KEY and sense.asc == NO_MEDIUM_ASC


def _wait_for_disc(drive: Drive) -> Sense | None:
    """Poll until a disc is in and ready, or DISC_WAIT_SECONDS passed; the last sense."""
    deadline = drive.now() + DISC_WAIT_SECONDS
    sense, _ = drive.settle()
    while sense is not None and drive.now() < deadline:
        if not _no_disc(sense) and (sense.asc, sense.ascq) != BECOMING_READY:
            break
        drive.sleep(POLL_SECONDS)
        sense, _ = drive.settle()
    return sense


def read_test_after_flash(
    drive: Drive, device: str, ask_for_disc: Callable[[], bool] | None = None
) -> dict[str, Any]:
    """Doctor's read test for the flash report: does the drive read discs after the flash?

    A flash needs an empty drive, so there is usually no disc yet: when the
    caller can ask a person (``ask_for_disc`` returns False if they decline),
    the drive is polled while they insert one; otherwise the test is skipped
    and says so, with the command that runs it later.
    """
    sense, _ = drive.settle()
    if _no_disc(sense) and ask_for_disc is not None and ask_for_disc():
        sense = _wait_for_disc(drive)
    if _no_disc(sense):
        return {
            "status": NO_DISC,
            "verdict": "no disc: read test skipped",
            "next_steps": [f"insert a data disc and run `rescue doctor {quote(device)}`"],
        }
    d = examine(drive, device)
    keep = ("status", "verdict", "profile", "sectors", "probes", "not_ready", "next_steps")
    test = {key: value for key, value in d.to_dict().items() if key in keep}
    if d.status == OK and d.sectors:
        scan = test["short_scan"] = short_scan(drive, d.sectors)
        if scan["bad"] or scan["stopped_by"]:
            test["status"] = PROBLEM
        test["verdict"] += f"; {_scan_words(scan)}"
    return test


def short_scan(drive: Drive, sectors: int) -> dict[str, Any]:
    """``rescue scan`` over the first SHORT_SCAN_SECTORS: exact ranges, C2 on a CD.

    The three probes only touch 48 sectors; a scan of the first few MiB, where
    every disc has data, also catches weak sectors a CD drive flags with C2.
    The Scanner sizes its READs to the path (a USB bridge's cap), as a scan does.
    """
    method, _ = choose(drive, ReadMethod.AUTO)
    span = ScanResult(0, min(sectors, SHORT_SCAN_SECTORS), bytearray(b"?" * sectors))
    body = Scanner(drive, method=method).run(span).to_dict()
    keep = ("start", "end", "complete", "stopped_by", "read_method", "fallback", "bad", "weak")
    return {key: body[key] for key in keep}


def _scan_words(scan: dict[str, Any]) -> str:
    where = f"a scan of LBAs {scan['start']}..{scan['end']}"
    if scan["stopped_by"]:
        return f"{where} stopped: {scan['stopped_by']}"
    bad = sum(r["count"] for r in scan["bad"])
    weak = sum(r["count"] for r in scan["weak"])
    if not bad and not weak:
        return f"{where} read every sector"
    found = [f"{bad} unreadable"] if bad else []
    found += [f"{weak} weak (C2 errors)"] if weak else []
    return f"{where} found {' and '.join(found)} sectors"


def _medium_word(profile: str | None) -> str:
    text = (profile or "").upper()
    return "DVD" if "DVD" in text else "BD" if "BD" in text else "CD" if "CD" in text else "disc"


def conclude(d: Diagnosis, sense: Sense | None) -> None:
    """Verdict and next steps from the gathered facts (no drive access)."""
    plan = (
        f"firmware {d.identity['revision']} is older than {d.newest_revision} in the "
        f"catalog: see `rescue plan {quote(d.device)} --to {quote(d.newest_revision)}`"
    )
    if sense is not None and sense.key == NOT_READY_KEY and sense.asc == NO_MEDIUM_ASC:
        d.status = NO_DISC
        d.verdict = f"no disc in the drive ({sense.triple} {sense.asc_name})"
        d.next_steps.append(
            f"insert a data CD or DVD and run `rescue doctor {quote(d.device)}` again "
            "for a read test"
        )
    elif sense is not None:
        d.status = PROBLEM
        d.verdict = f"the drive is not ready: {sense.triple} {sense.asc_name}"
        d.next_steps.append("wait a few seconds, reinsert the disc, and run doctor again")
    else:
        failed = [p for p in d.probes if p.failed_at is not None]
        kind = _medium_word(d.profile)
        if failed:
            first = failed[0]
            d.status = PROBLEM
            mib = (first.failed_at or 0) * SECTOR // 2**20
            d.verdict = (
                f"{kind} reads fail at LBA {first.failed_at} ({mib} MiB into the disc) "
                f"with {first.triple} {first.sense_name}".rstrip()
            )
            if d.newest_revision:
                d.next_steps.append(plan)
            d.next_steps.append(
                "try another disc: a scratched or degraded disc fails the same "
                "way; if every DVD fails while CDs read, the DVD laser or the "
                "firmware is suspect"
            )
            d.next_steps.append(f"`rescue scan {quote(d.device)}` maps every unreadable sector")
        elif flagged := sum(p.c2_bytes for p in d.probes):
            d.verdict = (
                f"reads this {kind}, but its C2 error pointers flagged {flagged} bytes in "
                "the test reads: the disc is starting to fail; copy it soon"
            )
            d.next_steps.append(
                f"`rescue scan {quote(d.device)}` lists every weak sector "
                "(read only with C2 errors)"
            )
        else:
            d.verdict = f"reads this {kind} fine (start, middle and end)"
    if d.newest_revision and plan not in d.next_steps:
        d.next_steps.append(plan + " (not urgent unless reads fail)")
