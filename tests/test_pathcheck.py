"""The path to the drive and what it carries: reads cut to fit, flashes refused before writing.

Drives sit behind an emulated USB bridge (``rescue.emulator.usb_bridge``) that
does what usb-storage and a bridge do to commands: a transfer over the cap
fails as the kernel fails it (EINVAL, a TransportError, nothing on the bus),
and the opcodes the bridge does not forward are answered 5/20/00 by it.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from rescue.discovery.path import PathInfo, QueueLimits, UsbBridge
from rescue.drive import Drive
from rescue.emulator.registry import create
from rescue.emulator.usb_bridge import BridgedDevice
from rescue.errors import ExitCode, Refused, TransportError
from rescue.families import family_named
from rescue.ops.pathcheck import (
    BRIDGE,
    DRIVE,
    EITHER,
    FAMILY_WRITE_OPCODE,
    bridge_or_drive,
    check_path,
    fit,
    fit_sectors,
    judge,
    largest_transfer,
    needed_transfer,
    path_of,
    transfer_limit,
)
from rescue.scsi.sense import SenseError
from rescue.transport.emulated import EmulatedTransport

TSST = SimpleNamespace(vendor="TSSTcorp", product="DVD-ROM SH-D163C", revision="SB01")
BTC = SimpleNamespace(vendor="BTC", product="DVDRW IDE1004", revision="0043")


def bridged(spec: str, cap: int, **kw) -> tuple[EmulatedTransport, BridgedDevice]:
    device = BridgedDevice(create(spec), max_transfer=cap, **kw)
    return EmulatedTransport(device, name=f"emu:{spec}"), device


def test_an_emulated_bridge_declares_its_cap_and_names_itself():
    transport, _ = bridged("generic-dvd,disc=none", 120 * 1024)
    path = path_of(transport)
    assert path.attachment == "usb-bot" and path.is_usb
    assert path.bridge.usb_id == "152d:2339"
    assert transfer_limit(transport) == (122880, "the emulated bridge's transfer cap")
    assert largest_transfer(transport) == 122880


def test_a_plain_emulated_drive_has_no_cap_unless_its_model_declares_one():
    transport = EmulatedTransport(create("generic-dvd,disc=none"), name="emu:generic-dvd")
    assert path_of(transport).attachment == "emulated"
    assert largest_transfer(transport) is None
    transport.device.max_transfer = 0x8000
    assert largest_transfer(transport) == 0x8000


def test_reads_are_cut_to_the_path_in_whole_sectors():
    transport, _ = bridged("generic-dvd", 120 * 1024)
    assert fit(transport, 32 * 2048) == 32 * 2048
    assert fit(transport, 128 * 2048) == 60 * 2048
    assert fit_sectors(transport, 128) == 60
    tiny, _ = bridged("generic-dvd", 1000)
    assert fit_sectors(tiny, 16) == 1, "never below one sector"
    unknown = SimpleNamespace(path="replay:x")
    assert fit(unknown, 1 << 20) == 1 << 20


def test_a_read_over_the_cap_fails_in_the_kernel_and_never_reaches_the_drive():
    transport, device = bridged("generic-dvd", 120 * 1024)
    drive = Drive(transport)
    drive.settle()
    with pytest.raises(TransportError, match="exceeds what the kernel queue accepts"):
        transport.execute(bytes([0x28, 0, 0, 0, 0, 0, 0, 0, 64, 0]), data_in=64 * 2048)
    assert device.largest_seen <= 120 * 1024
    size = fit_sectors(transport, 64)
    result = transport.execute(bytes([0x28, 0, 0, 0, 0, 0, 0, 0, size, 0]), data_in=size * 2048)
    assert result.ok and len(result.data) == 60 * 2048


def test_the_bridge_answers_vendor_opcodes_itself():
    transport, device = bridged("btc-drw1004im,disc=none", 120 * 1024)
    drive = Drive(transport)
    drive.settle()
    with pytest.raises(SenseError) as caught:
        drive.command(bytes([0x3B, 0x02]) + bytes(8), label="WRITE BUFFER")
    assert caught.value.sense.triple == "5/20/00"
    assert device.refused == [0x3B]


@pytest.mark.parametrize(
    ("family", "identity", "size", "needed"),
    [
        ("tsst", TSST, 0x100000, 0xFC00),
        ("mt1939", TSST, 0x200000, 0xF800),
        ("pioneer", TSST, 0x100000, 0x8000),
        ("btc", BTC, 0x100000, 0x1000),
    ],
)
def test_each_family_needs_its_own_chunk(family, identity, size, needed):
    steps = family_named(family).flash_steps(bytes(size), identity)
    assert needed_transfer(steps) == needed


def test_a_family_whose_chunk_fits_passes_with_the_numbers():
    transport, _ = bridged("tsst-shd163c,disc=none", 120 * 1024)
    steps = family_named("tsst").flash_steps(bytes(0x100000), TSST)
    line = check_path(transport, steps, "TSST")
    assert "63 KiB (0xfc00 bytes) fits USB bulk-only transport (usb-storage)" in line
    assert "120 KiB" in line


def test_a_chunk_larger_than_the_path_is_refused_before_anything_is_sent():
    transport, device = bridged("tsst-shd163c,disc=none", 32 * 1024)
    sent: list[bytes] = []
    inner = device.device.submit
    device.device.submit = lambda cdb, out, n: sent.append(cdb) or inner(cdb, out, n)
    steps = family_named("tsst").flash_steps(bytes(0x100000), TSST)
    with pytest.raises(Refused) as caught:
        check_path(transport, steps, "TSST")
    err = caught.value
    assert err.exit_code == ExitCode.REFUSED
    assert "the TSST protocol sends 63 KiB (0xfc00 bytes) in one command" in err.message
    assert "carries at most 32 KiB" in err.message and "nothing was sent" in err.message
    assert "SATA or IDE port" in err.hint and "USB bridge" in err.hint
    assert sent == []
    assert judge(transport, steps).ok is False


def test_an_unknown_limit_does_not_refuse():
    steps = family_named("tsst").flash_steps(bytes(0x40000), TSST)
    assert "path limit unknown" in check_path(SimpleNamespace(path="replay:x"), steps)


def usb_path(cap: int | None = 120 * 1024) -> PathInfo:
    return PathInfo(
        attachment="usb-bot",
        host="usb-storage",
        bridge=UsbBridge("152d", "2339", "JMicron", "bridge", None, "480", "usb-storage"),
        limits=QueueLimits(max_hw_sectors_kb=cap // 1024 if cap else None),
        vendor_commands="unknown",
        vendor_commands_why="",
        ata_passthrough="unknown",
        ata_passthrough_why="",
    )


def test_5_20_00_for_an_opcode_the_family_implements_is_the_bridge():
    origin = bridge_or_drive(usb_path(), 0x3B, "5/20/00", "btc")
    assert origin.who == BRIDGE and "152d:2339" in origin.why and "3Bh" in origin.why
    assert bridge_or_drive(usb_path(), 0xFF, "5/20/00", "tsst").who == BRIDGE
    # TSST's protocol does not use WRITE BUFFER: its drive may refuse it itself.
    assert bridge_or_drive(usb_path(), 0x3B, "5/20/00", "tsst").who == EITHER
    assert bridge_or_drive(usb_path(), 0x3B, "5/20/00", None).who == EITHER


def test_without_a_bridge_the_drive_answered():
    assert bridge_or_drive(None, 0x3B, "5/20/00", "btc").who == DRIVE
    ata = PathInfo("ata", "ahci", None, QueueLimits(), "passes", "", "passes", "")
    assert bridge_or_drive(ata, 0x3B, "5/20/00", "btc").who == DRIVE


def test_pass_through_transfers_and_mid_transfer_5_24_00_behind_usb():
    assert bridge_or_drive(usb_path(), 0x85, "5/20/00").who == BRIDGE
    over = bridge_or_drive(usb_path(), 0x3B, None, "btc", transferred=0x20000)
    assert over.who == BRIDGE and "131072 bytes exceed the 122880" in over.why
    late = bridge_or_drive(usb_path(), 0x3B, "5/24/00", "btc", transferred=0x1000,
                           accepted_before=True)  # fmt: skip
    assert late.who == BRIDGE and "mid-transfer" in late.why
    first = bridge_or_drive(usb_path(), 0x3B, "5/24/00", "btc", transferred=0x1000)
    assert first.who == EITHER


def test_the_opcode_table_matches_what_each_family_sends():
    identities = {"btc": BTC, "tsst": TSST, "mt1939": TSST, "pioneer": TSST}
    sizes = {"mt1939": 0x200000}
    for name, identity in identities.items():
        steps = family_named(name).flash_steps(bytes(sizes.get(name, 0x100000)), identity)
        data_steps = [s for s in steps if s.data]
        assert {s.cdb[0] for s in data_steps} == {FAMILY_WRITE_OPCODE[name]}, name


def test_info_names_the_path_the_bridge_and_what_passes(capsys):
    from rescue.ops.inventory import collect_info, show_info

    transport, _ = bridged("btc-drw1004im,disc=none", 120 * 1024)
    report = collect_info(Drive(transport))
    assert report["path"]["attachment"] == "usb-bot"
    assert report["path"]["limits"]["largest_transfer"] == 122880
    assert report["path"]["vendor_commands"]["status"] == "unknown"
    show_info(report)
    out = " ".join(capsys.readouterr().out.split())
    assert "attached USB bulk-only transport (usb-storage) (host usb-storage)" in out
    assert "USB bridge 152d:2339 (JMicron USB to ATA/ATAPI Bridge, 480 Mb/s" in out
    assert "largest transfer 120 KiB (122880 bytes), decided by the emulated bridge's" in out
    assert "vendor commands unknown: not probed" in out
    # info asked IDENTIFY PACKET DEVICE through ATA PASS-THROUGH: the bridge refused it
    assert report["path"]["ata_passthrough"]["status"] == "refused"
    assert "ATA pass-through refused: ATA PASS-THROUGH(16) was answered 5/20/00 behind" in out


def test_without_sysfs_limits_the_sg_driver_is_asked():
    class SgOnly:
        path = "/dev/sg9"  # not in this machine's sysfs

        @staticmethod
        def queue_max_bytes() -> int:
            return 0x1E000

    assert transfer_limit(SgOnly()) == (
        0x1E000,
        "the sg driver's BLKSECTGET (no block queue in sysfs)",
    )


def test_spec_keys_put_an_emulated_drive_behind_a_cap_or_a_bridge(capsys):
    from rescue.cli import main
    from rescue.devices import open_device

    with open_device("emu:tsst-shd163c,disc=none,maxxfer=32768") as transport:
        assert transfer_limit(transport) == (32768, "the emulated model's transfer cap (maxxfer=)")
        assert path_of(transport).attachment == "emulated"
        steps = family_named("tsst").flash_steps(bytes(0x100000), TSST)
        with pytest.raises(Refused, match="carries at most 32 KiB"):
            check_path(transport, steps, "TSST")
        with pytest.raises(TransportError):
            transport.execute(bytes([0x28]) + bytes(6) + bytes([0, 32, 0]), data_in=32 * 2048)
    with open_device("emu:btc-drw1004im,disc=none,bridge=usb") as transport:
        assert path_of(transport).attachment == "usb-bot"
        assert largest_transfer(transport) == 120 * 1024
    assert main(["probe", "emu:btc-drw1004im,disc=none,bridge=usb-novendor"]) == 9
    out = " ".join(capsys.readouterr().out.split())
    assert "the USB bridge refused it, not the drive" in out and "refused by: bridge" in out
    assert main(["info", "emu:btc-drw1004im,disc=none,bridge=usb,maxxfer=65536"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "largest transfer 64 KiB (65536 bytes)" in out and "USB bridge 152d:2339" in out


@pytest.mark.parametrize("spec", ["maxxfer=0", "maxxfer=1k", "bridge=firewire"])
def test_bad_bridge_keys_are_usage_errors(spec, capsys):
    from rescue.cli import main

    assert main(["info", f"emu:generic-dvd,{spec}"]) == int(ExitCode.USAGE)
    assert spec.split("=")[0] in capsys.readouterr().err


class _Node:
    """A transport on a real node, as far as path_of looks (weak references allowed)."""

    path = "/dev/sg9"


def test_a_real_nodes_path_is_read_from_sysfs_once_per_open_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A scan asks for the path several times (GET CONFIGURATION, its read size, the words)."""
    import rescue.ops.pathcheck as pathcheck

    walks: list[str] = []
    limits = QueueLimits(declared=4096, declared_by="a test")
    info = PathInfo("sata", "ahci", None, limits, "passes", "", "unknown", "")
    monkeypatch.setattr(pathcheck, "path_of_node", lambda node: walks.append(node) or info)
    first, again = _Node(), _Node()
    assert [path_of(first), path_of(first), largest_transfer(first)] == [info, info, 4096]
    assert walks == ["/dev/sg9"]
    assert path_of(again) is info and walks == ["/dev/sg9"] * 2  # opened again: read afresh


