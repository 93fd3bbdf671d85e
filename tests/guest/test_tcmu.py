"""The TCMU bridge on a real kernel: models become /dev/srN + /dev/sgN.

The tiny drive of tinydrive.py (served by its own process, like `rescue
emulate`) keeps these tests about the bridge: identity, both data
directions, sense, a hang the kernel aborts, several drives at once and a
clean teardown on SIGTERM and SIGINT.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from guestlib import BridgeProcess, sense_triple
from tinydrive import ECHO_OPCODE, GONE_OPCODE, HANG_OPCODE, REVISION, VENDOR

from rescue.emulator.base import CHECK_CONDITION, GOOD
from rescue.errors import CommandTimeout, DeviceNotFound
from rescue.transport.sgio import SgioTransport

TINY = [sys.executable, str(Path(__file__).with_name("tinydrive.py"))]
PRODUCTS = ["TCMU TINY ONE", "TCMU TINY TWO"]
INQUIRY = bytes([0x12, 0, 0, 0, 96, 0])
TEST_UNIT_READY = bytes(6)


def _buffer_cdb(opcode: int, length: int) -> bytes:
    # WRITE/READ BUFFER mode 02h (data), buffer 0, offset 0 (SPC-4 6.48, 6.17)
    return bytes([opcode, 0x02, 0, 0, 0, 0, length >> 16, (length >> 8) & 0xFF, length & 0xFF, 0])


@pytest.fixture(scope="module")
def bridge() -> Iterator[BridgeProcess]:
    with BridgeProcess([*TINY, *PRODUCTS]) as process:
        yield process


@pytest.fixture
def drive(bridge: BridgeProcess) -> dict[str, str]:
    return bridge.drives[0]


def test_each_model_is_a_type_5_drive_with_its_own_nodes(bridge: BridgeProcess) -> None:
    assert [d["product"] for d in bridge.drives] == PRODUCTS
    for drive in bridge.drives:
        sysfs = Path("/sys/class/scsi_generic", Path(drive["sg"]).name, "device")
        assert (sysfs / "type").read_text().strip() == "5"
        assert (sysfs / "vendor").read_text().strip() == VENDOR
        assert (sysfs / "model").read_text().strip() == drive["product"]
        assert Path(drive["sr"]).is_block_device()
    assert len({d["sr"] for d in bridge.drives}) == len(PRODUCTS)


def test_sg_inq_sees_the_model_identity(drive: dict[str, str]) -> None:
    out = subprocess.run(["sg_inq", drive["sg"]], capture_output=True, text=True, check=True)
    assert "PDT=5" in out.stdout
    assert VENDOR in out.stdout and drive["product"] in out.stdout and REVISION in out.stdout


def test_sg_turs_passes(drive: dict[str, str]) -> None:
    done = subprocess.run(["sg_turs", drive["sg"]], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_sgio_inquiry_reports_identity_and_residual(drive: dict[str, str]) -> None:
    with SgioTransport(drive["sg"]) as dev:
        result = dev.execute(INQUIRY, data_in=96)
        assert dev.execute(TEST_UNIT_READY).status == GOOD
    assert result.status == GOOD
    assert result.data[8:16].decode() == VENDOR
    assert result.data[16:32].decode().strip() == drive["product"]
    assert result.residual == 96 - 36


@pytest.mark.parametrize("size", [1, 2048, 65536, 1 << 20])
def test_write_buffer_reaches_the_model_and_reads_back(drive: dict[str, str], size: int) -> None:
    payload = os.urandom(size)
    with SgioTransport(drive["sg"]) as dev:
        wrote = dev.execute(_buffer_cdb(0x3B, size), data_out=payload)
        read = dev.execute(_buffer_cdb(0x3C, size), data_in=size)
    assert wrote.status == GOOD
    assert read.status == GOOD and read.data == payload


def test_model_sense_arrives_through_sg_io(drive: dict[str, str]) -> None:
    with SgioTransport(drive["sg"]) as dev:
        result = dev.execute(bytes([0xA4, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0]), data_in=8)
    assert result.status == CHECK_CONDITION
    assert sense_triple(result.sense) == (5, 0x20, 0)


def test_vendor_cdbs_arrive_intact_up_to_the_kernels_group_length(
    drive: dict[str, str],
) -> None:
    """Groups 6/7 are sized 10 bytes by the kernel (COMMAND_SIZE): a 12-byte vendor
    CDB reaches a TCMU model cut to 10, unlike on a real bus; family tests must
    not rely on bytes 10-11 through this bed."""
    cdb = bytes([ECHO_OPCODE, *range(1, 12)])
    with SgioTransport(drive["sg"]) as dev:
        ten = dev.execute(cdb[:10], data_in=16)
        twelve = dev.execute(cdb, data_in=16)
    assert ten.status == GOOD and ten.data[:10] == cdb[:10]
    assert twelve.status == GOOD and twelve.data[: 16 - twelve.residual] == cdb[:10]


def test_hang_becomes_a_timeout_and_the_drive_recovers(bridge: BridgeProcess) -> None:
    drive = bridge.drives[1]
    with SgioTransport(drive["sg"]) as dev:
        started = time.monotonic()
        with pytest.raises(CommandTimeout):
            dev.execute(bytes([HANG_OPCODE]) + bytes(9), data_in=8, timeout=1.0)
        assert time.monotonic() - started < 20
        assert dev.execute(TEST_UNIT_READY).status == GOOD
    assert bridge.wait_for_line("abort task"), bridge.output()


def test_a_model_that_drops_off_the_bus_takes_its_nodes_along() -> None:
    with BridgeProcess([*TINY, "TCMU GONE"]) as process:
        drive = process.drives[0]
        sysfs = Path("/sys/class/scsi_generic", Path(drive["sg"]).name)
        with SgioTransport(drive["sg"]) as dev, pytest.raises((CommandTimeout, DeviceNotFound)):
            dev.execute(bytes([GONE_OPCODE]) + bytes(9), data_in=8, timeout=2.0)
        deadline = time.monotonic() + 45
        while sysfs.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not sysfs.exists(), process.output()
        with pytest.raises(DeviceNotFound):
            SgioTransport(drive["sg"])
        assert process.stop(signal.SIGTERM) == 0, process.output()
    assert not Path(drive["backstore"]).exists()


def test_round_trip_time(
    drive: dict[str, str], record_property: Callable[[str, object], None]
) -> None:
    count = 200
    with SgioTransport(drive["sg"]) as dev:
        started = time.monotonic()
        for _ in range(count):
            assert dev.execute(TEST_UNIT_READY).status == GOOD
        per_command = (time.monotonic() - started) / count
    record_property("tcmu_round_trip_ms", f"{per_command * 1000:.2f}")
    print(f"TCMU round trip: {per_command * 1000:.2f} ms per TEST UNIT READY")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_removes_nodes_and_configfs_objects(sig: signal.Signals) -> None:
    process = BridgeProcess([*TINY, "TCMU TEARDOWN"])
    with process:
        drive = process.drives[0]
        assert Path(drive["sr"]).exists() and Path(drive["backstore"]).is_dir()
        returncode = process.stop(sig)
    assert returncode == 0, process.output()
    assert '"stats"' in process.output()
    assert not Path("/sys/class/scsi_generic", Path(drive["sg"]).name).exists()
    assert not Path(drive["port"]).exists() and not Path(drive["backstore"]).exists()
