"""What rescue may write and read: rescue.outputs and rescue.inputs, and the commands using them.

Every case is a user's slip: an output path naming a device node, a FIFO, a
folder, a symbolic link, someone's file, or a folder that does not exist; an
input naming /dev/zero, a FIFO or a /proc file. Each must end in one line and
a documented exit code, with nothing replaced, created or left hanging.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from timeline import first, folder_synced, timeline

from rescue import outputs
from rescue.cli import main
from rescue.errors import BadInput, ExitCode, PermissionDenied
from rescue.inputs import read_user_file
from rescue.transport.journal import Journal

DISC = "emu:generic-dvd,sectors=512"


def _fifo(tmp_path: Path) -> Path:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    return fifo


def _one_line(err: str) -> None:
    assert "Traceback" not in err
    assert err.startswith("error: ") and len(err.strip().splitlines()) <= 2  # message + hint


# --- rescue.outputs --------------------------------------------------------------------------


def test_special_files_folders_and_links_are_never_written(tmp_path: Path) -> None:
    target = tmp_path / "precious.bin"
    target.write_bytes(b"keep me")
    link = tmp_path / "link"
    link.symlink_to(target)
    for path, words in [
        ("/dev/null", "device node"),
        (str(_fifo(tmp_path)), "FIFO"),
        (str(tmp_path), "directory"),
        (str(link), "symbolic link"),
    ]:
        for existing in outputs.Existing:
            with pytest.raises(BadInput, match=words):
                outputs.write_atomic(path, b"x", "output", existing=existing, overwrite=True)
    assert target.read_bytes() == b"keep me" and link.is_symlink()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_an_existing_file_is_replaced_only_when_the_caller_says_so(tmp_path: Path) -> None:
    target = tmp_path / "theirs.txt"
    target.write_text("theirs")
    with pytest.raises(BadInput, match="already exists.*did not write"):
        outputs.write_atomic(target, "ours", "output")
    assert target.read_text() == "theirs"
    outputs.write_atomic(target, "ours", "output", overwrite=True)
    assert target.read_text() == "ours"
    outputs.write_atomic(target, "again", "output", existing=outputs.Existing.UPDATE)
    assert target.read_text() == "again"
    assert [p.name for p in tmp_path.iterdir()] == ["theirs.txt"]  # no temporary file left


def test_a_missing_folder_is_named_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    with pytest.raises(BadInput, match=f"the folder {missing} does not exist"):
        outputs.check_file(missing / "x.map", "--mapfile")
    with pytest.raises(BadInput, match="rescue does not create it"):
        outputs.check_folder(missing, "reports folder", may_create=True)
    assert not (tmp_path / "no").exists()
    assert outputs.check_folder(tmp_path / "new", "reports folder", may_create=True)
    assert not (tmp_path / "new").exists()  # checked, not made


def test_a_name_ending_in_a_slash_is_a_folder_not_a_file_beside_it(tmp_path: Path) -> None:
    """`backup -o new/` wrote a file named "new" (Path() drops the slash) and said "saved"."""
    with pytest.raises(BadInput, match="ends in /, so it names a folder"):
        outputs.check_file(f"{tmp_path}/new/", "-o")
    assert not (tmp_path / "new").exists()


def test_a_file_used_as_a_folder_is_named_with_its_role(tmp_path: Path) -> None:
    mine = tmp_path / "mine.bin"
    mine.write_bytes(b"precious")
    with pytest.raises(BadInput, match=f"^--mapfile {mine}/x: a part of the path is not a"):
        outputs.check_file(mine / "x", "--mapfile")
    assert mine.read_bytes() == b"precious"


def test_a_link_to_a_kernel_folder_is_that_folder(tmp_path: Path) -> None:
    """`-o LINK/x` with LINK -> /proc passed the check (the link itself was looked at) and a
    whole backup was read before the write failed; /dev took a 2 MiB file (devtmpfs)."""
    for kernel in ("/proc", "/dev"):
        link = tmp_path / f"to{kernel.replace('/', '_')}"
        link.symlink_to(kernel)
        with pytest.raises(BadInput, match="kernel pseudo folder"):
            outputs.check_file(link / "x.bin", "-o")
        with pytest.raises(BadInput, match="kernel pseudo folder"):
            outputs.check_folder(link, "reports folder")
    with pytest.raises(BadInput, match="/dev is a kernel pseudo folder"):
        outputs.check_file("/dev/rescue-x.bin", "-o")
    assert not Path("/dev/rescue-x.bin").exists()


def test_an_unwritable_folder_is_permission_denied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outputs.os, "access", lambda *a, **k: False)  # tests may run as root
    with pytest.raises(PermissionDenied, match="permission denied"):
        outputs.check_file(tmp_path / "x", "--mapfile")


def test_a_write_failing_half_way_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "map"
    target.write_text("old")

    def full(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outputs.os, "replace", full)
    with pytest.raises(BadInput, match="No space left"):
        outputs.write_atomic(target, "new", "--mapfile", existing=outputs.Existing.UPDATE)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["map"]


def test_the_fallback_lands_in_the_temp_folder(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    kept = outputs.keep_fallback("scan", "data", ".json")
    assert kept is not None and Path(kept).parent == tmp_path and Path(kept).read_text() == "data"


# --- on the medium before the user is told (tests/timeline.py) -------------------------------


def test_a_written_file_is_flushed_before_its_rename_and_its_folder_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = timeline(monkeypatch)
    target = outputs.write_atomic(tmp_path / "a.map", "x", "--mapfile")
    (temp_flush,) = [e for e in events if e[0] == "fsync" and ".a.map." in e[1]]
    assert events == [temp_flush, ("rename", str(target)), ("fsync", str(tmp_path))]


def test_a_new_report_claims_its_name_and_is_never_half_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """create_new: nothing is written under the name until the whole file is flushed."""
    events = timeline(monkeypatch)
    target = tmp_path / "doctor.json"
    assert outputs.create_new(target, '{"kind": "doctor"}', "report")
    assert [e[0] for e in events] == ["fsync", "rename", "fsync"]
    assert events[1:] == [("rename", str(target)), ("fsync", str(tmp_path))]
    assert target.read_text() == '{"kind": "doctor"}' and stat.S_IMODE(target.stat().st_mode)
    assert not outputs.create_new(target, "other", "report")  # taken: left as it is
    assert target.read_text() == '{"kind": "doctor"}'
    assert [p.name for p in tmp_path.iterdir()] == ["doctor.json"]


def test_a_new_report_that_cannot_be_written_leaves_no_claim(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def pulled(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", pulled)
    with pytest.raises(BadInput, match="Input/output error"):
        outputs.create_new(tmp_path / "doctor.json", "{}", "report")
    assert list(tmp_path.iterdir()) == []


def test_the_fallback_is_flushed_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    events = timeline(monkeypatch)
    kept = outputs.keep_fallback("scan", "data", ".map")
    assert events == [("fsync", str(kept)), ("fsync", str(tmp_path))]


def test_backup_says_saved_after_its_three_files_reach_the_medium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = f"emu:tsst-se506cb,state={tmp_path / 'd.state'}"
    out = tmp_path / "out"
    out.mkdir()
    events = timeline(monkeypatch)
    assert main(["backup", spec, "-o", str(out / "fw.bin")]) == 0
    said = first(events, "say", "backup: ")
    for name in ("fw.bin", "fw.bin.sha256", "fw.bin.json"):
        assert first(events, "rename", str(out / name)) < said, name
    assert folder_synced(events, out) == said - 1  # the folder, after the last rename
    assert sorted(p.name for p in out.iterdir()) == ["fw.bin", "fw.bin.json", "fw.bin.sha256"]


def test_doctor_names_its_report_after_the_report_and_page_reach_the_medium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = tmp_path / "reports"
    events = timeline(monkeypatch)
    assert main(["doctor", DISC, "--reports", str(reports)]) == 0
    said = first(events, "say", "report: ")
    page = first(events, "rename", ".html")
    assert first(events, "rename", ".json") < page < folder_synced(events, reports) < said


def test_a_report_and_its_page_reach_the_medium_with_one_folder_flush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each file's data is flushed before its rename; both renames come before the one flush
    of the folder, which comes before the command names the report (issue 15, item 1)."""
    reports = tmp_path / "reports"
    events = timeline(monkeypatch)
    assert main(["scan", DISC, "--end", "64", "--reports", str(reports)]) == 0
    said = first(events, "say", "report: ")
    written = [(kind, text) for kind, text in events[:said] if kind != "say"]
    (json_name,) = [p.name for p in reports.glob("*.json")]
    page_name = json_name.removesuffix(".json") + ".html"
    assert [kind for kind, _ in written] == ["fsync", "rename", "fsync", "rename", "fsync"]
    assert f".{json_name}." in written[0][1] and f".{page_name}." in written[2][1]
    assert [written[1], written[3], written[4]] == [
        ("rename", str(reports / json_name)),
        ("rename", str(reports / page_name)),
        ("fsync", str(reports)),
    ]


