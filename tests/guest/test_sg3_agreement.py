"""sg3_utils and rescue, on the same TCMU drive, must tell the same story.

sg_inq / sg_turs are independent readers of what the kernel passes back;
sg_decode_sense is an independent decoder of the sense rescue received;
sg_write_buffer is an independent sender whose bytes the bridge's journal
must show equal to what rescue's BTC family would send for the same chunk.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from guestlib import journal_entries, make_image, run_cli, sense_triple
from kernelbed import BTC_TARGET, KernelBed

from rescue.drive import Drive
from rescue.families import drive_family
from rescue.scsi.sense import decode_sense
from rescue.transport.base import CHECK_CONDITION
from rescue.transport.sgio import SgioTransport

UNKNOWN_OPCODE = bytes([0xD7]) + bytes(9)  # vendor group 6, not a BTC command


def _sg(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=60)


def _info(sg: str) -> dict[str, object]:
    code, out, err = run_cli("info", sg, "--json")
    assert code == 0, out + err
    return json.loads(out)


def test_sg_inq_and_rescue_info_report_the_same_identity(bed: KernelBed) -> None:
    sg = bed.drive("sg3")["sg"]
    out = _sg("sg_inq", sg).stdout
    fields = {
        key.strip(): value.strip()
        for key, _, value in (line.partition(":") for line in out.splitlines())
    }
    inquiry = _info(sg)["inquiry"]
    assert fields["Vendor identification"] == inquiry["vendor"]
    assert fields["Product identification"] == inquiry["product"]
    assert fields["Product revision level"] == inquiry["revision"]


def test_sg_turs_and_rescue_agree_an_empty_drive_is_not_ready(bed: KernelBed) -> None:
    sg = bed.drive("sg3")["sg"]
    turs = _sg("sg_turs", sg)
    assert turs.returncode == 2, turs.stdout + turs.stderr  # sg3_utils: 2 = not ready
    report = _info(sg)
    assert report["ready"] is False
    sense = report["ready_sense"]
    assert (sense["key"], sense["asc"]) == (2, 0x3A), sense
    assert "not ready" in turs.stdout.lower()


def test_sg_decode_sense_reads_rescues_sense_as_rescue_does(bed: KernelBed) -> None:
    with SgioTransport(bed.drive("sg3")["sg"]) as dev:
        refused = dev.execute(UNKNOWN_OPCODE, data_in=8)
    assert refused.status == CHECK_CONDITION
    ours = decode_sense(refused.sense)
    assert sense_triple(refused.sense) == (ours.key, ours.asc, ours.ascq)
    decoded = _sg("sg_decode_sense", *(f"{b:02x}" for b in refused.sense))
    assert decoded.returncode == 0, decoded.stderr
    text = decoded.stdout.lower()
    assert f"sense key: {ours.key_name.lower()}" in text, decoded.stdout
    assert f"additional sense: {ours.asc_name.lower()}" in text, decoded.stdout


def test_sg_write_buffer_sends_the_bytes_rescue_would(bed: KernelBed, tmp_path: Path) -> None:
    sg = bed.drive("sg3")["sg"]
    image = make_image("btc", BTC_TARGET, tmp_path / "new.bin").read_bytes()
    with SgioTransport(sg) as dev:
        drive = Drive(dev)
        drive.settle()
        family = drive_family(drive)
        first = family.flash_steps(image, drive.identity)[0]
    assert family.name == "btc" and first.data is not None
    chunk = tmp_path / "chunk.bin"
    chunk.write_bytes(first.data)
    mode, offset = first.cdb[1], int.from_bytes(first.cdb[3:6], "big")
    sent = _sg(
        "sg_write_buffer", f"--mode={mode}", f"--offset={offset}",
        f"--length={len(first.data)}", f"--in={chunk}", sg,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stdout + sent.stderr
    served = journal_entries(bed.journal, bed.label("sg3"))
    last = [e for e in served if str(e["cdb"]).startswith("3b")][-1]
    assert last["cdb"] == first.cdb.hex()
    assert last["out_sha256"] == hashlib.sha256(first.data).hexdigest()
    assert last["status"] == 0
