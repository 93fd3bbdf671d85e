"""The guided console mode (`rescue menu`): numbered choices on an 80x25 text console.

Why a menu at all: the person at a repair bench booted a stick to fix one
drive and may never have seen a shell. Every choice is a digit or a letter
followed by Enter (no mouse, no curses, nothing a bare Linux console or a
serial line cannot show), and every action runs the same code as its CLI
command, in-process, so the menu adds no second path to the drive.
"""

from rescue.menu.session import run_menu

__all__ = ["run_menu"]