def test_scan_names_its_mapfile_after_it_reaches_the_medium(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapfile = tmp_path / "disc.map"
    events = timeline(monkeypatch)
    argv = ["scan", DISC, "--mapfile", str(mapfile), "--reports", str(tmp_path / "r")]
    assert main(argv) == 0
    said = first(events, "say", f"mapfile: {mapfile}")
    assert first(events, "rename", str(mapfile)) < folder_synced(events, tmp_path) < said


# --- rescue.inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/dev/zero", "device node"),
        ("/dev/urandom", "device node"),
        ("/proc/self/status", "pseudo file"),
        ("/proc/kmsg", "pseudo file"),
        ("/", "directory"),
    ],
)
def test_special_inputs_are_refused_without_reading(path: str, words: str) -> None:
    with pytest.raises((BadInput, PermissionDenied), match=words):
        read_user_file(path, "report")


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="FIFO"):
        read_user_file(_fifo(tmp_path), "report")


def test_a_file_past_the_cap_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * 101)
    with pytest.raises(BadInput, match="too big"):
        read_user_file(big, "report", limit=100)
    assert read_user_file(big, "report", limit=101) == b"x" * 101


# --- the commands ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["report"], ["fw", "inspect"]])
@pytest.mark.parametrize("path", ["/dev/zero", "/dev/urandom", "/proc/kmsg", "/proc/self/maps"])
def test_readers_refuse_special_files_with_one_line(
    capsys: pytest.CaptureFixture[str], command: list[str], path: str
) -> None:
    assert main([*command, path]) == ExitCode.BAD_INPUT
    _one_line(capsys.readouterr().err)


