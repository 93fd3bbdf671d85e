"""The backup writer: atomic file, sha256sum line, JSON sidecar; MT1939's read path."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from rescue.errors import TransportError
from rescue.families import family_named
from rescue.ops.backup import take_backup


@dataclass
class Ident:
    vendor: str = "TSSTcorp"
    product: str = "BDDVDW SE-506CB "
    revision: str = "TS01"


@dataclass
class Answer:
    data: bytes


class Transport:
    name = "emu:test-mt1939"


class FlashDrive:
    """Serves READ BUFFER mode 6 from a 2 MiB flash, as the coastermelt notes describe."""

    def __init__(self, flash: bytes) -> None:
        self.flash = flash
        self.identity = Ident()
        self.transport = Transport()

    def command(self, cdb: bytes, *, data_in: int = 0, **_: object) -> Answer:
        address = int.from_bytes(cdb[3:6], "big")
        return Answer(self.flash[address : address + data_in])


def test_backup_writes_image_checksum_and_sidecar(tmp_path: Path) -> None:
    flash = os.urandom(0x200000)
    target = tmp_path / "out" / "se506.bin"
    target.parent.mkdir()  # rescue creates no folder the user did not
    sidecar = take_backup(FlashDrive(flash), family_named("mt1939"), target, quiet=True)
    assert target.read_bytes() == flash
    digest = hashlib.sha256(flash).hexdigest()
    assert (tmp_path / "out" / "se506.bin.sha256").read_text() == f"{digest}  se506.bin\n"
    on_disk = json.loads((tmp_path / "out" / "se506.bin.json").read_text())
    assert on_disk == sidecar
    assert on_disk["sha256"] == digest and on_disk["size"] == 0x200000
    assert on_disk["drive"]["product"] == "BDDVDW SE-506CB" and on_disk["family"] == "mt1939"
    assert "READ BUFFER" in on_disk["method"] and on_disk["date"].endswith("Z")
    assert sorted(p.name for p in target.parent.iterdir()) == [
        "se506.bin",
        "se506.bin.json",
        "se506.bin.sha256",
    ]


def test_short_read_fails_and_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "short.bin"
    with pytest.raises(TransportError, match="returned"):
        take_backup(FlashDrive(bytes(0x180000)), family_named("mt1939"), target, quiet=True)
    assert list(tmp_path.iterdir()) == []


def test_backup_never_replaces_what_the_user_owns(tmp_path: Path, capsys) -> None:
    """`-o /dev/null` once replaced the machine's /dev/null with a 2 MiB file; an existing
    file, a link or a missing folder is refused before the drive is touched, and
    --overwrite replaces only a regular file."""
    from rescue.cli import main

    spec = f"emu:tsst-se506cb,state={tmp_path / 'd.state'}"
    mine = tmp_path / "mine.bin"
    mine.write_bytes(b"precious")
    link = tmp_path / "link.bin"
    link.symlink_to(mine)
    before = Path("/dev/null").stat()
    for target in ("/dev/null", str(mine), str(link), str(tmp_path / "no" / "x.bin")):
        assert main(["backup", spec, "-o", target]) == 5, target
        assert "Traceback" not in capsys.readouterr().err
    assert Path("/dev/null").stat().st_rdev == before.st_rdev and Path("/dev/null").is_char_device()
    assert mine.read_bytes() == b"precious" and link.is_symlink()
    assert main(["backup", spec, "-o", str(mine), "--overwrite"]) == 0
    assert len(mine.read_bytes()) == 0x200000


def test_a_backup_that_cannot_be_written_at_the_end_is_kept_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full -o folder once threw away a flash read in full (exit 5, nothing kept); now the
    image goes to the temporary folder, the message names it with its sha256, same code."""
    from rescue import outputs
    from rescue.errors import BadInput, ExitCode

    def disc_full(path: object, *_: object, **__: object) -> Path:
        raise BadInput(f"-o {path}: cannot write it: No space left on device")

    monkeypatch.setattr(outputs, "write_atomic", disc_full)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    flash = os.urandom(0x200000)
    with pytest.raises(BadInput) as refused:
        take_backup(FlashDrive(flash), family_named("mt1939"), tmp_path / "x.bin", quiet=True)
    assert refused.value.exit_code == ExitCode.BAD_INPUT
    (kept,) = tmp_path.glob("rescue-backup-*.bin")
    assert kept.read_bytes() == flash
    digest = hashlib.sha256(flash).hexdigest()
    assert f"the backup is kept in {kept} (sha256 {digest})" in refused.value.message
    assert "No space left" in refused.value.message and str(kept) in str(refused.value.hint)


