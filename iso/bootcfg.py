"""Boot loader configuration: the same two menu entries for isolinux (BIOS) and GRUB (UEFI).

Why two renderers for one command line: the loaders quote differently.
isolinux hands its APPEND line to the kernel byte for byte, so an option with
spaces is written `rescue.run="a b"`. GRUB parses its configuration as a
shell-like script: the word must be single-quoted to survive, and GRUB then
re-quotes it as `"rescue.run=a b"` for the kernel (grub-core/lib/cmdline.c).
The image's /init accepts both forms (iso/overlay/usr/libexec/rescue/bootopts.sh).
GRUB also puts a backslash before every quote and backslash it passes, which
isolinux does not, and neither can carry a double quote inside a value: so
quotes and backslashes are refused here rather than arriving altered.
"""

from __future__ import annotations

from dataclasses import dataclass

KERNEL = "/boot/vmlinuz"
INITRD = "/boot/initrd.img"
# No media polling from the first moment (udev rules repeat it per drive).
BASE_ARGS = ["quiet", "block.events_dfl_poll_msecs=0"]
# The last console= becomes /dev/console, the one that shows the boot.
SCREEN_ARGS = ["console=ttyS0,115200", "console=tty0"]
SERIAL_ARGS = ["console=tty0", "console=ttyS0,115200", "rescue.tty=ttyS0"]
# Long enough to read the hint and type 'serial'; either way the other console
# gets a root shell that says how to start the menu there (the session script).
TIMEOUT_S = 5
# ISOLINUX's SAY and DISPLAY run while the configuration is parsed, before the
# serial port is handed to COM32 output, so they reach the screen only (seen
# under SeaBIOS with -serial file:). The hint is printed instead by cat.c32 as
# the UI, which writes to screen and serial alike; the UI returns to the boot:
# prompt, whose timeout then boots ONTIMEOUT (a UI would otherwise be re-run).
HINT_FILE = "/isolinux/hint.txt"
UNSAFE = "\"'\\\n"


class BootArgError(ValueError):
    """A kernel argument that the boot loaders cannot pass through intact."""


@dataclass(frozen=True)
class Entry:
    label: str  # isolinux label, one word
    title: str
    args: list[str]


def entries(extra: list[str]) -> list[Entry]:
    """Menu entries, default first; EXTRA arguments go to every entry."""
    for arg in extra:
        if any(c in arg for c in UNSAFE):
            raise BootArgError(
                f"kernel argument {arg!r}: quotes, backslashes, newlines do not pass both loaders"
            )
    return [
        Entry("rescue", "rescue (screen)", [*BASE_ARGS, *SCREEN_ARGS, *extra]),
        Entry("serial", "rescue (serial console ttyS0)", [*BASE_ARGS, *SERIAL_ARGS, *extra]),
    ]


def isolinux_arg(arg: str) -> str:
    if " " not in arg:
        return arg
    name, sep, value = arg.partition("=")
    if not sep:
        raise BootArgError(f"kernel argument {arg!r} has spaces but no name=")
    return f'{name}="{value}"'


def grub_arg(arg: str) -> str:
    plain = all(c.isalnum() or c in "._,=/:+-" for c in arg)
    return arg if plain else f"'{arg}'"  # entries() has refused quotes


def hint(extra: list[str]) -> str:
    """What the BIOS boot prompt shows on screen and serial line (CRLF: cat.c32 writes raw)."""
    first, *others = entries(extra)
    lines = [
        f"rescue: {first.title} starts in {TIMEOUT_S} s (or type '{first.label}' and Enter);",
        *(f"rescue: type '{e.label}' and Enter for {e.title}." for e in others),
    ]
    return "".join(f"{line}\r\n" for line in lines)


def isolinux_cfg(extra: list[str]) -> str:
    first = entries(extra)[0]
    lines = [
        "SERIAL 0 115200",
        f"UI cat.c32 {HINT_FILE}",
        "PROMPT 1",
        f"TIMEOUT {TIMEOUT_S * 10}",
        f"ONTIMEOUT {first.label}",
        f"DEFAULT {first.label}",
    ]
    for entry in entries(extra):
        append = " ".join(isolinux_arg(a) for a in entry.args)
        lines += [
            f"LABEL {entry.label}",
            f"  KERNEL {KERNEL}",
            f"  INITRD {INITRD}",
            f"  APPEND {append}",
        ]
    return "\n".join(lines) + "\n"


def grub_cfg(extra: list[str]) -> str:
    # GRUB runs under UEFI only (isolinux serves BIOS), where the firmware's own
    # console already reaches the serial line when the machine redirects it
    # (OVMF does): GRUB's serial terminal on top drew every menu twice there.
    lines = [
        "terminal_input console",
        "terminal_output console",
        f"set timeout={TIMEOUT_S}",
        "set default=0",
    ]
    for entry in entries(extra):
        args = " ".join(grub_arg(a) for a in entry.args)
        lines += [
            f'menuentry "{entry.title}" {{',
            f"  linux {KERNEL} {args}",
            f"  initrd {INITRD}",
            "}",
        ]
    return "\n".join(lines) + "\n"
