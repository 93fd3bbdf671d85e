"""`rescue scan` on emulated discs: exact bad ranges, the mapfile, resume, Ctrl-C, reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.devices import open_device
from rescue.diagnostics import mapfile as mf
from rescue.diagnostics import scan as scan_engine
from rescue.diagnostics.scan import Scanner, ScanResult
from rescue.drive import Drive
from rescue.errors import ExitCode

BAD_DISC = "emu:generic-dvd,bad=1000-1099;5000,sectors=8192"


def _scan(capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str) -> tuple[int, dict]:
    code = main(["scan", *argv, "--json", "--reports", str(tmp_path / "reports")])
    return code, json.loads(capsys.readouterr().out)


def _read_lbas(journal: Path) -> list[tuple[int, int]]:
    """(lba, count) of every READ(10) the journal recorded."""
    out = []
    for line in journal.read_text().splitlines():
        cdb = bytes.fromhex(json.loads(line)["cdb"])
        if cdb[0] == 0x28:
            out.append((int.from_bytes(cdb[2:6], "big"), int.from_bytes(cdb[7:9], "big")))
    return out


def test_scan_reports_exactly_the_bad_ranges_and_maps_them(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    mapfile = tmp_path / "disc.map"
    code, body = _scan(capsys, tmp_path, BAD_DISC, "--mapfile", str(mapfile))
    assert code == ExitCode.MEDIUM_ERROR
    assert [(r["first"], r["last"], r["detail"]) for r in body["bad"]] == [
        (1000, 1099, "3/11/00"),
        (5000, 5000, "3/11/00"),
    ]
    parsed = mf.parse_mapfile(mapfile.read_text())
    bad = [(b.pos // 2048, b.size // 2048) for b in parsed.blocks if b.status == "-"]
    assert bad == [(1000, 100), (5000, 1)]
    assert {b.status for b in parsed.blocks} == {"+", "-"}
    assert parsed.blocks[-1].end == 8192 * 2048 and parsed.current_status == "+"
    report = json.loads(Path(body["report"]).read_text())
    assert report["kind"] == "scan" and report["scan"]["bad"] == body["bad"]


def test_clean_disc_exits_zero_and_human_output_says_so(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    assert main(["scan", "emu:generic-dvd,sectors=256", "--reports", str(tmp_path)]) == 0
    assert "every sector read" in capsys.readouterr().out


def test_resume_reads_only_what_the_mapfile_left(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    mapfile = tmp_path / "disc.map"
    done = mf.Mapfile(
        0, "?", 1, (mf.Block(0, 6000 * 2048, "+"), mf.Block(6000 * 2048, 2192 * 2048, "?"))
    )
    mapfile.write_text(mf.write_mapfile(done))
    journal = tmp_path / "j.jsonl"
    code, body = _scan(
        capsys, tmp_path, BAD_DISC, "--mapfile", str(mapfile), "--journal", str(journal)
    )
    assert code == 0  # the bad sectors lie in the part an earlier run finished
    fingerprint, *reads = _read_lbas(journal)
    assert fingerprint == (0, 16)  # the disc's first sectors: is this the disc the map is of?
    assert min(lba for lba, _ in reads) == 6000
    assert sum(n for _, n in reads) == 2192 == body["sectors_read_now"]
    assert mf.parse_mapfile(mapfile.read_text()).blocks == (mf.Block(0, 8192 * 2048, "+"),)


def test_slow_ranges_are_reported_with_their_time(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    _, body = _scan(capsys, tmp_path, "emu:generic-dvd,sectors=512,slow=100:3;300-400:2,speed=0")
    assert [(r["first"], r["last"], r["seconds"]) for r in body["slow"]] == [
        (96, 127, 3.0),
        (288, 415, 8.0),  # four touching blocks of 2 s each: one range
    ]
    slow_zone = next(z for z in body["zones"] if z["first"] <= 100 < z["first"] + z["count"])
    assert slow_zone["kib_per_second"] == pytest.approx(32 * 2048 / 1024 / 3)


class _InterruptAfter:
    """A drive stand-in whose Nth READ raises KeyboardInterrupt, as Ctrl-C would."""

    def __init__(self, drive: Drive, reads: int) -> None:
        self._drive, self._left = drive, reads
        self.transport = drive.transport  # the scanner reads the clock there

    def read10(self, lba: int, blocks: int) -> bytes:
        self._left -= 1
        if self._left < 0:
            raise KeyboardInterrupt
        return self._drive.read10(lba, blocks)

    def now(self) -> float:
        return self._drive.now()


def test_ctrl_c_keeps_what_was_learnt_and_a_resume_finishes() -> None:
    drive = Drive(open_device("emu:generic-dvd,sectors=1024,bad=40"))
    drive.settle()
    result = ScanResult(0, 1024, bytearray(b"?" * 1024))
    Scanner(_InterruptAfter(drive, 50), block=32).run(result)  # type: ignore[arg-type]
    assert result.interrupted and result.position < 1024
    assert result.status[:32] == b"+" * 32 and result.status[40] == ord("-")
    assert result.status[-1] == ord("?")
    again = ScanResult(0, 1024, mf.to_sectors(result.mapfile(), 2048, 1024))
    Scanner(drive).run(again)
    assert not again.interrupted and set(again.status) == {ord("+"), ord("-")}
    assert [r.first for r in again.bad] == [40]
    assert again.sectors_read_now == 1024 - result.position


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["--start", "100", "--end", "50"], ExitCode.USAGE),
        (["--end", "9000"], ExitCode.USAGE),
        (["--block", "0"], ExitCode.USAGE),
    ],
)
def test_bad_ranges_are_usage_errors(capsys, tmp_path: Path, argv: list[str], code: int) -> None:  # noqa: ANN001
    assert main(["scan", BAD_DISC, *argv, "--reports", str(tmp_path)]) == code
    assert "error:" in capsys.readouterr().err


def test_no_disc_is_not_ready(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    assert main(["scan", "emu:generic-dvd,disc=none", "--reports", str(tmp_path)]) == 7
    assert "2/3A" in capsys.readouterr().err


def test_corrupt_mapfile_is_bad_input(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    mapfile = tmp_path / "x.map"
    mapfile.write_text("hello\n")
    assert main(["scan", BAD_DISC, "--mapfile", str(mapfile), "--reports", str(tmp_path)]) == 5


def test_disc_gone_mid_scan_stops_without_marking_sectors_bad(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    mapfile = tmp_path / "disc.map"
    gone = "emu:generic-dvd,sectors=1024,fault=sense:2/3A/00@28.6-9999"  # READ 1: fingerprint
    code, body = _scan(capsys, tmp_path, gone, "--mapfile", str(mapfile))
    assert code == ExitCode.NOT_READY
    assert body["complete"] is False and body["stopped_at"] == 128 and body["bad"] == []
    assert "2/3A/00" in body["stopped_by"]
    blocks = mf.parse_mapfile(mapfile.read_text()).blocks
    assert [(b.pos // 2048, b.size // 2048, b.status) for b in blocks] == [
        (0, 128, "+"),
        (128, 896, "?"),
    ]
    code, body = _scan(capsys, tmp_path, "emu:generic-dvd,sectors=1024", "--mapfile", str(mapfile))
    assert code == 0 and body["sectors_read_now"] == 896


def test_drive_dropping_off_the_bus_still_leaves_the_mapfile(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    mapfile = tmp_path / "disc.map"
    argv = ["scan", "emu:generic-dvd,sectors=1024,fault=gone@28.6", "--mapfile", str(mapfile)]
    assert main([*argv, "--reports", str(tmp_path)]) == ExitCode.NO_DEVICE
    out = " ".join(capsys.readouterr().out.split())  # a summary, not just an error line
    assert "stopped: the drive went away" in out and "vanished during command 28h" in out
    blocks = mf.parse_mapfile(mapfile.read_text()).blocks
    assert [(b.pos // 2048, b.status) for b in blocks] == [(0, "+"), (128, "?")]


def test_mapfile_is_checkpointed_during_the_scan(capsys, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from rescue.ops import scan as scan_cmd

    seen: list[int] = []
    save = scan_cmd._save_mapfile

    def spy(path: str, result: ScanResult, device: str) -> None:
        save(path, result, device)
        seen.append(mf.parse_mapfile(Path(path).read_text()).current_pos // 2048)

    monkeypatch.setattr(scan_cmd, "CHECKPOINT_SECONDS", 0.0)
    monkeypatch.setattr(scan_engine, "PROGRESS_SECONDS", 0.0)  # progress after every block
    monkeypatch.setattr(scan_cmd, "_save_mapfile", spy)
    mapfile = tmp_path / "disc.map"
    code, _ = _scan(capsys, tmp_path, "emu:generic-dvd,sectors=256", "--mapfile", str(mapfile))
    assert code == 0
    assert seen == [*range(32, 257, 32), 256]  # after every block, and once at the end


def test_progress_is_told_at_most_every_progress_seconds(monkeypatch) -> None:  # noqa: ANN001
    """A call per block would cost a fast drive's scan more than its reads: it is batched."""
    drive = Drive(open_device("emu:generic-dvd,sectors=1024"))
    drive.settle()
    told: list[int] = []
    monkeypatch.setattr(scan_engine, "PROGRESS_SECONDS", 3600.0)
    Scanner(drive, block=32).run(ScanResult(0, 1024, bytearray(b"?" * 1024)), told.append)
    assert told == [1024]  # nothing due within the hour: once, at the end, with every sector
    told.clear()
    monkeypatch.setattr(scan_engine, "PROGRESS_SECONDS", 0.0)
    Scanner(drive, block=32).run(ScanResult(0, 1024, bytearray(b"?" * 1024)), told.append)
    assert told == [32] * 32


