"""Pre-flight pieces of the flasher: the drive lock, quieting a drive, confirmation."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rescue.errors import BadInput, ExitCode, PermissionDenied, Refused
from rescue.ops.safety import QuietDrive, block_name, confirm, exclusive_lock

RULE = textwrap.dedent(
    """\
    ACTION=="remove", GOTO="cdrom_end"
    SUBSYSTEM!="block", GOTO="cdrom_end"
    ENV{DEVTYPE}!="disk", GOTO="cdrom_end"
    IMPORT{program}="cdrom_id --lock-media $devnode"
    LABEL="cdrom_end"
    """
)


def test_second_holder_of_a_drive_lock_is_refused(tmp_path: Path) -> None:
    with exclusive_lock("drive-a", tmp_path):
        with pytest.raises(Refused) as caught:
            with exclusive_lock("drive-a", tmp_path):
                pass
        assert caught.value.exit_code == ExitCode.REFUSED
        with exclusive_lock("drive-b", tmp_path):  # another drive is independent
            pass
    with exclusive_lock("drive-a", tmp_path):  # released on exit
        pass


def test_lock_held_by_another_process_names_it(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            "from rescue.ops.safety import exclusive_lock\n"
            f"with exclusive_lock('drive-a', Path({str(tmp_path)!r})):\n"
            "    print('held', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(Refused, match=f"pid {holder.pid}"):
            with exclusive_lock("drive-a", tmp_path):
                pass
    finally:
        holder.kill()
        holder.wait()
    with exclusive_lock("drive-a", tmp_path):  # the kernel dropped the dead holder's lock
        pass


def fake_system(tmp_path: Path, poll: str = "2000") -> QuietDrive:
    block = tmp_path / "sys" / "block" / "sr0"
    block.mkdir(parents=True)
    (block / "events_poll_msecs").write_text(poll + "\n")
    system = tmp_path / "lib" / "rules.d"
    system.mkdir(parents=True)
    (system / "60-cdrom_id.rules").write_text(RULE)
    return QuietDrive(
        "sr0",
        sys_root=tmp_path / "sys",
        udev_runtime=tmp_path / "run" / "rules.d",
        udev_system=(system,),
    )


def test_quiet_drive_turns_polling_and_tray_lock_off_then_restores(tmp_path: Path) -> None:
    quiet = fake_system(tmp_path)
    poll = tmp_path / "sys" / "block" / "sr0" / "events_poll_msecs"
    override = tmp_path / "run" / "rules.d" / "60-cdrom_id.rules"
    quiet.apply()
    assert poll.read_text().strip() == "0"
    lines = override.read_text().splitlines()
    skip = lines.index('KERNEL=="sr0", GOTO="cdrom_end"')
    assert skip < lines.index('IMPORT{program}="cdrom_id --lock-media $devnode"')
    quiet.restore()
    assert poll.read_text().strip() == "2000"
    assert not override.exists()


def test_quiet_drive_leaves_someone_elses_override_alone(tmp_path: Path) -> None:
    quiet = fake_system(tmp_path)
    override = tmp_path / "run" / "rules.d" / "60-cdrom_id.rules"
    override.parent.mkdir(parents=True)
    override.write_text("# the admin's own rule\n")
    quiet.apply()
    quiet.restore()
    assert override.read_text() == "# the admin's own rule\n"
    assert any("not ours" in note for note in quiet.notes)


def test_quiet_drive_without_permission_is_refused(tmp_path: Path) -> None:
    quiet = QuietDrive("sr9", sys_root=tmp_path / "sys")
    with pytest.raises(Refused, match="media polling"):
        quiet.apply()


def test_sg_node_maps_to_its_sr_sibling(tmp_path: Path) -> None:
    device = tmp_path / "sys" / "devices" / "target1:0:0" / "1:0:0:0"
    (device / "block" / "sr1").mkdir(parents=True)
    generic = tmp_path / "sys" / "class" / "scsi_generic" / "sg2"
    generic.mkdir(parents=True)
    (generic / "device").symlink_to(device)
    assert block_name("/dev/sg2", tmp_path / "sys") == "sr1"
    assert block_name("/dev/sg7", tmp_path / "sys") is None


def test_confirmation_without_a_terminal_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with open(os.devnull) as no_terminal:
        monkeypatch.setattr(sys, "stdin", no_terminal)
        with pytest.raises(Refused, match="--yes"):
            confirm("Flash?", assume_yes=False)
        confirm("Flash?", assume_yes=True)


class _Terminal(io.StringIO):
    """Typed answers on a terminal: isatty() is what confirm() checks first."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("typed", "confirmed"), [("YES\n", True), ("yes\n", False), ("", False)])
def test_only_yes_on_a_terminal_confirms(
    monkeypatch: pytest.MonkeyPatch, typed: str, confirmed: bool
) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal(typed))  # "" is Ctrl-D: end of input
    if confirmed:
        confirm("Flash?", assume_yes=False)
    else:
        with pytest.raises(Refused, match="not confirmed"):
            confirm("Flash?", assume_yes=False)


def test_a_lock_folder_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(BadInput, match="cannot take the drive lock .*Not a directory"):
        with exclusive_lock("drive", blocker / "locks"):
            pass


def test_a_lock_file_we_may_not_write_is_permission_denied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(PermissionDenied, match="Permission denied") as caught:
        with exclusive_lock("drive", tmp_path):
            pass
    assert caught.value.exit_code == ExitCode.PERMISSION
    assert "RESCUE_LOCK_DIR" in (caught.value.hint or "")
