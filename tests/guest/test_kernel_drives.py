"""QEMU's own drives and scsi_debug, seen through the real sr/sg drivers.

These pin down the "real drive that refuses" path: the same WRITE BUFFER a
flasher sends must come back from a real kernel as CHECK CONDITION with
ILLEGAL REQUEST, and rescue's SgioTransport must report it as sense, not
raise.
"""

from __future__ import annotations

import os
import subprocess
import tempfile

from guestlib import node_by_vendor, scsi_nodes, sense_triple

from rescue.discovery import discover
from rescue.transport.base import CHECK_CONDITION, GOOD
from rescue.transport.sgio import SgioTransport

INQUIRY = bytes([0x12, 0, 0, 0, 96, 0])
TEST_UNIT_READY = bytes(6)


def write_buffer(mode: int, length: int) -> bytes:
    return bytes([0x3B, mode, 0, 0, 0, 0, (length >> 16) & 0xFF, (length >> 8) & 0xFF,
                  length & 0xFF, 0])  # fmt: skip


def test_every_drive_is_a_cd_rom_with_sr_and_sg() -> None:
    nodes = scsi_nodes()
    vendors = {n.vendor for n in nodes}
    assert {"QEMU", os.environ["RESCUE_SCSI_CD_VENDOR"],
            os.environ["RESCUE_SCSI_DEBUG_VENDOR"]} <= vendors  # fmt: skip
    for node in nodes:
        assert node.type == 5, node
        assert node.sr is not None and os.path.exists(node.sr), node


def test_scsi_cd_inquiry_through_sgio(env: dict[str, str]) -> None:
    node = node_by_vendor(env["RESCUE_SCSI_CD_VENDOR"])
    with SgioTransport(node.sg) as dev:
        result = dev.execute(INQUIRY, data_in=96)
    assert result.status == GOOD
    assert result.data[0] & 0x1F == 5
    assert result.data[8:16].decode().strip() == env["RESCUE_SCSI_CD_VENDOR"]
    assert result.data[16:32].decode().strip() == env["RESCUE_SCSI_CD_PRODUCT"]
    assert result.data[32:36].decode().strip() == env["RESCUE_SCSI_CD_REV"]


def test_scsi_cd_refuses_write_buffer_with_illegal_request(env: dict[str, str]) -> None:
    node = node_by_vendor(env["RESCUE_SCSI_CD_VENDOR"])
    with SgioTransport(node.sg) as dev:
        result = dev.execute(write_buffer(5, 4096), data_out=bytes(4096))
    assert result.status == CHECK_CONDITION
    key, asc, ascq = sense_triple(result.sense)
    assert (key, asc, ascq) in {(5, 0x20, 0), (5, 0x24, 0)}, result.sense.hex()


def test_ide_cd_reports_revision_and_ready_disc(env: dict[str, str]) -> None:
    node = node_by_vendor("QEMU")
    assert node.rev == env["RESCUE_IDE_CD_REV"]
    with SgioTransport(node.sg) as dev:
        assert dev.execute(TEST_UNIT_READY).status == GOOD


def test_ide_cd_disc_mounts_and_reads(env: dict[str, str]) -> None:
    node = node_by_vendor("QEMU")
    with tempfile.TemporaryDirectory() as mnt:
        subprocess.run(["mount", "-t", "iso9660", "-o", "ro", node.sr, mnt], check=True)
        try:
            with open(os.path.join(mnt, env["RESCUE_ISO_FILE"])) as fh:
                assert fh.read() == env["RESCUE_ISO_TEXT"]
        finally:
            subprocess.run(["umount", mnt], check=True)


def test_scsi_debug_answers_sg_inq_as_cd_rom(env: dict[str, str]) -> None:
    node = node_by_vendor(env["RESCUE_SCSI_DEBUG_VENDOR"])
    out = subprocess.run(["sg_inq", node.sg], capture_output=True, text=True, check=True).stdout
    assert "PDT=5" in out
    assert env["RESCUE_SCSI_DEBUG_VENDOR"] in out


def test_sg_turs_on_scsi_cd(env: dict[str, str]) -> None:
    node = node_by_vendor(env["RESCUE_SCSI_CD_VENDOR"])
    done = subprocess.run(["sg_turs", node.sg], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_rescue_discovery_reads_the_real_sysfs_like_the_kernel_shows_it() -> None:
    """discovery's own tests use fake sysfs trees; here the tree is the kernel's."""
    inventory = discover(use_udev=False)
    assert inventory.source == "sysfs"
    found = {(d.sr, d.sg, d.vendor, d.model, d.revision) for d in inventory.drives}
    expected = {(n.sr, n.sg, n.vendor, n.model, n.rev) for n in scsi_nodes()}
    assert found == expected
    assert [d.index for d in inventory.drives] == list(range(len(expected)))