class _CountedClock:
    """An emulated drive's transport whose clock reads are counted; no prepared reader, so the
    scan reads through the stand-in drive below."""

    def __init__(self, transport: object) -> None:
        self._transport, self.reads = transport, 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._transport, name)

    def now(self) -> float:
        self.reads += 1
        return self._transport.now()  # type: ignore[attr-defined]

    def bulk_reader(self, *args: object) -> None:
        return None


class _ClockedDrive:
    def __init__(self, drive: Drive) -> None:
        self._drive, self.transport = drive, _CountedClock(drive.transport)

    def read10(self, lba: int, blocks: int) -> bytes:
        return self._drive.read10(lba, blocks)


def test_a_block_is_timed_with_one_clock_read_and_progress_time_is_no_reads(monkeypatch) -> None:  # noqa: ANN001
    """One clock read per block (a system call of ~2 us in the TCG guest), and the time a
    progress call takes is not put on the next block (docs/performance.md)."""
    drive = Drive(open_device("emu:generic-dvd,sectors=1024,slow=0-1023:1,speed=0"))
    drive.settle()
    quiet = _ClockedDrive(drive)
    result = Scanner(quiet, block=32).run(ScanResult(0, 1024, bytearray(b"?" * 1024)))  # type: ignore[arg-type]
    assert quiet.transport.reads <= 32 + 2  # one a block, and the start's
    assert sum(zone.seconds for zone in result.zones) == pytest.approx(32.0)
    monkeypatch.setattr(scan_engine, "PROGRESS_SECONDS", 0.0)  # told after every block
    told = _ClockedDrive(drive)
    result = Scanner(told, block=32, slow_seconds=0.5).run(  # type: ignore[arg-type]
        ScanResult(0, 1024, bytearray(b"?" * 1024)), lambda _: drive.transport.sleep(100.0)
    )
    assert sum(zone.seconds for zone in result.zones) == pytest.approx(32.0)
    assert [(r.first, r.count, r.seconds) for r in result.slow] == [(0, 1024, pytest.approx(32.0))]


