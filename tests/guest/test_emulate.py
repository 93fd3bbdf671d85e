"""`rescue emulate` end to end: product models as kernel drives, seen by peer tools.

Runs the real CLI in its own process, as a person would, then looks at the
drives with sysfs, sg3_utils, rescue's SgioTransport and the block layer
(a disc read through /dev/srN must match the same model read in process).
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from guestlib import BridgeProcess, emulate_command

from rescue.emulator.registry import MODELS, create
from rescue.transport.emulated import EmulatedTransport
from rescue.transport.sgio import SgioTransport

SPECS = ["generic-dvd", "btc-drw1004im,rev=0043"]
INQUIRY = bytes([0x12, 0, 0, 0, 96, 0])
SECTORS = 16


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulate") / "served.jsonl"


@pytest.fixture(scope="module")
def emulate(journal: Path) -> Iterator[BridgeProcess]:
    with emulate_command(SPECS, journal) as process:
        yield process


def _expected(spec: str) -> tuple[str, str, str]:
    name, _, options = spec.partition(",")
    info = MODELS[name]
    rev = dict(o.split("=") for o in options.split(",") if o).get("rev", info.default_revision)
    return info.vendor, info.product, rev


def test_each_spec_gets_a_type_5_sr_and_sg(emulate: BridgeProcess) -> None:
    assert [d["spec"] for d in emulate.drives] == SPECS
    for drive in emulate.drives:
        sysfs = Path("/sys/class/scsi_generic", Path(drive["sg"]).name, "device")
        assert (sysfs / "type").read_text().strip() == "5"
        assert Path(drive["sr"]).is_block_device()


@pytest.mark.parametrize("index", range(len(SPECS)))
def test_sg_inq_shows_the_model_identity(emulate: BridgeProcess, index: int) -> None:
    drive = emulate.drives[index]
    vendor, product, rev = _expected(drive["spec"])
    out = subprocess.run(["sg_inq", drive["sg"]], capture_output=True, text=True, check=True)
    assert f"Vendor identification: {vendor}" in out.stdout
    assert f"Product identification: {product}" in out.stdout
    assert f"Product revision level: {rev}" in out.stdout


@pytest.mark.parametrize("index", range(len(SPECS)))
def test_sgio_inquiry_matches_the_in_process_model(emulate: BridgeProcess, index: int) -> None:
    drive = emulate.drives[index]
    with SgioTransport(drive["sg"]) as real:
        through_kernel = real.execute(INQUIRY, data_in=96)
    with EmulatedTransport(create(drive["spec"]), name="emu") as emu:
        in_process = emu.execute(INQUIRY, data_in=96)
    assert through_kernel.status == in_process.status == 0
    assert through_kernel.data == in_process.data


def test_disc_read_through_the_block_layer_matches_the_model(emulate: BridgeProcess) -> None:
    drive = emulate.drives[0]
    with open(drive["sr"], "rb") as block:
        through_kernel = block.read(SECTORS * 2048)
    read_10 = bytes([0x28, 0, 0, 0, 0, 0, 0, 0, SECTORS, 0])
    model = create(drive["spec"])
    with EmulatedTransport(model, name="emu") as emu:
        emu.execute(bytes(6))  # the power-on unit attention a real first command meets
        in_process = emu.execute(read_10, data_in=SECTORS * 2048)
    assert in_process.status == 0
    assert through_kernel == in_process.data


def test_the_journal_records_what_the_kernel_passed_on(
    emulate: BridgeProcess, journal: Path
) -> None:
    drive = emulate.drives[1]
    subprocess.run(["sg_inq", drive["sg"]], capture_output=True, check=True)
    entries = [json.loads(line) for line in journal.read_text().splitlines()]
    mine = [e for e in entries if e["device"] == f"tcmu:{drive['spec']}"]
    inquiries = [e for e in mine if e["cdb"].startswith("1200") and e["status"] == 0]
    assert inquiries, entries[-5:]
    _, product, rev = _expected(drive["spec"])
    assert product.encode().hex() in inquiries[-1]["in_data"]
    assert rev.encode().hex() in inquiries[-1]["in_data"]


def test_sigint_removes_the_drives(emulate: BridgeProcess) -> None:
    returncode = emulate.stop(signal.SIGINT)
    assert returncode == 0, emulate.output()
    for drive in emulate.drives:
        assert f"{drive['spec']}: removed after" in emulate.output()
        assert not Path("/sys/class/scsi_generic", Path(drive["sg"]).name).exists()
