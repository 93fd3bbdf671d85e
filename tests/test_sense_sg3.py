"""Cross-check `rescue explain --json` against sg3_utils' sg_decode_sense.

sg_decode_sense (Debian sg3-utils) is an independent decoder of the same
SPC layouts. Over a deterministic corpus of fixed and descriptor buffers it
must name the same format, sense key, ASC/ASCQ and information field as we do.
The ASC names agree by construction for named pairs (our table's facts come
from the same T10 list via libsgutils), so what this proves is the decoding,
the pattern and vendor/reserved rules, and that the table was not mangled.

A missing sg_decode_sense is a failure, not a skip: CI installs sg3-utils
(build/apt-packages.txt), and a silent skip would hide the only peer check.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from sense_corpus import Case, corpus, descriptor, fixed, sks_bytes

import rescue.cli
from rescue.scsi.asc_table import asc_name, is_known

pytestmark = pytest.mark.peer

CORPUS = corpus()

HEADER = re.compile(r"^(Fixed|Descriptor) format, (current|<<<deferred>>>); Sense key: (.+)$")
NAMED = re.compile(r"^Additional sense: (.+)$")
VENDOR_ASC = re.compile(r"^vendor specific ASC=([0-9a-f]{2}), ASCQ=([0-9a-f]{2}) \(hex\)$")
VENDOR_ASCQ = re.compile(
    r"^ASC=([0-9a-f]{2}), vendor specific qualification ASCQ=([0-9a-f]{2}) \(hex\)$"
)
RESERVED = re.compile(r"^ASC=([0-9a-f]{2}), ASCQ=([0-9a-f]{2}) \(hex\)$")
INFO = re.compile(r"^\s*(?:Info fld=|Descriptor type: Information: )0x([0-9a-f]+)")


def _sg_decode_sense() -> str:
    path = shutil.which("sg_decode_sense")
    if path is None:
        pytest.fail(
            "sg_decode_sense not found: install the Debian package sg3-utils "
            "(listed in build/apt-packages.txt); this peer check must not be skipped"
        )
    return path


def _peer(tool: str, raw: bytes) -> list[str]:
    out = subprocess.run(
        [tool, *raw.hex(" ").split()], capture_output=True, text=True, check=True, timeout=10
    )
    return [line for line in out.stdout.splitlines() if line.strip()]


def _norm(name: str) -> str:
    """Compare names, not typography: case, spacing, '[0x5]' vs '05h', key '(9)' suffix."""
    name = re.sub(
        r"\[?0x([0-9a-f]+)\]?", lambda m: f"{int(m.group(1), 16):02X}h", name, flags=re.I
    )
    name = re.sub(r"\s*\((?:\d+|obsolete)\)", "", name, flags=re.I)
    return " ".join(name.upper().split())


@pytest.fixture(scope="module")
def explain_json():
    """Run `rescue explain --json` in-process, with only this command registered.

    Registering only explain keeps the check independent of sibling commands that
    may be mid-development; the CLI frame itself (parsing, JSON, exit code) is real.
    """

    def run(raw: bytes, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
        capsys.readouterr()
        assert rescue.cli.main(["explain", "--json", *raw.hex(" ").split()]) == 0
        return json.loads(capsys.readouterr().out)

    saved = rescue.cli.COMMANDS
    rescue.cli.COMMANDS = ["rescue.ops.explain"]
    yield run
    rescue.cli.COMMANDS = saved


def test_corpus_covers_the_ground() -> None:
    assert len(CORPUS) >= 200
    assert {c.key for c in CORPUS} == set(range(16))
    assert {(c.format, c.deferred) for c in CORPUS} == {
        ("fixed", False), ("fixed", True), ("descriptor", False), ("descriptor", True)
    }
    categories = {c.category for c in CORPUS}
    assert categories == {"named", "pattern", "vendor-asc", "vendor-ascq", "reserved"}
    assert len({(c.asc, c.ascq) for c in CORPUS}) > 150


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: f"{c.format[0]}-{c.raw.hex()}")
def test_agrees_with_sg_decode_sense(
    case: Case, explain_json, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _peer(_sg_decode_sense(), case.raw)
    ours = explain_json(case.raw, capsys)

    header = HEADER.match(lines[0])
    assert header, lines
    assert ours["format"] == header.group(1).lower()
    assert ours["deferred"] == (header.group(2) != "current")
    assert _norm(str(ours["key_name"])) == _norm(header.group(3))
    assert ours["key"] == case.key

    second = lines[1]
    assert (ours["asc"], ours["ascq"]) == (case.asc, case.ascq)
    if named := NAMED.match(second):
        assert _norm(str(ours["asc_name"])) == _norm(named.group(1))
    elif m := VENDOR_ASC.match(second):
        assert (int(m.group(1), 16), int(m.group(2), 16)) == (case.asc, case.ascq)
        assert str(ours["asc_name"]).startswith("VENDOR SPECIFIC (ASC")
    elif m := VENDOR_ASCQ.match(second):
        assert (int(m.group(1), 16), int(m.group(2), 16)) == (case.asc, case.ascq)
        assert str(ours["asc_name"]).startswith("VENDOR SPECIFIC QUALIFIER")
    else:
        m = RESERVED.match(second)
        assert m, f"unexpected sg_decode_sense line: {second!r}"
        assert (int(m.group(1), 16), int(m.group(2), 16)) == (case.asc, case.ascq)
        assert str(ours["asc_name"]).startswith("UNKNOWN (RESERVED)")

    peer_info = [int(m.group(1), 16) for line in lines[2:] if (m := INFO.match(line))]
    assert ours["information"] == (peer_info[0] if peer_info else None)
    assert ours["information"] == case.information


def test_sense_key_specific_agrees_with_sg_decode_sense(
    explain_json, capsys: pytest.CaptureFixture[str]
) -> None:
    """Progress indication and field pointer, the two a flasher reads, match the peer."""
    tool = _sg_decode_sense()
    for value in (0, 0x1234, 0x8000, 0xFFFF):
        for raw in (
            fixed(0x2, 0x04, 0x07, sks=sks_bytes(value)),
            descriptor(0x2, 0x04, 0x07, sks=sks_bytes(value)),
        ):
            peer = " ".join(_peer(tool, raw))
            percent = float(re.search(r"Progress indication: ([\d.]+)%", peer).group(1))
            assert _percent(explain_json(raw, capsys)) == pytest.approx(percent, abs=0.01)
    raw = descriptor(0x5, 0x24, 0x00, sks=sks_bytes(5, flags=0x40 | 0x08 | 1))
    peer = " ".join(_peer(tool, raw))
    assert "Error in Command: byte 5 bit 1" in peer
    assert explain_json(raw, capsys)["sense_key_specific"] == (
        "invalid field in the CDB at byte 5 bit 1"
    )



def _percent(report: dict[str, object]) -> float:
    progress = report["progress"]
    assert isinstance(progress, float)
    return progress * 100


def test_every_named_pair_matches_sg_decode_sense() -> None:
    """The whole table, not a sample: a mangled or shifted entry fails here."""
    tool = _sg_decode_sense()
    pairs = [(a, q) for a in range(0x80) for q in range(0x100) if is_known(a, q)]
    # Patterned ranges (40h/4Dh/70h...) are sampled at every 16th qualifier.
    sampled = [(a, q) for a, q in pairs if a not in (0x40, 0x41, 0x42, 0x4D, 0x70) or q % 16 == 1]
    assert len(sampled) > 700
    mismatches = []
    for asc, ascq in sampled:
        line = _peer(tool, fixed(0, asc, ascq))[1]
        peer = NAMED.match(line)
        if peer is None or _norm(asc_name(asc, ascq)) != _norm(peer.group(1)):
            mismatches.append((f"{asc:02X}/{ascq:02X}", asc_name(asc, ascq), line))
    assert not mismatches, mismatches[:10]
