"""The state and image checks the peers make, held through the kernel (issue 14, item 4).

Two drives that the real peers refuse are served by one `rescue emulate`
bridge over TCMU, and `rescue flash` runs on each through its /dev/sgN as a
user runs it. What reached each drive is read from the bridge's journal (the
device side), so a check rescue skipped would show there as commands sent:

- a Pioneer DVR-108 that takes the key block but stays in normal mode
  (``kernel=stays``): DVRFlash 2.2b re-reads INQUIRY after ``3B 04 FF`` and
  stops unless the revision is ``0000`` ("Could not set drive to Kernel
  mode!", DVRFlash.cpp lines 1448-1473 @ 8ccb1b7). rescue must stop there too:
  the key block, that INQUIRY, and no other write-class command;
- an ASUS BW-16D1HT (configuration id "MT1959 Boot JB8 ") given the image of
  its neighbour, the LG BU40N ("MT1959 Boot BU5 " at 0x3000): redumper refuses
  it before any command with its table and again by the drive's own block
  (drive/flash_mt1959.ixx lines 133-146 @ 2ab9a42), even with --force-flash.
  rescue must refuse it with ``--force identity`` given, and send no WRITE
  BUFFER at all.

docs/check-matrix.md lists these rows; tests/test_check_matrix.py holds the
same checks in-process. Checked once with each check removed (2026-12-02: the
``pioneer-kernel-mode`` and ``mt1959-table`` mutants of test_check_matrix.py
applied in every Python process of the guest run through a sitecustomize):
the first run failed on the Normal chunk rescue then sent, the second on the
READ BUFFER it then sent before refusing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from guestlib import emulate_command, make_image, rescue

PIONEER_SPEC = "pioneer-dvr108,rev=1.16,disc=none,kernel=stays"
MT1959_SPEC = "asus-bw16d1ht,disc=none"
CONFIG_AT = 0x3000
NEIGHBOUR_ID = b"MT1959 Boot BU5 "  # the BU40N's row of redumper's MT1959_SUPPORTED_DRIVES
KEY_BLOCK_CDB = "3b04ff00000000010000"
KERNEL_INQUIRY_CDB = "120000006000"


def drive_cdbs(journal: Path, spec: str) -> list[str]:
    """The CDBs (hex) one drive received, in order, from the bridge's journal."""
    entries = [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
    return [e["cdb"] for e in entries if e.get("device") == f"tcmu:{spec}"]


def write_class(cdbs: list[str]) -> list[str]:
    return [c for c in cdbs if c.startswith("3b") or int(c[:2], 16) >= 0xC0]


@pytest.mark.peer
def test_pioneer_that_ignores_the_mode_switch_and_mt1959_neighbour_image_stop(
    tmp_path: Path,
) -> None:
    pioneer_image = make_image("pioneer", "1.17", tmp_path / "pioneer-1.17.bin")
    neighbour = bytearray(make_image("mt1959", "3.10", tmp_path / "jb8.bin").read_bytes())
    neighbour[CONFIG_AT : CONFIG_AT + len(NEIGHBOUR_ID)] = NEIGHBOUR_ID
    mt1959_image = tmp_path / "bu40n-for-the-bw16d1ht.bin"
    mt1959_image.write_bytes(bytes(neighbour))
    journal = tmp_path / "served.jsonl"
    with emulate_command([PIONEER_SPEC, MT1959_SPEC], journal) as bridge:
        nodes = {d["spec"]: d for d in bridge.drives}
        pioneer = rescue(
            "flash", nodes[PIONEER_SPEC]["sg"], str(pioneer_image), "--yes", "--no-backup",
            "--reports", str(tmp_path / "reports-pioneer"),
        )  # fmt: skip
        mt1959 = rescue(
            "flash", nodes[MT1959_SPEC]["sg"], str(mt1959_image), "--yes", "--no-backup",
            "--force", "identity", "--reports", str(tmp_path / "reports-mt1959"),
        )  # fmt: skip
    said = pioneer.stdout + pioneer.stderr
    assert pioneer.returncode != 0, said
    assert "did not enter kernel mode" in said, said
    cdbs = drive_cdbs(journal, PIONEER_SPEC)
    assert write_class(cdbs) == [KEY_BLOCK_CDB], cdbs
    after_key = cdbs[cdbs.index(KEY_BLOCK_CDB) + 1 :]
    assert after_key and after_key[0] == KERNEL_INQUIRY_CDB, cdbs

    said = mt1959.stdout + mt1959.stderr
    assert mt1959.returncode != 0, said
    assert "MT1959 Boot BU5" in said, said
    cdbs = drive_cdbs(journal, MT1959_SPEC)
    assert not write_class(cdbs), cdbs
    assert not [c for c in cdbs if c.startswith("3c")], f"refused before any read: {cdbs}"
