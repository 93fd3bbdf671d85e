"""`rescue bench` headless: one job on many emulated drives at once, one process per drive.

Each drive is an ``emu:`` spec with its own ``state=`` file, so the worker
process that flashes it and this test see one drive; the state file is the
drive's flash, read here to prove what it holds afterwards.
"""

from __future__ import annotations

import builtins
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from rescue.bench.runner import RANKING, DriveResult, Task, run_batch, worst
from rescue.cli import main
from rescue.emulator.images import make_btc_image
from rescue.engine.context import RunContext
from rescue.errors import ExitCode

FAILING_CHUNK = "fault=sense:4/44/00@3b.7"  # the 7th WRITE BUFFER fails inside the drive


def btc(bench: Path, name: str, extra: str = "") -> str:
    spec = f"emu:btc-drw1004im,rev=0043,disc=none,serial=BENCH-{name},state={bench / name}.state"
    return spec + (f",{extra}" if extra else "")


def image(bench: Path, revision: str = "0050") -> Path:
    path = bench / f"V{revision}.bin"
    path.write_bytes(make_btc_image(revision))
    return path


def summary(bench: Path) -> dict:
    (found,) = (bench / "reports").glob("bench-*.json")
    return json.loads(found.read_text())


def test_a_batch_flash_changes_every_healthy_drive_and_reports_the_faulty_one(
    bench: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fw = image(bench)
    healthy = [btc(bench, f"ok{n}") for n in range(3)]
    faulty = btc(bench, "bad", FAILING_CHUNK)
    main(["info", faulty])  # make its state file: the flash before
    before = (bench / "bad.state").read_bytes()
    capsys.readouterr()
    code = main(["bench", "--flash", str(fw), "--yes", "--no-backup", *healthy, faulty])
    out = capsys.readouterr().out
    assert code == ExitCode.MEDIUM_ERROR  # the faulty drive's own error (4/44/00)
    for n in range(3):
        assert (bench / f"ok{n}.state").read_bytes() == fw.read_bytes()
    assert (bench / "bad.state").read_bytes() == before  # nothing saved to its flash
    lines = [line for line in out.splitlines() if line.startswith("[")]
    assert len(lines) == 4
    (bad_line,) = [line for line in lines if "BENCH-bad" in line]
    assert "failed (exit 8)" in bad_line and "4/44/00" in bad_line
    assert all("success; DVDRW IDE1004 0043 -> 0050" in x for x in lines if x != bad_line)
    doc = summary(bench)
    assert doc["exit_code"] == 8 and doc["succeeded"] == 3
    assert [d["device"] for d in doc["drives"]] == [*healthy, faulty]  # the order given
    for row in doc["drives"]:
        report = json.loads(Path(row["report"]).read_text())
        assert report["device"] == row["device"] and Path(report["journal"]).exists()
    page = next((bench / "reports").glob("bench-*.html")).read_text()
    assert page.count("<tr><td") == 4 and "3 of 4 drives succeeded" in page


def test_json_prints_one_object_per_drive(bench: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fw = image(bench)
    devices = [btc(bench, "a"), "emu:generic-dvd,disc=none"]
    code = main(["bench", "--flash", str(fw), "--yes", "--no-backup", "--json", *devices])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == ExitCode.REFUSED  # no protocol for the generic drive: refused, nothing sent
    assert {r["device"]: r["exit_code"] for r in rows} == {devices[0]: 0, devices[1]: 6}
    flashed = next(r for r in rows if r["device"] == devices[0])
    assert flashed["drive_after"]["revision"] == "0050"


class Tty:
    def isatty(self) -> bool:
        return True

    def close(self) -> None:  # a forked worker closes its stdin
        pass


def test_one_question_lists_every_drive_and_skips_the_one_a_check_refuses(
    bench: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fw = image(bench)
    asked: list[str] = []
    monkeypatch.setattr(sys, "stdin", Tty())
    monkeypatch.setattr(builtins, "input", lambda q="": asked.append(q) or "YES")
    other = f"emu:tsst-shd163c,disc=none,state={bench / 'tsst.state'}"  # not this image's drive
    devices = [btc(bench, "a"), btc(bench, "b"), other]
    code = main(["bench", "--flash", str(fw), "--no-backup", *devices])
    out = capsys.readouterr().out
    assert len(asked) == 1 and "2 drive(s)" in asked[0]
    assert "Image: " in out and out.count("  flash  ") == 2 and "SKIP   " + other in out
    assert code == ExitCode.BAD_INPUT  # a BTC image is no image for a TSST drive
    assert (bench / "a.state").read_bytes() == fw.read_bytes()
    assert (bench / "b.state").read_bytes() == fw.read_bytes()
    rows = {d["device"]: d for d in summary(bench)["drives"]}
    assert rows[other]["result"].startswith("skipped")
    assert "cannot be flashed" in rows[other]["message"]


def test_no_yes_and_no_terminal_sends_nothing(
    bench: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fw = image(bench)
    main(["info", btc(bench, "a")])
    before = (bench / "a.state").read_bytes()
    assert main(["bench", "--flash", str(fw), "--no-backup", btc(bench, "a")]) == 6
    assert (bench / "a.state").read_bytes() == before
    assert "no terminal" in capsys.readouterr().err


def test_doctor_and_scan_on_many_drives(bench: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = "emu:generic-dvd,sectors=1024", "emu:generic-dvd,sectors=1024,bad=10-12"
    assert main(["bench", "--doctor", good, "emu:btc-drw1004im,disc=none"]) == 0
    assert main(["bench", "--scan", "--json", good, bad]) == ExitCode.MEDIUM_ERROR
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    scanned = {r["device"]: r for r in rows}
    assert scanned[bad]["message"].startswith("3 unreadable sectors")
    assert Path(scanned[good]["journal"]).exists() and Path(scanned[good]["report"]).exists()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["bench", "--doctor", "emu:generic-cd", "emu:generic-cd"], "named twice"),
        (  # one state file spelled two ways is one drive: two workers would write it at once
            ["bench", "--doctor", "emu:generic-cd,state=bs.state", "emu:generic-cd,state=./bs.state"],  # noqa: E501
            "emu:generic-cd,state=bs.state and emu:generic-cd,state=./bs.state are one drive",
        ),
        (["bench", "--doctor"], "at least one DEV"),
    ],
)
def test_usage(
    bench: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    assert main(argv) == ExitCode.USAGE
    assert words in capsys.readouterr().err


def test_worst_code_follows_the_documented_ranking() -> None:
    assert worst([0, 0]) == 0
    assert worst([6, 8, 0]) == 8 and worst([2, 6]) == 6 and worst([9, 1]) == 1
    assert worst([130, 1]) == 130 and worst([77, 1]) == 77  # an unknown code ranks first
    assert len(set(RANKING)) == len(RANKING) == 13


def _sleeps(ctx: object, result: DriveResult) -> None:
    time.sleep(60)


def _dies(ctx: object, result: DriveResult) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _quick(ctx: object, result: DriveResult) -> None:
    result.exit_code, result.result = 0, "success"


def test_a_hung_or_dying_worker_changes_no_other_drive(bench: Path) -> None:
    seen: list[str] = []
    started = time.monotonic()
    results = run_batch(
        [Task("hung", "x", _sleeps), Task("dies", "x", _dies), Task("fine", "x", _quick)],
        timeout=2.0,
        on_result=lambda r: seen.append(r.device),
    )
    assert time.monotonic() - started < 30
    hung, dies, fine = results
    assert fine.exit_code == 0 and seen.index("fine") < seen.index("hung")
    assert hung.exit_code == ExitCode.TIMEOUT and "stopped after 2 s" in hung.message
    assert dies.exit_code == ExitCode.FAILURE and "signal 9" in dies.message


def _naps(ctx: object, result: DriveResult) -> None:
    time.sleep(1.5)
    _quick(ctx, result)


def test_the_parent_wakes_for_results_and_deadlines_only(
    bench: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No polling while the workers run: their CPU is the batch's wall time under TCG."""
    import multiprocessing.connection

    from rescue.bench import runner

    waits: list[float | None] = []
    real = multiprocessing.connection.wait

    def counted(objects: list, timeout: float | None = None) -> list:
        waits.append(timeout)
        return real(objects, timeout)

    monkeypatch.setattr(runner.multiprocessing.connection, "wait", counted)
    results = run_batch([Task("a", "x", _naps), Task("b", "x", _naps)], timeout=600.0)
    assert [r.exit_code for r in results] == [0, 0]
    # Two results, two ends of file and the joins (which wait STOP_GRACE at most): no wake
    # every 0.2 s in between.
    assert len(waits) <= 6 and min(t or 0 for t in waits) >= runner.STOP_GRACE, waits


def _chatty(ctx: RunContext, result: DriveResult) -> None:
    for done in range(1001):
        ctx.emit("chatty", "progress", "write", done=done, total=1000)
    ctx.emit("chatty", "stage", "done")
    result.exit_code, result.result = 0, "success"
    result.extra = {"listening": ctx.listener is not None}


def test_events_go_only_to_a_listener_and_progress_only_by_whole_percents(bench: Path) -> None:
    got: list[dict] = []
    (listened,) = run_batch([Task("a", "x", _chatty)], on_event=lambda i, e: got.append(e))
    assert listened.extra == {"listening": True}
    assert [e["done"] for e in got if e["kind"] == "progress"] == [10 * n for n in range(101)]
    assert got[-1]["kind"] == "stage"
    (headless,) = run_batch([Task("a", "x", _chatty)])  # nobody listens: nothing is sent
    assert headless.extra == {"listening": False}


LATE_IMPORTS = """
import json, sys
import rescue.bench.runner as runner
from rescue.cli import main
child = runner._child
def recording(index, task, reports, channel, events):
    work, before = task.work, set(sys.modules)
    def run(ctx, result):
        work(ctx, result)
        result.extra["late"] = sorted(set(sys.modules) - before)
    task.work = run
    child(index, task, reports, channel, events)
runner._child = recording
sys.exit(main(sys.argv[1:]))
"""


def test_a_worker_imports_nothing_after_the_fork(bench: Path) -> None:
    """Every import a flash needs happens once in the parent, not once per drive."""
    import subprocess

    fw = image(bench)
    argv = ["bench", "--flash", str(fw), "--yes", "--no-backup", "--json", btc(bench, "a")]
    done = subprocess.run(
        [sys.executable, "-c", LATE_IMPORTS, *argv], capture_output=True, text=True, check=True
    )
    (row,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert row["exit_code"] == 0 and row["extra"]["late"] == [], row["extra"]


def test_the_disc_probe_tells_disc_empty_and_open_tray(bench: Path) -> None:
    from rescue.bench.jobs import disc_work

    specs = ["emu:generic-dvd", "emu:generic-dvd,disc=none", "emu:generic-dvd,tray=open"]
    results = run_batch([Task(spec, "disc", disc_work) for spec in specs])
    assert [(r.exit_code, r.result) for r in results] == [(0, "disc"), (0, "empty"), (0, "open")]


def test_backup_saves_what_the_family_can_read_and_refuses_the_rest(
    bench: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tsst, other = "emu:tsst-se506cb,disc=none,serial=BK-1", btc(bench, "a")
    code = main(["bench", "--backup", "--json", "--reports", str(bench / "r"), tsst, other])
    rows = {r["device"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert code == ExitCode.REFUSED  # BTC: no command reads the flash back
    assert rows[tsst]["exit_code"] == 0 and rows[tsst]["result"] == "saved"
    saved = Path(rows[tsst]["report"])
    assert "BK-1" in saved.name and saved.stat().st_size == 2 * 1024 * 1024
    digest = saved.with_name(saved.name + ".sha256").read_text().split()[0]
    assert rows[tsst]["message"].endswith(digest[:16])
    assert rows[other]["exit_code"] == 6 and "cannot be backed up" in rows[other]["message"]


def test_a_batch_reads_and_checks_its_image_once_in_the_parent(
    bench: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No worker reads the file: under TCG each read and 1 MiB checksum cost a second of CPU."""
    import rescue.firmware.image as image_module

    fw, reads = image(bench), bench / "reads.log"
    real = image_module.read_source

    def counted(path: Path) -> bytes:
        with reads.open("a") as log:  # workers are processes: they report through a file
            log.write(f"{os.getpid()}\n")
        return real(path)

    monkeypatch.setattr(image_module, "read_source", counted)
    drives = [btc(bench, f"r{n}") for n in range(3)]
    assert main(["bench", "--flash", str(fw), "--yes", "--no-backup", *drives]) == 0
    assert reads.read_text().split() == [str(os.getpid())]
    for n in range(3):
        assert (bench / f"r{n}.state").read_bytes() == fw.read_bytes()
    capsys.readouterr()


def test_every_drive_gets_the_bytes_the_batch_read_even_if_the_file_changes(bench: Path) -> None:
    from rescue.bench.jobs import flash_work, prepared
    from rescue.engine.flash import FlashOptions

    fw = image(bench)
    first = fw.read_bytes()
    drive = btc(bench, "c")
    with prepared([drive], str(fw)) as pin:
        assert pin is not None and pin.raw == first
        fw.write_bytes(make_btc_image("0151"))  # replaced after the question named the image
        options = FlashOptions(drive, str(fw), no_backup=True)
        (result,) = run_batch([Task(drive, "flash", flash_work(options))], reports=str(bench))
    assert result.exit_code == 0, result
    assert (bench / "c.state").read_bytes() == first
