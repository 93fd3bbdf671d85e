"""Boot loader configuration and the image's /init agree on the kernel command line.

The round trip that matters: an argument rendered for isolinux or for GRUB
must reach /init (bootopts.sh) as the same value. The loaders' own quoting
is simulated as documented (isolinux: the APPEND text verbatim; GRUB: its
script quoting is shell-like, then grub-core/lib/cmdline.c double-quotes a
word that has spaces), and bootopts.sh runs under the host's POSIX sh.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from iso import bootcfg  # noqa: E402

BOOTOPTS = ROOT / "iso/overlay/usr/libexec/rescue/bootopts.sh"
SAFE_TEXT = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126, exclude_characters="\"'\\"),
    max_size=60,
)


def init_env(cmdline: str) -> dict[str, str]:
    """What /init would set from CMDLINE (the contents of /proc/cmdline)."""
    script = (
        f'. {BOOTOPTS}; eval "$(bootopts_env "$1")"; '
        'printf "%s\\0%s\\0%s" "$RESCUE_RUN" "$RESCUE_TTY" "$RESCUE_DATA"'
    )
    done = subprocess.run(["sh", "-c", script, "sh", cmdline], capture_output=True, check=True)
    run, tty, data = done.stdout.decode().split("\0")
    return {"run": run, "tty": tty, "data": data}


def via_isolinux(arg: str) -> str:
    return f"BOOT_IMAGE=/boot/vmlinuz quiet {bootcfg.isolinux_arg(arg)} rescue.tty=ttyS0"


def via_grub(arg: str) -> str:
    (word,) = shlex.split(bootcfg.grub_arg(arg))
    passed = f'"{word}"' if " " in word else word
    return f"BOOT_IMAGE=/boot/vmlinuz quiet {passed} rescue.tty=ttyS0"


def test_defaults_when_no_rescue_option_is_given():
    env = init_env("BOOT_IMAGE=/boot/vmlinuz quiet console=tty0")
    assert env == {"run": "rescue menu", "tty": "tty1", "data": ""}


def test_all_three_options_are_read():
    env = init_env('quiet rescue.data=RESCUEDATA rescue.run="rescue list --json" rescue.tty=ttyS0')
    assert env == {"run": "rescue list --json", "tty": "ttyS0", "data": "RESCUEDATA"}


def test_a_longer_option_name_is_not_mistaken_for_ours():
    assert init_env("myrescue.run=bad xrescue.tty=ttyS9")["run"] == "rescue menu"


@settings(max_examples=20, deadline=None)
@given(st.tuples(SAFE_TEXT, SAFE_TEXT).map(" ".join))  # built with a space: no filtering
@example("rescue.= ")  # once read as GRUB's quoting of an option inside the value
@example("x rescue.tty=a")
def test_a_command_with_spaces_survives_both_loaders(command):
    arg = f"rescue.run={command}"
    assert init_env(via_isolinux(arg))["run"] == command
    assert init_env(via_grub(arg))["run"] == command
    assert init_env(via_grub(arg))["tty"] == "ttyS0"


@settings(max_examples=20, deadline=None)
@given(SAFE_TEXT.filter(lambda s: " " not in s))
def test_a_one_word_command_survives_both_loaders(command):
    arg = f"rescue.run={command}"
    assert init_env(via_isolinux(arg))["run"] == init_env(via_grub(arg))["run"] == command


@pytest.mark.parametrize("bad", ['echo "x"', "echo 'x'", "echo a\\b", "a\nb"])
def test_quotes_and_backslashes_are_refused(bad):
    with pytest.raises(bootcfg.BootArgError):
        bootcfg.grub_cfg([f"rescue.run={bad}"])


def test_every_entry_carries_the_extra_arguments_and_no_polling():
    for cfg in (bootcfg.isolinux_cfg(["rescue.data=X"]), bootcfg.grub_cfg(["rescue.data=X"])):
        kernel_lines = [ln for ln in cfg.splitlines() if "block.events_dfl_poll_msecs=0" in ln]
        assert len(kernel_lines) == len(bootcfg.entries([]))
        assert all(line.rstrip().endswith("rescue.data=X") for line in kernel_lines)


def test_serial_entry_makes_the_serial_line_the_console_that_runs_the_tool():
    (serial,) = [e for e in bootcfg.entries([]) if e.label == "serial"]
    consoles = [a for a in serial.args if a.startswith("console=")]
    assert consoles[-1].startswith("console=ttyS0")  # /dev/console is the last one given
    assert "rescue.tty=ttyS0" in serial.args
