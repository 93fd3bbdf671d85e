"""`rescue menu`: the guided console mode, the image's default session on tty1.

The screens live in ``rescue.menu``; this module only reads the command
line. Without DEV arguments the menu lists the drives discovery finds;
with them (or --emulated) it offers exactly those, which is how the tests
and a demo drive it on emulated drives.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    # No --json/--journal: the menu is for a person; every command it runs journals itself.
    parser = subparsers.add_parser(
        "menu",
        help="guided mode: pick a drive, then info / doctor / backup / flash / explain",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("devices", nargs="*", metavar="DEV", help="offer only these drives")
    parser.add_argument(
        "--emulated", action="store_true", help="offer every emulated drive model (a demo)"
    )
    parser.add_argument(
        "--firmware",
        metavar="DIR",
        type=Path,
        help="folder of firmware images to flash (default: /data/firmware on the stick)",
    )
    parser.add_argument("--reports", metavar="DIR", help="where backups and reports go")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from rescue.diagnostics.report import reports_dir
    from rescue.menu import run_menu
    from rescue.menu.session import default_firmware_folder

    devices = list(args.devices)
    if args.emulated:
        from rescue.emulator.registry import MODELS

        devices += [f"emu:{name}" for name in MODELS]
    if args.firmware is not None:  # before the first screen: one line, not a line a file
        from rescue.inputs import check_folder

        check_folder(args.firmware, "--firmware")
    firmware = args.firmware or default_firmware_folder()
    return run_menu(devices, firmware, reports_dir(args.reports))