def test_a_closed_transports_path_is_forgotten_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache holds the transport weakly: once it is gone its entry goes too (no leak over
    a bench's many opens), and a transport without weak references is read each time."""
    import gc

    import rescue.ops.pathcheck as pathcheck

    walks: list[str] = []
    info = PathInfo("sata", "ahci", None, QueueLimits(), "passes", "", "unknown", "")
    monkeypatch.setattr(pathcheck, "path_of_node", lambda node: walks.append(node) or info)
    monkeypatch.setattr(pathcheck, "_NODE_PATHS", {})
    node = _Node()
    assert path_of(node) is info and len(pathcheck._NODE_PATHS) == 1
    del node
    gc.collect()
    assert pathcheck._NODE_PATHS == {}

    class Slotted:  # no __weakref__ slot: nothing cached, nothing raised
        __slots__ = ()
        path = "/dev/sg7"

    assert path_of(Slotted()) is info and path_of(Slotted()) is info
    assert walks == ["/dev/sg9", "/dev/sg7", "/dev/sg7"] and pathcheck._NODE_PATHS == {}


def test_a_pinned_discovery_answers_for_a_node_it_lists_without_a_sysfs_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import rescue.discovery as discovery
    import rescue.ops.pathcheck as pathcheck
    from rescue.discovery.model import DriveNode, Inventory

    walks: list[str] = []
    monkeypatch.setattr(pathcheck, "path_of_node", lambda node: walks.append(node))
    limits = QueueLimits(declared=8192, declared_by="a test")
    info = PathInfo("sata", "ahci", None, limits, "passes", "", "unknown", "")
    drive = DriveNode(0, "9:0:0:0", "/dev/sr9", "/dev/sg9", "V", "P", "1", "sata", "sr", path=info)
    with discovery.pinned(Inventory("sysfs", [drive])):
        assert path_of(_Node()) is info and largest_transfer(_Node()) == 8192
        other = _Node()
        other.path = "/dev/sg8"  # not in the inventory: sysfs is asked
        assert path_of(other) is None and walks == ["/dev/sg8"]
