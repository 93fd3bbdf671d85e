"""scsi_debug misbehaving on purpose, seen through sg and rescue's SgioTransport.

scsi_debug is a kernel-side device: its faults happen below sg, where no
user-space model can reach. Three of them (Linux 6.1 drivers/scsi/scsi_debug.c):
- opts bit 0x4 with every_nth=N ignores every Nth command: the kernel's own
  command timer must fire and rescue must say "timed out";
- WRITE BUFFER mode 5 queues a unit attention, 6/3F/16 "microcode has been
  changed without reset" (the guest's kernel answers with that ASCQ): a
  burst of them is a unit-attention storm, and every one must reach user
  space, none eaten by the mid-layer and none left behind for the next test;
- the device is deleted through sysfs while a command is outstanding: the
  command ends as timed out or gone, the nodes go, and a host scan brings
  the device back for the tests that follow.
scsi_debug is shared (test_scan_kernel.py uses its medium errors): every knob
goes back in a ``finally`` (sdebug.tuned), the device is found again by vendor.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import sdebug
from guestlib import ScsiNode, node_by_vendor, scsi_nodes, sense_triple

from rescue.drive import Drive
from rescue.errors import CommandTimeout, DeviceNotFound
from rescue.transport.base import CHECK_CONDITION, GOOD
from rescue.transport.sgio import SgioTransport

IGNORE_COMMANDS = 0x4  # opts: SDEBUG_OPT_TIMEOUT, with every_nth
TEST_UNIT_READY = bytes(6)
MICROCODE_SAVE = bytes([0x3B, 0x05, 0, 0, 0, 0, 0, 0, 0, 0])  # WRITE BUFFER mode 5, no data
MICROCODE_CHANGED = (6, 0x3F, 0x16)  # without reset
STORM = 20
COME_BACK_SECONDS = 60.0


@pytest.fixture
def debug_node(env: dict[str, str]) -> ScsiNode:
    node = node_by_vendor(env["RESCUE_SCSI_DEBUG_VENDOR"])
    with SgioTransport(node.sg) as dev:
        Drive(dev).settle()  # whatever an earlier test left pending
    return node


def test_an_ignored_command_fires_the_kernels_timer(debug_node: ScsiNode) -> None:
    knobs = ("every_nth", "opts")
    before = {name: sdebug.read(name) for name in knobs}
    with SgioTransport(debug_node.sg) as dev:
        with sdebug.tuned(debug_node, every_nth=1, opts=IGNORE_COMMANDS):
            started = time.monotonic()
            with pytest.raises(CommandTimeout, match="timed out after 2 s"):
                dev.execute(TEST_UNIT_READY, timeout=2.0)
            waited = time.monotonic() - started
        assert 2.0 <= waited < 30.0
        assert Drive(dev).settle()[0] is None  # answering again once the knob is back
    assert {name: sdebug.read(name) for name in knobs} == before


def test_every_unit_attention_of_a_storm_reaches_user_space(debug_node: ScsiNode) -> None:
    seen = []
    with SgioTransport(debug_node.sg) as dev:
        for _ in range(STORM):
            assert dev.execute(MICROCODE_SAVE).status == GOOD
            result = dev.execute(TEST_UNIT_READY)
            assert result.status == CHECK_CONDITION, result
            seen.append(sense_triple(result.sense))
        assert dev.execute(TEST_UNIT_READY).status == GOOD  # none left behind
    assert seen == [MICROCODE_CHANGED] * STORM


def _scan(host: str) -> None:
    Path(f"/sys/class/scsi_host/{host}/scan").write_text("- - -\n")


def _back(vendor: str) -> ScsiNode | None:
    deadline = time.monotonic() + COME_BACK_SECONDS
    while time.monotonic() < deadline:
        found = [n for n in scsi_nodes() if n.vendor == vendor]
        if found and Path(found[0].sg).exists():
            return found[0]
        time.sleep(0.5)
    return None


def test_a_device_deleted_mid_command_goes_and_comes_back(debug_node: ScsiNode) -> None:
    device = Path("/sys/class/scsi_generic", Path(debug_node.sg).name, "device").resolve()
    host = next(p.name for p in device.parents if p.name.startswith("host"))
    try:
        with sdebug.tuned(debug_node, every_nth=1, opts=IGNORE_COMMANDS):
            with SgioTransport(debug_node.sg) as dev:
                # py-sg keeps the GIL during SG_IO: the delete comes from another process.
                deleter = subprocess.Popen(
                    ["sh", "-c", f"sleep 1; echo 1 > {device / 'delete'}"],
                )
                with pytest.raises((CommandTimeout, DeviceNotFound)):
                    dev.execute(TEST_UNIT_READY, timeout=5.0)
                assert deleter.wait(timeout=60) == 0
                with pytest.raises(DeviceNotFound):
                    dev.execute(TEST_UNIT_READY)
        assert not device.exists()
        with pytest.raises(DeviceNotFound):
            SgioTransport(debug_node.sg)
    finally:
        _scan(host)
    back = _back(debug_node.vendor)
    assert back is not None, scsi_nodes()
    with SgioTransport(back.sg) as dev:
        assert Drive(dev).settle()[0] is None
