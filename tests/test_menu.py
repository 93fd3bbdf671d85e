"""`rescue menu` driven end to end with scripted keystrokes on emulated drives.

The script goes through a stand-in console (a text stream that says it is a
terminal), because the menu and the flasher's own YES question both read
the one console, as they do on tty1.
"""

from __future__ import annotations

import io
import os
import shlex
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rescue import devices
from rescue.cli import main
from rescue.discovery.model import DriveNode, Inventory
from rescue.emulator.images import make_btc_image
from rescue.menu import drives, screen
from rescue.menu import session as session_module


class Console(io.StringIO):
    def isatty(self) -> bool:
        return True


class Session:
    def __init__(self, bench: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
        self.bench = bench
        self.monkeypatch = monkeypatch
        self.capsys = capsys
        self.state = bench / "btc.state"
        self.firmware = bench / "firmware"
        self.firmware.mkdir()

    @property
    def btc(self) -> str:
        return f"emu:btc-drw1004im,rev=0043,disc=none,state={self.state}"

    def add_image(self, revision: str, product: str = "DVDRW IDE1004") -> Path:
        path = self.firmware / f"V{revision}-{product}.bin"
        path.write_bytes(make_btc_image(revision, product=product))
        return path

    def run(self, keys: list[str], *devices: str) -> tuple[int, str]:
        self.monkeypatch.setattr("sys.stdin", Console("".join(k + "\n" for k in keys)))
        argv = ["menu", *(devices or (self.btc,)), "--firmware", str(self.firmware)]
        code = main([*argv, "--reports", str(self.bench / "reports")])
        out = self.capsys.readouterr()
        return code, unwrapped(out.out + out.err)


def unwrapped(out: str) -> str:
    """The echoed commands on one line each (the menu breaks them with backslash-newlines)."""
    return out.replace(" \\\n    ", " ")


@pytest.fixture
def session(bench: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Session:
    return Session(bench, monkeypatch, capsys)


@pytest.fixture(autouse=True)
def kmsg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The menu's "tool ready" line goes to a file here, not to the host's kernel log."""
    path = tmp_path / "kmsg"
    path.touch()
    uptime = tmp_path / "uptime"
    uptime.write_text("12.34 45.67\n")
    monkeypatch.setattr(session_module, "KMSG", path)
    monkeypatch.setattr(session_module, "UPTIME", uptime)
    return path


def test_pick_the_btc_drive_see_info_flash_0050_and_see_the_new_revision(session: Session):
    session.add_image("0050")
    # After YES, "n" answers any further question the flasher asks (a read test), else
    # it only ends the pause and the empty line is refused by the drive screen.
    keys = ["1", "1", "", "3", "1", "y", "YES", "n", "", "1", ""]
    code, out = session.run(keys)
    assert code == 0
    info_before, rest = out.split("$ rescue flash", 1)
    assert "revision 0043" in info_before
    assert "DVDRW IDE1004 now runs 0050" in rest
    assert "Drive: BTC DVDRW IDE1004 0050" in rest  # the screen after the flash is redrawn
    assert "revision 0050" in rest.split("$ rescue info", 1)[1]  # info asks the drive again
    assert "Leaving the menu (end of input)" in out


def test_flash_goes_through_the_flasher_confirmation(session: Session):
    session.add_image("0050")
    code, out = session.run(["1", "3", "1", "y", "no", "", "1", ""])
    assert code == 0
    assert "Type YES to continue" in out
    assert "not confirmed: nothing was written" in out
    assert "revision 0043" in out.split("$ rescue info", 1)[1]


def test_declining_to_flash_without_a_backup_sends_nothing(session: Session):
    session.add_image("0050")
    code, out = session.run(["1", "3", "1", "n", "", "1", ""])
    assert "cannot be backed up first" in out
    assert "$ rescue flash" not in out
    assert "revision 0043" in out.split("$ rescue info", 1)[1]


def test_flash_refuses_an_image_for_another_drive_via_the_flasher(session: Session):
    session.add_image("0050", product="DRW-9999XX")
    code, out = session.run(["1", "3", "1", "y", ""])
    assert code == 0
    assert "identity check failed" in out
    assert "(exit 6: refused by the safety policy)" in out


def test_empty_firmware_folder_says_where_to_put_images(session: Session):
    code, out = session.run(["1", "3", ""])
    assert code == 0
    assert "No firmware files in" in out
    assert "Copy images into firmware/ on the stick" in out


def test_explain_an_error_from_the_drive_list(session: Session):
    code, out = session.run(["e", "5/20/0", ""])
    assert code == 0
    assert "INVALID COMMAND OPERATION CODE" in out


def test_bad_keys_are_refused_and_the_menu_asks_again(session: Session):
    code, out = session.run(["x", "9", "0", "-1", "", "1", "q"])
    assert code == 0
    assert out.count("is not on this screen: type 1, r, e or q, then Enter") == 4
    assert "'' is not" not in out  # Enter alone asks again
    assert "Drive: BTC DVDRW IDE1004 0043" in out
    assert "Leaving the menu (quit)" in out


def test_end_of_input_on_the_first_prompt_leaves_cleanly(session: Session):
    assert session.run([])[0] == 0


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(st.text(alphabet="0123456789abeqry -/x", max_size=4), max_size=12))
def test_any_keystrokes_end_cleanly(session: Session, keys: list[str]):
    session.add_image("0050")  # so that random keys can reach the flasher's questions
    code, out = session.run(keys, "emu:generic-dvd,disc=none", session.btc)
    assert code == 0
    assert "Traceback" not in out
    assert "Leaving the menu" in out


def test_a_screen_fits_80_columns_and_25_rows(capsys, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("sys.stdin", Console("1\n"))
    options = screen.numbered([f"drive {n} " + "x" * 100 for n in range(40)])
    assert screen.choose("T" * 120, options, [screen.Option("q", "quit")]) == "1"
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) <= 25
    assert max(len(line) for line in lines) <= screen.WIDTH
    assert "20 more not shown" in out


def test_the_drive_screen_offers_the_write_buffer_probe(session: Session):
    code, out = session.run(["1", "4", ""])
    assert code == 0
    assert "$ rescue probe emu:btc-drw1004im" in out
    assert "refused (5/24/00 INVALID FIELD IN CDB)" in out
    assert "(exit 9: drive rejected the command (sense key 5))" in out


def test_end_of_input_at_the_flasher_question_leaves_cleanly_and_sends_nothing(session: Session):
    session.add_image("0050")
    code, out = session.run(["1", "3", "1", "y"])
    assert code == 0
    assert "Type YES to continue" in out
    assert "Leaving the menu (end of input)" in out
    assert session.run(["1", "1", ""])[1].count("revision 0043") == 1


def test_the_drive_screen_leaves_out_backup_for_btc_and_says_why(session: Session):
    code, out = session.run(["1", ""])
    screen = out[out.index("Not offered for this drive:") :]
    assert "backup: the btcflash protocol has no command that reads the flash back" in screen
    assert "back up firmware" not in out
    assert "3) flash firmware" in screen and "4) does it take WRITE BUFFER?" in screen


def test_a_drive_that_can_back_up_is_offered_backup(session: Session):
    code, out = session.run(["1", ""], "emu:tsst-se506cb,disc=none")
    assert code == 0
    assert "4) back up firmware" in out and "Not offered" not in out


def test_the_firmware_list_offers_only_the_familys_images(session: Session):
    session.add_image("0050")
    (session.firmware / "readme.txt").write_text("copy your images here\n")
    (session.firmware / "other.bin").write_bytes(b"\xff" * 4096)
    code, out = session.run(["1", "3", "b", "q"])
    assert code == 0
    assert "not firmware for btc: readme.txt (" in out
    assert "not firmware for btc: other.bin (" in out
    listing = out[out.index("Firmware for btc in") :]
    assert "1) V0050-DVDRW IDE1004.bin" in listing
    assert "2)" not in listing.split("b) back")[0]  # readme.txt and other.bin are not numbered


def test_a_folder_with_no_image_for_the_family_says_so(session: Session):
    (session.firmware / "readme.txt").write_text("copy your images here\n")
    code, out = session.run(["1", "3", "q"])
    assert "not firmware for btc: readme.txt" in out
    assert "None of the files in" in out and "$ rescue flash" not in out


def _node(index: int) -> DriveNode:
    return DriveNode(
        index, f"{index}:0:0:0", f"/dev/sr{index}", f"/dev/sg{index + 2}", "BTC",
        "DVDRW IDE1004", "0043", "ata", "sr",
    )  # fmt: skip


def test_a_discovered_drive_goes_by_the_node_commands_name(monkeypatch: pytest.MonkeyPatch):
    # rescue info/probe open (and name) the sg node; the menu lists and passes that one.
    monkeypatch.setattr("rescue.discovery.discover", lambda: Inventory("sysfs", [_node(0)]))
    (entry,) = drives.list_drives([])
    assert entry.device == "/dev/sg2" and entry.label.endswith("(/dev/sg2)")
    assert devices.node_path("/dev/sr0") == "/dev/sg2"  # what a command opens for sr0


def test_a_named_node_is_listed_as_the_node_commands_name(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("rescue.discovery.discover", lambda: Inventory("sysfs", [_node(0)]))
    assert drives.one_name("/dev/sr0") == "/dev/sg2"
    assert drives.one_name("0") == "/dev/sg2"
    assert drives.one_name("emu:btc-drw1004im") == "emu:btc-drw1004im"
    monkeypatch.setattr("rescue.discovery.discover", lambda: Inventory("sysfs", []))
    assert drives.one_name("/dev/sr9") == "/dev/sr9"  # unknown to discovery: kept as typed


def test_every_command_the_menu_runs_names_the_listed_device(session: Session):
    code, out = session.run(["1", "1", "", "2", "", "4", ""], "emu:btc-drw1004im,disc=none")
    listed = out.split("(", 1)[1].split(")", 1)[0]
    assert listed == "emu:btc-drw1004im,disc=none"
    for command in ("info", "doctor", "probe"):
        assert f"$ rescue {command} {listed}" in " ".join(out.split())


def _pages(out: str) -> list[Path]:
    lines = [line for line in out.splitlines() if line.startswith("report page (HTML): ")]
    return [Path(line.split(": ", 1)[1]) for line in lines]


def test_doctor_from_the_menu_shows_its_html_page_named_by_the_drive(session: Session):
    drive = "emu:btc-drw1004im,disc=none,serial=SN:42/A"
    code, out = session.run(["1", "2", ""], drive)
    assert "--reports" in out  # the report goes where the menu's reports go
    (page,) = _pages(out)
    assert page.is_file() and page.parent == session.bench / "reports"
    assert page.name.startswith("doctor-DVDRW_IDE1004-SN_42_A-") and page.suffix == ".html"
    assert page.with_suffix(".json").is_file()


def test_a_flash_from_the_menu_shows_its_html_page_named_by_the_drive(session: Session):
    session.add_image("0050")
    code, out = session.run(["1", "3", "1", "y", "YES", "n", ""])
    (page,) = _pages(out)
    assert page.is_file() and page.name.startswith("flash-DVDRW_IDE1004-")


def test_two_drives_reports_are_told_apart_and_never_collide(bench: Path, capsys):
    from rescue.diagnostics.report import drive_tag

    one = "emu:btc-drw1004im,serial=AAA1"
    two = "emu:btc-drw1004im,serial=BBB2"
    assert drive_tag(one) == "DVDRW_IDE1004-AAA1" and drive_tag(two) == "DVDRW_IDE1004-BBB2"
    assert drive_tag("emu:btc-drw1004im,serial=a:b*c?<d>|e") == "DVDRW_IDE1004-a_b_c_d_e"
    folder = bench / "reports"
    for dev in (one, one, two):
        main(["doctor", f"{dev},disc=none", "--reports", str(folder)])
    paths = sorted(folder.glob("doctor-*.json"))
    assert len(paths) == 3 and len(list(folder.glob("doctor-*.html"))) == 3
    assert [p.name.split("-")[2] for p in paths] == ["AAA1", "AAA1", "BBB2"]
    assert all(not set(p.name) & set(':*?"<>|\\') for p in paths)


def test_tool_ready_is_logged_once_when_the_first_screen_is_out(
    session: Session, kmsg: Path, monkeypatch: pytest.MonkeyPatch
):
    seen: list[str] = []
    announce = session_module.announce_ready

    def ready() -> None:
        seen.append(session.capsys.readouterr().out)  # what the console shows by then
        announce()

    monkeypatch.setattr(session_module, "announce_ready", ready)
    code, out = session.run(["r", "r", "q"])
    assert code == 0 and len(seen) == 1
    assert "Optical drives: pick one" in seen[0] and "1) BTC DVDRW IDE1004" in seen[0]
    assert "Choice:" not in seen[0]  # before the first question
    assert kmsg.read_text() == "rescue: tool ready at 12.34 s\n"


def test_tool_ready_writes_nothing_without_a_kernel_log(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    missing = tmp_path / "no" / "kmsg"
    monkeypatch.setattr(session_module, "KMSG", missing)
    assert session.run(["q"])[0] == 0
    assert not missing.exists() and not missing.parent.exists()
    monkeypatch.setattr(session_module, "KMSG", tmp_path / "absent")  # no O_CREAT
    assert session.run(["q"])[0] == 0
    assert not (tmp_path / "absent").exists()


class FdConsole(Console):
    """A scripted console that also has a file descriptor, as tty1 does."""

    def fileno(self) -> int:
        return 0


def test_two_drives_offer_the_bench_over_all_listed_drives(
    session: Session, monkeypatch: pytest.MonkeyPatch
):
    ran: list[list[str]] = []
    monkeypatch.setattr("rescue.menu.actions.run_command", lambda argv: ran.append(argv) or 0)
    two = ("emu:btc-drw1004im,disc=none", "emu:generic-dvd,disc=none")
    monkeypatch.setattr("sys.stdin", FdConsole("3\n\nq\n"))
    main(["menu", *two, "--firmware", str(session.firmware), "--reports", str(session.bench)])
    out = session.capsys.readouterr().out
    assert "3) bench: all drives at once" in out
    assert ran == [["bench", "--reports", str(session.bench),
                    "--firmware", str(session.firmware), *two]]  # fmt: skip


def test_one_drive_offers_no_bench(session: Session):
    code, out = session.run(["2", "q"])
    assert "bench:" not in out
    assert "'2' is not on this screen" in out


def test_the_bench_screen_runs_in_process_and_returns_to_the_menu(
    session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    read, write = os.pipe()
    os.write(write, b"3\n\nq\n")  # the bench finds its input ended at once and quits
    os.close(write)
    two = ("emu:btc-drw1004im,disc=none", "emu:generic-dvd,disc=none")
    with open(read) as keys:
        monkeypatch.setattr("sys.stdin", keys)
        code = main(["menu", *two, "--reports", str(tmp_path / "r")])
    out = session.capsys.readouterr()
    assert code == 0 and "Traceback" not in out.out + out.err
    assert f"$ rescue bench --reports {tmp_path / 'r'}" in unwrapped(out.out)
    assert "rescue bench: 2 drives" in out.out
    assert "Leaving the menu (quit)" in out.out


def test_without_a_console_the_bench_says_so(session: Session):
    code, out = session.run(["3", "", "q"], "emu:btc-drw1004im,disc=none", "emu:generic-dvd")
    assert "start it from a terminal" in out and "$ rescue bench" not in out


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.text(
            alphabet=st.characters(blacklist_categories=["Cs", "Cc"]) | st.sampled_from("'\" \\$`"),
            max_size=30,
        )
        | st.sampled_from(["/tmp/some folder/V0050.bin", "x" * 90, "--no-backup"]),
        min_size=1,
        max_size=8,
    )
)
def test_the_echoed_command_pastes_into_a_shell_as_one_command(args: list[str]) -> None:
    """Broken only between words, each break a backslash-newline: bash gets every word back."""
    import subprocess

    from rescue.menu.actions import command_text

    text = command_text(["printf", "%s\\0", *args])
    assert text.startswith("$ printf ")
    done = subprocess.run(["bash", "-c", text[2:]], capture_output=True, check=True)
    assert done.stdout.decode().split("\0")[:-1] == args
    quoted = {shlex.quote(arg) for arg in args}
    for line in text.splitlines():  # a line past the width holds one word too long for any
        assert len(line) <= screen.WIDTH or line.removesuffix(" \\").strip() in quoted


def test_ctrl_c_at_a_question_leaves_the_menu_as_q_does(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def pressed(_prompt: str = "") -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("builtins.input", pressed)
    code, out = session.run([])
    assert code == 0
    assert "Leaving the menu (Ctrl-C). Type 'rescue menu' to come back." in out
    assert "interrupted" not in out


@pytest.mark.parametrize(
    ("folder", "code", "said"),
    [
        ("/proc", 5, "is a kernel pseudo folder (/proc, /sys, /dev)"),
        ("/sys/kernel", 5, "is a kernel pseudo folder (/proc, /sys, /dev)"),
        ("/dev/null", 5, "is a device node, not a folder"),
        ("{tmp}/fifo", 5, "is a FIFO (named pipe), not a folder"),
        ("{tmp}/V0050.bin", 5, "is a file, not a folder"),
        ("{tmp}/missing", 5, "no such folder"),
    ],
)
def test_an_unusable_firmware_folder_is_one_line_before_the_menu_starts(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, folder: str, code: int, said: str
) -> None:
    """Issue 11: `--firmware /proc` listed some 40 pseudo files, each refused, at flash time."""
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "V0050.bin").write_bytes(make_btc_image("0050"))
    monkeypatch.setattr("sys.stdin", Console("1\n3\n"))
    path = folder.replace("{tmp}", str(tmp_path))
    assert main(["menu", "emu:btc-drw1004im,disc=none", "--firmware", path]) == code
    out = capsys.readouterr()
    assert out.out == ""  # no screen drawn
    assert out.err.strip().splitlines() == [f"error: --firmware {path}: {said}"]


def test_a_folder_of_many_other_files_names_a_few_and_counts_the_rest(session: Session):
    session.add_image("0050")
    for n in range(30):
        (session.firmware / f"notes{n:02}.txt").write_text("not an image\n")
    code, out = session.run(["1", "3", "b", "q"])
    assert code == 0
    assert out.count("not firmware for btc: ") == 5
    assert "and 25 more files that are not btc firmware" in out
    assert "1) V0050-DVDRW IDE1004.bin" in out[out.index("Firmware for btc in") :]