def test_progress_counts_what_an_interrupted_scan_dealt_with(monkeypatch) -> None:  # noqa: ANN001
    drive = Drive(open_device("emu:generic-dvd,sectors=1024"))
    drive.settle()
    told: list[int] = []
    monkeypatch.setattr(scan_engine, "PROGRESS_SECONDS", 3600.0)
    result = ScanResult(0, 1024, bytearray(b"?" * 1024))
    Scanner(_InterruptAfter(drive, 5), block=32).run(result, told.append)  # type: ignore[arg-type]
    assert result.interrupted and told == [result.position] == [160]


def test_reads_fit_what_the_path_carries(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    """A path that carries 16 KiB per command (a capped bridge, a small max_sectors_kb)
    gets 8-sector READs, never the 32 of --block: a larger one would fail in the kernel."""
    journal = tmp_path / "j.jsonl"
    spec = "emu:generic-dvd,sectors=1024,maxxfer=16384"
    code, body = _scan(capsys, tmp_path, spec, "--block", "32", "--journal", str(journal))
    assert code == 0 and body["sectors_read_now"] == 1024 and not body["bad"]
    reads = _read_lbas(journal)
    assert {count for _, count in reads} == {8} and len(reads) == 128
    assert body["sectors_per_read"] == 8
    why = body["sectors_per_read_why"]
    assert "--block 32 asked for more than the path carries, 16384 bytes" in why


def test_reads_keep_the_asked_size_when_the_path_carries_it(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    spec = "emu:generic-dvd,sectors=1024,maxxfer=65536"
    code, body = _scan(capsys, tmp_path, spec, "--block", "32")
    assert code == 0 and body["sectors_per_read"] == 32 and body["sectors_per_read_why"] is None


@pytest.mark.parametrize(
    "maxxfer, per_read, why",
    [
        (65536, 32, "what the path carries, 65536 bytes"),
        (245760, 120, "what the path carries, 245760 bytes"),  # not a power of two: 120 sectors
        (4 << 20, scan_engine.AUTO_MOST, f"up to {scan_engine.AUTO_MOST} a READ"),
        (None, scan_engine.DEFAULT_BLOCK, None),  # the path does not say: the old default
    ],
)
def test_without_block_a_scan_reads_what_the_path_carries(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, maxxfer: int | None, per_read: int,
    why: str | None,
) -> None:
    """No --block: the READs are as large as the path's limit allows, capped at AUTO_MOST,
    and the summary says where the size came from."""
    journal = tmp_path / "j.jsonl"
    spec = "emu:generic-dvd,sectors=2048" + (f",maxxfer={maxxfer}" if maxxfer else "")
    code, body = _scan(capsys, tmp_path, spec, "--journal", str(journal))
    assert code == 0 and body["sectors_read_now"] == 2048 and body["sectors_per_read"] == per_read
    assert max(count for _, count in _read_lbas(journal)) == per_read
    if why is None:
        assert body["sectors_per_read_why"] is None
    else:
        assert why in body["sectors_per_read_why"]


def test_a_failed_large_block_is_reread_in_small_runs_then_sectors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """One bad sector in a 512-sector block: the block, its 16 runs of 32, then the failed
    run's 32 sectors: 49 READs, not 513; every other sector read, the bad one mapped."""
    journal = tmp_path / "j.jsonl"
    spec = f"emu:generic-dvd,sectors=512,bad=300,maxxfer={4 << 20}"
    code, body = _scan(capsys, tmp_path, spec, "--journal", str(journal), "--retries", "0")
    assert code == ExitCode.MEDIUM_ERROR
    assert [(r["first"], r["last"]) for r in body["bad"]] == [(300, 300)]
    reads = _read_lbas(journal)
    assert reads[0] == (0, 512)
    runs, singles = [(lba, 32) for lba in range(0, 512, 32)], [(lba, 1) for lba in range(288, 320)]
    assert reads[1:] == runs[:10] + singles + runs[10:]  # the run at 288 fails: its sectors next
    assert body["sectors_read_now"] == 512


def test_piped_output_is_plain_and_leaves_rich_unloaded(tmp_path: Path) -> None:
    """Into a pipe no bar shows and no colour is kept, so rich (a large share of the
    command's start-up) is not imported; the words are the terminal's, tags taken out."""
    probe = (
        "import sys; from rescue.cli import main; "
        f"code = main(['scan', {BAD_DISC!r}, '--reports', {str(tmp_path)!r}]); "
        "print('rich loaded' if any(m.split('.')[0] == 'rich' for m in sys.modules) "
        "else 'rich not loaded', code, file=sys.stderr)"
    )
    env = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False
    )
    assert done.stderr.strip() == f"rich not loaded {int(ExitCode.MEDIUM_ERROR)}"
    assert "  unreadable LBA 1000..1099 (100 sectors) 3/11/00\n" in done.stdout
    assert "[" not in done.stdout  # no markup tag left behind


@pytest.mark.parametrize(
    "done",
    [
        [(0, 40), (100, 164)],  # done stretches that end inside blocks, on both sides
        [(31, 33), (500, 1024)],  # one done pair across a block edge; the tail all done
        [(64, 96)],  # exactly one block
    ],
)
def test_a_resumed_scan_reads_each_untried_sector_once_and_no_other(done) -> None:  # noqa: ANN001
    """The short way for untried blocks and the general path for part-done ones meet
    without a gap or an overlap, and every status byte ends written."""
    drive = Drive(open_device("emu:generic-dvd,sectors=1024"))
    drive.settle()
    status = bytearray(b"?" * 1024)
    for first, stop in done:
        status[first:stop] = b"+" * (stop - first)
    untried = {lba for lba in range(1024) if status[lba] == ord("?")}
    reads: list[tuple[int, int]] = []
    real = drive.read10

    def counting(lba: int, blocks: int, timeout: float = 30.0) -> bytes:
        reads.append((lba, blocks))
        return real(lba, blocks, timeout)

    drive.read10 = counting  # type: ignore[method-assign]
    result = Scanner(drive, block=32).run(ScanResult(0, 1024, status))
    sent = [lba for first, count in reads for lba in range(first, first + count)]
    assert sorted(sent) == sorted(untried)  # each untried sector once, no finished one
    assert result.status == b"+" * 1024 and result.sectors_read_now == len(untried)
    assert all(count <= 32 for _, count in reads)


def test_a_scan_of_a_real_node_discovers_the_drives_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening the node and naming the report both resolve DEV: one walk serves both
    (a full walk costs about 1.5 s under TCG; rescue/discovery ``discovered_once``)."""
    import rescue.discovery as discovery
    from rescue.discovery.model import DriveNode, Inventory
    from rescue.emulator.registry import create
    from rescue.transport import sgio
    from rescue.transport.emulated import EmulatedTransport

    drive = DriveNode(
        0, "9:0:0:0", "/dev/sr9", "/dev/sg9", "RESCUE", "EMU DVD", "1.00", "sata", "sr"
    )
    walks: list[int] = []
    monkeypatch.setattr(
        discovery, "discover", lambda: walks.append(1) or Inventory("sysfs", [drive])
    )
    opened: list[str] = []

    def open_node(path: str, journal=None, exclusive: bool = False) -> EmulatedTransport:  # noqa: ANN001
        opened.append(path)
        return EmulatedTransport(create("generic-dvd,sectors=256"), path, journal)

    monkeypatch.setattr(sgio, "SgioTransport", open_node)
    code, body = _scan(capsys, tmp_path, "/dev/sr9")
    assert code == 0 and body["sectors_read_now"] == 256
    assert opened == ["/dev/sg9"]  # resolved: the sg node of the drive named by its sr node
    assert Path(body["report"]).name.startswith("scan-EMU_DVD-sr9-")  # the report's resolve
    assert walks == [1] and discovery._pinned == []


def test_a_scan_inside_a_pinned_inventory_walks_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bench worker pins the parent's discovery; the scan's own once-only walk keeps to it."""
    import rescue.discovery as discovery
    from rescue.discovery.model import Inventory

    walks: list[int] = []
    monkeypatch.setattr(discovery, "discover", lambda: walks.append(1) or Inventory("sysfs"))
    with discovery.pinned(Inventory("sysfs")):
        code, _ = _scan(capsys, tmp_path, "/dev/sg9")
    assert code == ExitCode.NO_DEVICE and walks == []  # not found in the pinned inventory
