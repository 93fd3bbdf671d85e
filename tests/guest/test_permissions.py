"""An ordinary user with read-write access to /dev/sgN: `rescue info` works, `rescue
flash` is refused in one line with the permission exit code, and nothing is sent.

The kernel lets such a user send the read-class commands info needs. For
WRITE BUFFER it wants CAP_SYS_RAWIO on /dev/srN, but on a writable /dev/sgN
it lets the command through (the last test shows both): so rescue refuses a
flash without CAP_SYS_RAWIO itself, before opening the node. The TCMU journal
of the bridge is the witness of what reached the drive.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from guestlib import AS_NOBODY, journal_entries, make_image, rescue
from kernelbed import BTC_TARGET, KernelBed

from rescue.errors import ExitCode

WRITE_BUFFER_CHUNK = "3b060000002000100000"  # BTC chunk 0: mode 6, offset 20h, 4 KiB


@pytest.fixture
def user_drive(bed: KernelBed) -> Iterator[str]:
    """The bed's `user` drive, its sg node opened up to everyone for the test."""
    sg = bed.drive("user")["sg"]
    mode = os.stat(sg).st_mode
    os.chmod(sg, 0o666)
    try:
        yield sg
    finally:
        os.chmod(sg, stat.S_IMODE(mode))


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder the unprivileged user can read and write (pytest's tmp_path is 0700)."""
    folder = Path(tempfile.mkdtemp(dir=os.environ.get("TMPDIR")))
    folder.chmod(0o1777)
    yield folder
    shutil.rmtree(folder)


def _writes(bed: KernelBed) -> list[str]:
    served = journal_entries(bed.journal, bed.label("user"))
    return [str(e["cdb"]) for e in served if str(e["cdb"]).startswith("3b")]


def test_an_ordinary_user_runs_info(bed: KernelBed, user_drive: str) -> None:
    done = rescue("info", user_drive, "--json", prefix=AS_NOBODY)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["inquiry"]["vendor"] == "BTC" and report["inquiry"]["revision"] == "0043"
    served = journal_entries(bed.journal, bed.label("user"))
    assert any(str(e["cdb"]).startswith("12") for e in served)  # INQUIRY really went through


def test_flash_as_a_user_is_refused_and_nothing_is_sent(
    bed: KernelBed, user_drive: str, shared_dir: Path
) -> None:
    image = make_image("btc", BTC_TARGET, shared_dir / "new.bin")
    image.chmod(0o644)
    before = _writes(bed)
    done = rescue(
        "flash", user_drive, str(image), "--yes", "--no-backup",
        "--reports", str(shared_dir / "reports"), prefix=AS_NOBODY,
    )  # fmt: skip
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert done.returncode == ExitCode.PERMISSION, done.stdout + done.stderr
    assert len(errors) == 1 and "CAP_SYS_RAWIO" in errors[0], done.stderr
    assert "Traceback" not in done.stderr and "success" not in done.stdout
    assert _writes(bed) == before


SEND_AS_USER = """
import sys
from rescue.errors import PermissionDenied
from rescue.transport.sgio import SgioTransport
with SgioTransport(sys.argv[1]) as dev:
    try:
        result = dev.execute(bytes.fromhex(sys.argv[2]), data_out=bytes(4096))
    except PermissionDenied as err:
        print(err.message)
        sys.exit(err.exit_code)
    print(f"sent: status {result.status}")
"""


def _send_as_user(node: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*AS_NOBODY, sys.executable, "-c", SEND_AS_USER, node, WRITE_BUFFER_CHUNK],
        capture_output=True,
        text=True,
    )


def test_the_kernel_guards_write_buffer_on_sr_but_not_on_a_writable_sg(
    bed: KernelBed, user_drive: str
) -> None:
    """Why rescue refuses before opening: through srN the kernel stops the user's
    WRITE BUFFER (CAP_SYS_RAWIO), but through an sgN the user may write to, the
    same command reaches the drive."""
    sr = bed.drive("user")["sr"]
    mode = os.stat(sr).st_mode
    os.chmod(sr, 0o666)
    try:
        through_sr = _send_as_user(sr)
    finally:
        os.chmod(sr, stat.S_IMODE(mode))
    assert through_sr.returncode == ExitCode.PERMISSION, through_sr.stdout + through_sr.stderr
    assert "refused command 3Bh" in through_sr.stdout
    before = len(_writes(bed))
    through_sg = _send_as_user(user_drive)
    assert through_sg.returncode == 0, through_sg.stdout + through_sg.stderr
    assert through_sg.stdout.strip() == "sent: status 0"
    assert _writes(bed)[before:] == [WRITE_BUFFER_CHUNK]
