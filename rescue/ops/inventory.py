"""`rescue list` and `rescue info`: what drives are here, and what each one is.

``list`` never sends a command (discovery reads udev/sysfs only), so it is
safe next to a drive in the middle of a flash. ``info`` asks the drive
itself; a query the drive refuses is reported beside the others instead of
ending the report, because a half-dead drive is exactly what people bring.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from rescue.errors import DeviceNotFound, ExitCode, RescueError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import Any

    from rich.console import Console

# `rescue list` starts fast: the renderer, the device layer and the families are
# imported by the functions that use them.


def _plain(value: object) -> Any:
    """A drive's (or the user's) string as rich text that is never markup: ``[/]`` in a serial
    is shown, not parsed, and control characters (a terminal escape) become U+FFFD."""
    from rich.text import Text

    from rescue.diagnostics.render.fields import clean

    return Text(clean(str(value)))


def register(subparsers: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    lister = subparsers.add_parser(
        "list", parents=[common], help="list optical drives (sends no command)"
    )
    lister.add_argument(
        "--all", action="store_true", help="also show non-optical SCSI devices and why"
    )
    lister.add_argument(
        "--emulated", action="store_true", help="list the emulated drive models (emu:NAME)"
    )
    lister.set_defaults(func=run_list)
    info = subparsers.add_parser(
        "info", parents=[common], help="identity, profiles, features and capabilities of DEV"
    )
    info.add_argument("device", metavar="DEV", help="/dev/srN, /dev/sgN, index, or emu:MODEL")
    info.set_defaults(func=run_info)


def _print_json(value: Any) -> None:
    import json  # only under --json: a listing or info in words does not load it

    print(json.dumps(value, indent=2, sort_keys=True))


def run_list(args: argparse.Namespace) -> int:
    if args.emulated:
        return _list_models(args)
    from rescue.discovery import discover

    inventory = discover(include_all=args.all)
    if args.json:
        _print_json(inventory.to_dict())
        return 0
    if not inventory.drives:
        print(
            f"No optical drive found (looked in {inventory.source}). "
            "Try an emulated one: rescue info emu:generic-dvd"
        )
        return _list_notes(inventory)
    from rescue.plaintable import render
    from rescue.terminal import columns

    rows = []
    for d in inventory.drives:
        bus = d.path.short() if d.path else d.transport + (f" {d.usb_id}" if d.usb_id else "")
        media = "?" if d.media is None else ("disc" if d.media.present else "empty")
        rows.append((d.index, d.sr or "-", d.sg or "-", d.hctl, d.vendor or "", d.model or "",
                     d.revision or "", bus, media))  # fmt: skip
    header = ("#", "node", "sg", "H:C:T:L", "vendor", "model", "rev", "bus", "media")
    sys.stdout.write(render(f"Optical drives (from {inventory.source})", header, rows, columns()))
    return _list_notes(inventory)


def _list_notes(inventory: Any) -> int:  # noqa: ANN401 - a discovery.Inventory
    """The lines under the table: bridges, and the devices left out (plain text, cleaned)."""
    notes = [
        f"  {d.index}: {d.path.label}, bridge {d.path.bridge.name}"
        for d in inventory.drives
        if d.path is not None and d.path.bridge is not None
    ] + [f"  left out {skipped.name}: {skipped.reason}" for skipped in inventory.skipped]
    if notes:
        from rescue.diagnostics.render.fields import clean

        print("\n".join(map(clean, notes)))
    return 0


def _list_models(args: argparse.Namespace) -> int:
    from rescue.emulator.registry import MODELS

    if args.json:
        _print_json(
            {
                name: {
                    "device": f"emu:{name}",
                    "description": m.description,
                    "family": m.family,
                    "vendor": m.vendor,
                    "product": m.product,
                    "revision": m.default_revision,
                }
                for name, m in MODELS.items()
            }
        )
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Emulated drives (use as DEV)", title_justify="left")
    for column in ("DEV", "vendor", "product", "rev", "what it is"):
        table.add_column(column)
    for name, m in MODELS.items():
        table.add_row(f"emu:{name}", m.vendor, m.product, m.default_revision, m.description)
    Console(highlight=False).print(table)
    return 0


def _attempt(report: dict[str, Any], errors: dict[str, str], key: str, query: Callable) -> None:
    """Run one query; a refusal is recorded under ``errors`` and the report goes on.

    A drive that went away is recorded once under ``gone`` and asked nothing more: each
    later query said "dropped off the bus" and info ended in exit 0 beside "ready yes".
    """
    if "gone" in report:
        return
    try:
        report[key] = query()
    except DeviceNotFound as err:
        report["gone"] = err.message
    except RescueError as err:
        errors[key] = err.message


def collect_info(drive: Any) -> dict[str, Any]:
    """Everything ``info`` shows, as plain data (the JSON output)."""
    from rescue.scsi.configuration import FIRMWARE_INFORMATION, MICROCODE_UPGRADE

    report: dict[str, Any] = {"device": drive.name}
    errors: dict[str, str] = {}
    report["path"] = _path(drive)
    report["inquiry"] = drive.inquiry().to_dict()  # without identity there is nothing to say
    sense, attentions = drive.settle()
    report["unit_attentions"] = [a.triple for a in attentions]
    _attempt(report, errors, "vpd_pages", drive.vpd_pages)
    pages = report.get("vpd_pages", ())
    if 0x80 in pages:
        _attempt(report, errors, "serial", drive.unit_serial)
    if 0x83 in pages:
        _attempt(report, errors, "identifiers", lambda: drive.device_identification().to_dict())
    _attempt(report, errors, "configuration", drive.configuration)
    config = report.pop("configuration", None)
    if config is not None:
        report["current_profile"] = config.current_profile_name
        report["profiles"] = [
            {"number": p.number, "name": p.name, "current": p.current} for p in config.profiles
        ]
        report["features"] = [{"code": f.code, "name": f.name} for f in config.features]
        upgrade = config.feature(MICROCODE_UPGRADE)
        report["microcode_upgrade"] = None if upgrade is None else {"mode5": upgrade.m5}
        fw = config.feature(FIRMWARE_INFORMATION)
        report["firmware_date"] = (
            fw.firmware_date.to_dict() if fw is not None and fw.firmware_date else None
        )
    _attempt(report, errors, "capabilities", lambda: drive.capabilities().to_dict())
    report["ready"] = sense is None
    report["ready_sense"] = None if sense is None else sense.to_dict()
    _attempt(report, errors, "ata_identify", lambda: drive.ata_identify().to_dict())
    _ata_passthrough_seen(report, errors)
    report["drive_table"] = drive_table(drive, [f["code"] for f in report.get("features", [])])
    report["errors"] = errors
    return report


def _path(drive: Any) -> dict[str, Any] | None:
    """How the drive is attached and what the path carries (sysfs or the model; no command)."""
    from rescue.ops.pathcheck import path_of

    path = path_of(getattr(drive, "transport", None))
    return None if path is None else path.to_dict()


def _ata_passthrough_seen(report: dict[str, Any], errors: dict[str, str]) -> None:
    """``info`` itself asked ATA PASS-THROUGH (IDENTIFY PACKET DEVICE): say what the path did.

    An ATAPI drive does not run ATA PASS-THROUGH itself: libata or a USB bridge
    translates it (SAT). An answer means the path passes it; behind a bridge a
    5/20/00 means the bridge does not translate it (``pathcheck.bridge_or_drive``).
    """
    path = report.get("path")
    if not path or path["attachment"] not in ("usb-bot", "uas", "usb"):
        return
    bridge = path["bridge"]["usb_id"] if path.get("bridge") else "the USB bridge"
    if "ata_identify" in report:
        path["ata_passthrough"] = {
            "status": "passes",
            "why": f"IDENTIFY PACKET DEVICE through ATA PASS-THROUGH(16) was answered "
            f"behind {bridge}",
        }
    elif "5/20/00" in errors.get("ata_identify", ""):
        path["ata_passthrough"] = {
            "status": "refused",
            "why": f"ATA PASS-THROUGH(16) was answered 5/20/00 behind {bridge}: the bridge does "
            "not translate it (an ATAPI drive never runs it itself)",
        }


def drive_table(drive: Any, features: list[int]) -> dict[str, Any]:
    """Which protocol serves the drive and which table row (and file) says so; for a drive
    nothing serves, what it reports exactly, the candidate families and how to go on."""
    from rescue.families import all_families, match_drive
    from rescue.families.unknown import evidence, exact_fields

    match = match_drive(drive.identity, features)
    if match is not None:
        return {"known": True} | match.to_dict()
    found = evidence(exact_fields(drive), drive.identity, features, all_families())
    return {"known": False} | found.to_dict(drive.name)


def run_info(args: argparse.Namespace) -> int:
    from rescue.devices import open_device
    from rescue.drive import Drive

    with open_device(args.device, args.journal) as transport:
        report = collect_info(Drive(transport))
    if args.json:
        _print_json(report)
    else:
        show_info(report)
    if "gone" in report:
        if not args.json:
            print(f"error: {report['gone']}; what is shown was read before", file=sys.stderr)
        return int(ExitCode.NO_DEVICE)
    return 0


def _yes(flag: object) -> str:
    return "yes" if flag else "no"


def show_info(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    inq = report["inquiry"]
    who, revision = _plain(f"{inq['vendor']} {inq['product']}"), _plain(inq["revision"])
    who.stylize("bold")
    revision.stylize("bold")
    where = _plain(f"  ({report['device']}, {inq['device_type_name']})")
    console.print(who + _plain(" revision ") + revision + where)
    rows = [("serial", report.get("serial") or "-")]
    if "current_profile" in report:
        rows.append(("current profile", report["current_profile"]))
        rows.append(("profiles", ", ".join(p["name"] for p in report["profiles"]) or "-"))
        upgrade = report["microcode_upgrade"]
        rows.append(
            (
                "microcode upgrade",
                "not advertised"
                if upgrade is None
                else f"feature 0104h (mode 5: {_yes(upgrade['mode5'])})",
            )
        )
        date = report["firmware_date"]
        rows.append(("firmware date", "not reported" if date is None else _date_text(date)))
    caps = report.get("capabilities")
    if caps:
        reads = [
            n
            for n, k in (
                ("CD-R", "read_cd_r"),
                ("CD-RW", "read_cd_rw"),
                ("DVD-ROM", "read_dvd_rom"),
                ("DVD-R", "read_dvd_r"),
                ("DVD-RAM", "read_dvd_ram"),
            )
            if caps.get(k)
        ]
        writes = [
            n
            for n, k in (
                ("CD-R", "write_cd_r"),
                ("CD-RW", "write_cd_rw"),
                ("DVD-R", "write_dvd_r"),
                ("DVD-RAM", "write_dvd_ram"),
            )
            if caps.get(k)
        ]
        rows.append(("reads", ", ".join(reads) or "-"))
        rows.append(("writes", ", ".join(writes) or "-"))
        rows.append(("mechanism", caps["loading_mechanism_name"]))
        rows.append(("max read speed", f"{caps['max_read_speed']} kB/s"))
        rows.append(("C2 pointers", _yes(caps["c2_pointers"])))
    sense = report["ready_sense"]
    rows.append(("ready", "yes" if report["ready"] else f"no ({_sense_text(sense)})"))
    ata = report.get("ata_identify")
    if ata:
        rows.append(("ATA identify", f"{ata.get('model', '')} {ata.get('firmware', '')}".strip()))
    rows += _path_rows(report.get("path"))
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="cyan")
    table.add_column()
    for key, value in rows:
        table.add_row(key, _plain(value))
    console.print(table)
    for key, message in report["errors"].items():
        console.print(_plain(f"  {key}: {message}"), style="dim")
    _show_drive_table(console, report.get("drive_table"))


def _path_rows(path: dict[str, Any] | None) -> list[tuple[str, str]]:
    """What ``info`` says about the path: attachment, bridge, largest transfer, what passes."""
    if path is None:
        return [("attached", "unknown (no sysfs entry for this node)")]
    rows = [("attached", path["label"] + (f" (host {path['host']})" if path["host"] else ""))]
    bridge = path["bridge"]
    if bridge:
        words = " ".join(w for w in (bridge["manufacturer"], bridge["product"]) if w)
        extra = ", ".join(
            x
            for x in (
                words,
                f"serial {bridge['serial']}" if bridge["serial"] else "",
                f"{bridge['speed_mbps']} Mb/s" if bridge["speed_mbps"] else "",
                f"driver {bridge['driver']}" if bridge["driver"] else "",
            )
            if x
        )
        rows.append(("USB bridge", f"{bridge['usb_id'] or '?'}" + (f" ({extra})" if extra else "")))
    limits = path["limits"]
    size = limits["largest_transfer"]
    if size is None:
        rows.append(("largest transfer", f"unknown ({limits['decided_by']})"))
    else:
        parts = [f"{name} {limits[key]}" for name, key in (
            ("max_hw_sectors_kb", "max_hw_sectors_kb"),
            ("max_sectors_kb", "max_sectors_kb"),
            ("max_segments", "max_segments"),
            ("usb-storage max_sectors", "device_max_sectors"),
        ) if limits[key] is not None]  # fmt: skip
        rows.append(
            (
                "largest transfer",
                f"{size // 1024} KiB ({size} bytes), decided by {limits['decided_by']}"
                + (f"; {', '.join(parts)}" if parts else ""),
            )
        )
    if limits["sg_reserved_size"] is not None:
        rows.append(("sg reserved buffer", f"{limits['sg_reserved_size']} bytes (not a cap)"))
    for label, key in (
        ("vendor commands", "vendor_commands"),
        ("ATA pass-through", "ata_passthrough"),
    ):
        rows.append((label, f"{path[key]['status']}: {path[key]['why']}"))
    return rows


def _show_drive_table(console: Console, table: dict[str, Any] | None) -> None:
    if not table:
        return
    if table["known"]:
        row = table["row"]
        where = f"user table {table['user_file']}" if table["user_file"] else "rescue's table"
        why = (
            f"row vendor {row['vendor']!r} product {row['product']!r} of {where}"
            if row
            else "it advertises Microcode Upgrade (feature 0104h)"
        )
        console.print(_plain(f"protocol: {table['family']} ({table['title']}): {why}"))
        return
    from rich.markup import escape

    from rescue.diagnostics.render.fields import clean
    from rescue.families.unknown import quote

    reports = table["reports"]
    console.print(
        "[bold yellow]not in rescue's drive table.[/] The drive reports "
        + escape(
            clean(", ".join(f"{k} {quote(reports[k])}" for k in ("vendor", "product", "revision")))
        ),
        soft_wrap=True,  # a line break inside a quoted, padded string would hide the padding
    )
    for candidate in table["candidates"]:
        reasons = "; ".join(candidate["reasons"])
        console.print(_plain(f"  could be {candidate['family']}: {reasons}"))
    if not table["candidates"]:
        console.print(
            "  no evidence points at a family: no family serves its vendor or product, and it "
            "does not advertise Microcode Upgrade (0104h)",
            markup=False,
        )
    for step in table["next_steps"]:
        console.print(f"[yellow]next:[/] {escape(clean(step))}")


def _sense_text(sense: dict[str, Any]) -> str:
    return f"{sense.get('triple', '?')} {sense.get('asc_name', '')}".strip()


def _date_text(date: dict[str, Any]) -> str:
    t = str(date.get("text", ""))
    if len(t) == 14 and t.isdigit():
        return f"{t[0:4]}-{t[4:6]}-{t[6:8]} {t[8:10]}:{t[10:12]}:{t[12:14]}"
    return t or "not reported"