def test_ctrl_c_mid_backup_says_how_far_it_got_and_leaves_the_file_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """It printed a bare "interrupted" (nothing on stdout under --json); now one JSON error
    with the bytes read, exit 130, and the --overwrite target untouched."""
    import signal

    from rescue.cli import main
    from rescue.drive import Drive

    original, reads = Drive.command, [0]

    def command(self: Drive, cdb: bytes, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        answer = original(self, cdb, *args, **kwargs)
        if bytes(cdb)[0] == 0x3C:  # READ BUFFER: the fifth read is cut short by Ctrl-C
            reads[0] += 1
            if reads[0] == 5:
                os.kill(os.getpid(), signal.SIGINT)
        return answer

    monkeypatch.setattr(Drive, "command", command)
    mine = tmp_path / "mine.bin"
    mine.write_bytes(b"precious")
    argv = ["backup", "emu:tsst-se506cb", "-o", str(mine), "--overwrite", "--json"]
    assert main(argv) == 130
    answer = json.loads(capsys.readouterr().out)
    assert answer["error"] == "Interrupted" and answer["exit_code"] == 130
    assert "262144 of 2097152 bytes read" in answer["message"]
    assert mine.read_bytes() == b"precious" and sorted(tmp_path.iterdir()) == [mine]


@pytest.mark.parametrize("journal", ["b.bin", "b.bin.json", "sub/../b.bin.sha256"])
def test_a_journal_named_like_the_backup_is_refused_before_the_drive_is_read(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    journal: str,
) -> None:
    """The journal took the name first and the whole backup was refused at its end."""
    from rescue.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    assert main(["backup", "emu:tsst-se506cb", "-o", "b.bin", "--journal", journal]) == 2
    assert "-o and --journal both name" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]


@pytest.mark.parametrize("model", ["btc-drw1004im", "plextor-px716a"])
def test_a_family_that_cannot_back_up_is_refused_before_any_progress_is_drawn(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, model: str
) -> None:
    """Issue 11: the refusal used to follow a drawn (empty) backup bar; rich draws on a
    terminal, so stderr is made one here."""
    from rescue.cli import main

    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    code = main(["backup", f"emu:{model},disc=none", "-o", str(tmp_path / "fw.bin")])
    out = capsys.readouterr()
    assert code == 6
    said = out.out + out.err
    assert "cannot be backed up" in said
    assert "━" not in said and "bytes" not in said and "backup " not in said.replace("backed", "")
    assert len(said.strip().splitlines()) <= 2  # the refusal and its hint
    assert list(tmp_path.iterdir()) == []


def test_the_bar_still_shows_a_real_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other side of the test above: where bytes are read, the bar is drawn."""
    import importlib
    import io

    from rich.console import Console

    drawn = io.StringIO()
    engine = importlib.import_module("rescue.engine.backup")  # the package exports a backup()
    monkeypatch.setattr(engine, "Console", lambda **_: Console(file=drawn, force_terminal=True))
    flash = bytes(range(256)) * (0x200000 // 256)
    take_backup(FlashDrive(flash), family_named("mt1939"), tmp_path / "fw.bin", quiet=False)
    assert "backup" in drawn.getvalue() and "2.1/2.1 MB" in drawn.getvalue()