def test_report_of_a_fifo_or_folder_returns(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    for path in (_fifo(tmp_path), tmp_path):
        assert main(["report", str(path)]) == ExitCode.BAD_INPUT
        _one_line(capsys.readouterr().err)


def test_journal_refuses_a_file_that_is_not_a_journal(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    firmware = tmp_path / "fw.bin"
    firmware.write_bytes(b"\x00\x01firmware" * 100)
    before = firmware.read_bytes()
    assert main(["info", DISC, "--journal", str(firmware)]) == ExitCode.BAD_INPUT
    _one_line(capsys.readouterr().err)
    assert firmware.read_bytes() == before


@pytest.mark.parametrize("path", ["/dev/null", "/tmp", "/proc/self/status"])
def test_journal_refuses_special_files_and_folders(path: str, capsys) -> None:  # noqa: ANN001
    assert main(["info", DISC, "--journal", path]) == ExitCode.BAD_INPUT
    _one_line(capsys.readouterr().err)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_journal_in_a_missing_folder_is_refused_and_nothing_made(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    journal = tmp_path / "missing" / "j.jsonl"
    assert main(["info", DISC, "--journal", str(journal)]) == ExitCode.BAD_INPUT
    _one_line(capsys.readouterr().err)
    assert not journal.parent.exists()


def test_journal_appends_to_its_own_journal(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    journal = tmp_path / "j.jsonl"
    assert main(["info", DISC, "--journal", str(journal)]) == 0
    first = journal.read_text().splitlines()
    assert main(["info", DISC, "--journal", str(journal)]) == 0
    again = journal.read_text().splitlines()
    assert again[: len(first)] == first and len(again) > len(first)
    Journal(tmp_path / "empty").close()  # an empty file is as good as new
    assert main(["info", DISC, "--journal", str(tmp_path / "empty")]) == 0
    capsys.readouterr()


@pytest.mark.parametrize(
    "where",
    ["/dev/null", "{tmp}/missing/x.map", "{tmp}", "{tmp}/fifo", "{tmp}/link"],
)
def test_scan_mapfile_is_checked_before_the_scan(tmp_path: Path, capsys, where: str) -> None:  # noqa: ANN001
    _fifo(tmp_path)
    (tmp_path / "target").write_text("precious")
    (tmp_path / "link").symlink_to(tmp_path / "target")
    journal = tmp_path / "j.jsonl"
    path = where.format(tmp=tmp_path)
    argv = ["scan", DISC, "--mapfile", path, "--journal", str(journal)]
    assert main([*argv, "--reports", str(tmp_path / "reports")]) == ExitCode.BAD_INPUT
    _one_line(capsys.readouterr().err)
    assert not journal.exists()  # refused before the drive was opened: nothing sent
    assert (tmp_path / "target").read_text() == "precious"
    assert not (tmp_path / "missing").exists()


def test_scan_does_not_replace_a_file_that_is_not_a_mapfile(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    argv = ["scan", DISC, "--mapfile", str(notes), "--reports", str(tmp_path / "r")]
    assert main(argv) == ExitCode.BAD_INPUT
    _one_line(capsys.readouterr().err)
    assert notes.read_text() == "my notes\n"


@pytest.mark.parametrize("command", ["scan", "doctor"])
@pytest.mark.parametrize("reports", ["/dev/null", "/proc/x", "{tmp}/a/b", "{tmp}/file"])
def test_reports_folder_is_checked_before_the_drive_is_opened(
    tmp_path: Path,
    capsys,
    command: str,
    reports: str,  # noqa: ANN001
) -> None:
    (tmp_path / "file").write_text("")
    journal = tmp_path / "j.jsonl"
    path = reports.format(tmp=tmp_path)
    assert main([command, DISC, "--reports", path, "--journal", str(journal)]) == 5
    _one_line(capsys.readouterr().err)
    assert not journal.exists() and not (tmp_path / "a").exists()


def _fail_report_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    real = outputs.create_new

    def refuse(path: str | os.PathLike[str], data: bytes | str, what: str, **how: bool) -> bool:
        if what == "report":
            raise PermissionDenied(f"report {path}: cannot create it: Read-only file system")
        return real(path, data, what, **how)

    monkeypatch.setattr(outputs, "create_new", refuse)


def test_doctor_verdict_survives_a_report_that_cannot_be_written(
    tmp_path: Path,
    capsys,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    _fail_report_writes(monkeypatch)
    code = main(["doctor", DISC, "--reports", str(tmp_path / "reports")])
    out, err = capsys.readouterr()
    assert code == ExitCode.PERMISSION
    assert "verdict:" in out  # the results are printed anyway
    kept = list((tmp_path / "tmp").glob("rescue-doctor-*.json"))
    assert len(kept) == 1 and str(kept[0]) in err
    assert json.loads(kept[0].read_text())["kind"] == "doctor"


def test_scan_results_survive_a_mapfile_and_report_that_cannot_be_written(
    tmp_path: Path,
    capsys,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    from rescue.ops import scan as scan_cmd

    monkeypatch.setattr(tempfile, "tempdir", None)
    _fail_report_writes(monkeypatch)
    mapfile = tmp_path / "disc.map"
    checked = scan_cmd._preflight

    def preflight_then_folder_goes(args) -> None:  # noqa: ANN001
        checked(args)
        monkeypatch.setattr(scan_cmd, "_save_mapfile", _lost)

    def _lost(*args: object) -> None:
        raise BadInput(f"--mapfile {mapfile}: the folder {tmp_path} vanished")

    monkeypatch.setattr(scan_cmd, "_preflight", preflight_then_folder_goes)
    code = main(["scan", DISC, "--mapfile", str(mapfile), "--reports", str(tmp_path / "r")])
    out, err = capsys.readouterr()
    out = out.replace("\n", "")  # rich wraps long paths
    assert code == ExitCode.BAD_INPUT
    assert "every sector read" in out  # the summary is printed
    kept_map = list((tmp_path / "tmp").glob("rescue-scan-*.map"))
    kept_report = list((tmp_path / "tmp").glob("rescue-scan-*.json"))
    assert len(kept_map) == 1 and str(kept_map[0]) in err and str(kept_map[0]) in out
    assert len(kept_report) == 1 and str(kept_report[0]) in err
    assert "# rescue-disc sectors=512" in kept_map[0].read_text()


def test_scan_mapfile_and_journal_must_be_two_files(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    same = str(tmp_path / "same")
    argv = ["scan", DISC, "--mapfile", same, "--journal", same, "--reports", str(tmp_path)]
    assert main(argv) == ExitCode.USAGE
    _one_line(capsys.readouterr().err)
    assert not Path(same).exists()


def test_a_temporary_beside_its_target_is_new_private_and_steps_round_a_clash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """write_atomic's temporary file: O_EXCL with a random name, as mkstemp makes one; a
    name already taken (here by a link an attacker left) is passed over, never opened."""
    target = tmp_path / "report.json"
    draws = iter([b"\x01" * 6, b"\x01" * 6, b"\x02" * 6])
    monkeypatch.setattr(outputs.os, "urandom", lambda n: next(draws))
    taken = tmp_path / f".report.json.{'01' * 6}.tmp"
    taken.symlink_to(tmp_path / "elsewhere")
    fd, name = outputs._temp_beside(target)
    os.close(fd)
    assert name == str(tmp_path / f".report.json.{'02' * 6}.tmp")
    assert stat.S_IMODE(os.lstat(name).st_mode) == 0o600
    assert not (tmp_path / "elsewhere").exists()  # the link was not followed
