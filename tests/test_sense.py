"""Sense decoding, the ASC table's rules, advice, parse_triple and SenseError."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sense_corpus import descriptor, fixed, sks_bytes

import rescue
from rescue.emulator import sense as emulated
from rescue.errors import ExitCode, ParseError, RescueError
from rescue.scsi.advice import advise
from rescue.scsi.asc_table import asc_name, is_known
from rescue.scsi.sense import (
    KEY_NAMES,
    FieldPointer,
    Progress,
    QueueOverflow,
    RetryCount,
    SegmentPointer,
    SenseError,
    decode_sense,
    parse_triple,
)

# The sense-code table at the end of docs/protocols.md, with the
# standard names it quotes: every one must be named and specifically advised.
PROTOCOLS_TABLE = {
    (0x5, 0x20, 0x00): "INVALID COMMAND OPERATION CODE",
    (0x5, 0x24, 0x00): "INVALID FIELD IN CDB",
    (0x5, 0x26, 0x00): "INVALID FIELD IN PARAMETER LIST",
    (0x5, 0x2C, 0x00): "COMMAND SEQUENCE ERROR",
    (0x2, 0x3A, 0x00): "MEDIUM NOT PRESENT",
    (0x2, 0x3A, 0x01): "MEDIUM NOT PRESENT - TRAY CLOSED",
    (0x2, 0x3A, 0x02): "MEDIUM NOT PRESENT - TRAY OPEN",
    (0x2, 0x04, 0x00): "LOGICAL UNIT NOT READY, CAUSE NOT REPORTABLE",
    (0x2, 0x04, 0x01): "LOGICAL UNIT IS IN PROCESS OF BECOMING READY",
    (0x2, 0x04, 0x07): "LOGICAL UNIT NOT READY, OPERATION IN PROGRESS",
    (0x6, 0x29, 0x00): "POWER ON, RESET, OR BUS DEVICE RESET OCCURRED",
    (0x6, 0x28, 0x00): "NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED",
    (0x6, 0x3F, 0x01): "MICROCODE HAS BEEN CHANGED",
    (0x3, 0x11, 0x00): "UNRECOVERED READ ERROR",
    (0x4, 0x44, 0x00): "INTERNAL TARGET FAILURE",
}


# --- fixed format ---


def test_fixed_example_from_the_sg_decode_sense_manual() -> None:
    # sg_decode_sense(8), EXAMPLES: a medium error at LBA 0x1234 with VALID set.
    raw = bytes.fromhex("f0 00 03 00 00 12 34 0a 00 00 00 00 11 00 00 00 00 00")
    sense = decode_sense(raw)
    assert (sense.format, sense.response_code, sense.current) == ("fixed", 0x70, True)
    assert (sense.key, sense.asc, sense.ascq) == (3, 0x11, 0x00)
    assert sense.information == 0x1234
    assert sense.key_name == "MEDIUM ERROR"
    assert sense.asc_name == "UNRECOVERED READ ERROR"
    assert sense.triple == "3/11/00"


def test_fixed_information_needs_the_valid_bit() -> None:
    raw = bytearray(fixed(3, 0x11, 0, information=0x1234))
    raw[0] &= 0x7F
    assert decode_sense(bytes(raw)).information is None


def test_fixed_deferred_flags_and_command_specific() -> None:
    raw = bytearray(fixed(0x8, 0x00, 0x05, deferred=True, flags=0x80 | 0x40 | 0x20))
    raw[8:12] = (0xDEADBEEF).to_bytes(4, "big")
    sense = decode_sense(bytes(raw))
    assert sense.deferred and not sense.current
    assert (sense.filemark, sense.eom, sense.ili) == (True, True, True)
    assert sense.command_specific == 0xDEADBEEF
    assert sense.key_name == "BLANK CHECK"


def test_fixed_honours_additional_length() -> None:
    raw = bytearray(fixed(5, 0x24, 0))
    raw[7] = 6  # through ASCQ only: the sense-key specific bytes are not part of it
    raw[15:18] = sks_bytes(3, flags=0x40)
    assert decode_sense(bytes(raw)).sense_key_specific is None
    raw[7] = 5
    with pytest.raises(ParseError, match="fixed-format sense too short: 13 usable bytes"):
        decode_sense(bytes(raw))


@pytest.mark.parametrize("length", [1, 7, 8, 13])
def test_short_fixed_is_a_parse_error(length: int) -> None:
    with pytest.raises(ParseError, match="too short"):
        decode_sense(fixed(5, 0x20, 0)[:length])


@pytest.mark.parametrize("first", [0x00, 0x12, 0x6F, 0x74, 0x7F, 0xFF])
def test_other_response_codes_are_rejected(first: int) -> None:
    with pytest.raises(ParseError, match=f"response code {first & 0x7F:02X}h"):
        decode_sense(bytes([first]) + bytes(17))


def test_empty_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="no sense data"):
        decode_sense(b"")


# --- sense-key specific field: the same three bytes mean different things by key ---


@pytest.mark.parametrize(
    ("key", "flags", "expected"),
    [
        (0x5, 0x40 | 0x08 | 0x3, FieldPointer(in_cdb=True, byte=0x0102, bit=3)),
        (0x5, 0x00, FieldPointer(in_cdb=False, byte=0x0102, bit=None)),
        (0x2, 0x00, Progress(0x0102 / 65536)),
        (0x0, 0x00, Progress(0x0102 / 65536)),
        (0x1, 0x00, RetryCount(0x0102)),
        (0x3, 0x00, RetryCount(0x0102)),
        (0x4, 0x00, RetryCount(0x0102)),
        (0xA, 0x20 | 0x08 | 0x7, SegmentPointer(in_segment=True, byte=0x0102, bit=7)),
        (0x6, 0x01, QueueOverflow(True)),
        (0x7, 0x00, None),
    ],
)
def test_sense_key_specific_by_key(key: int, flags: int, expected: object) -> None:
    sks = sks_bytes(0x0102, flags=flags)
    assert decode_sense(fixed(key, 0, 0, sks=sks)).sense_key_specific == expected
    assert decode_sense(descriptor(key, 0, 0, sks=sks)).sense_key_specific == expected


def test_sksv_clear_means_no_sense_key_specific() -> None:
    assert decode_sense(fixed(2, 4, 7, sks=b"\x00\x80\x00")).sense_key_specific is None


def test_progress_is_a_fraction() -> None:
    sense = decode_sense(descriptor(2, 0x04, 0x07, sks=sks_bytes(0x8000)))
    assert sense.progress == 0.5
    assert sense.sense_key_specific.describe() == "operation 50.0% done"
    assert decode_sense(fixed(5, 0x24, 0, sks=sks_bytes(1))).progress is None


# --- descriptor format ---


def test_descriptor_information_and_types() -> None:
    raw = descriptor(3, 0x11, 0x05, deferred=True, information=1 << 40, sks=sks_bytes(9))
    sense = decode_sense(raw)
    assert (sense.format, sense.response_code, sense.deferred) == ("descriptor", 0x73, True)
    assert (sense.key, sense.asc, sense.ascq) == (3, 0x11, 0x05)
    assert sense.information == 1 << 40
    assert sense.sense_key_specific == RetryCount(9)
    assert sense.descriptor_types == (0x00, 0x02)


def test_descriptor_information_without_valid_is_ignored() -> None:
    raw = bytearray(descriptor(3, 0x11, 0, information=0x1234))
    raw[10] = 0x00  # VALID bit of the information descriptor
    assert decode_sense(bytes(raw)).information is None


def test_descriptor_stream_and_block_flags() -> None:
    sense = decode_sense(descriptor(0, 0, 1, stream_flags=0x80 | 0x20))
    assert (sense.filemark, sense.eom, sense.ili) == (True, False, True)
    block = bytes([0x72, 5, 0x24, 0, 0, 0, 0, 4, 0x05, 0x02, 0x00, 0x20])
    assert decode_sense(block).ili


def test_descriptor_truncated_by_the_host_keeps_whole_descriptors() -> None:
    raw = descriptor(2, 4, 7, sks=sks_bytes(0x4000), information=7)
    cut = raw[:-3]  # the SKS descriptor (last) loses its tail
    sense = decode_sense(cut)
    assert sense.information == 7
    assert sense.sense_key_specific is None
    assert sense.descriptor_types == (0x00,)


def test_descriptor_header_must_be_whole() -> None:
    with pytest.raises(ParseError, match="descriptor-format sense too short: 7 bytes"):
        decode_sense(bytes([0x72, 5, 0x20, 0, 0, 0, 0]))


# --- names ---


def test_sixteen_distinct_key_names() -> None:
    assert len(KEY_NAMES) == 16 == len(set(KEY_NAMES))
    for key in range(16):
        assert decode_sense(fixed(key, 0, 0)).key_name == KEY_NAMES[key]
    assert KEY_NAMES[5] == "ILLEGAL REQUEST" and KEY_NAMES[6] == "UNIT ATTENTION"


@pytest.mark.parametrize(("triple", "name"), PROTOCOLS_TABLE.items())
def test_names_of_the_flashing_table(triple: tuple[int, int, int], name: str) -> None:
    assert asc_name(triple[1], triple[2]) == name


def test_patterned_vendor_and_reserved_names() -> None:
    assert asc_name(0x40, 0x85) == "DIAGNOSTIC FAILURE ON COMPONENT 85h"
    assert asc_name(0x40, 0x12) == "RAM FAILURE 12h"
    assert asc_name(0x40, 0x00) == "RAM FAILURE (SHOULD USE 40 NN)"
    assert asc_name(0x4D, 0x07) == "TAGGED OVERLAPPED COMMANDS 07h"
    assert asc_name(0x5D, 0xFF) == "FAILURE PREDICTION THRESHOLD EXCEEDED (FALSE)"
    assert asc_name(0x85, 0x12) == "VENDOR SPECIFIC (ASC 85h, ASCQ 12h)"
    assert asc_name(0x44, 0x92) == "VENDOR SPECIFIC QUALIFIER 92h OF ASC 44h"
    assert asc_name(0x44, 0x72) == "UNKNOWN (RESERVED) ASC 44h, ASCQ 72h"
    assert not is_known(0x44, 0x72) and is_known(0x40, 0x85) and not is_known(0x85, 0x12)


def test_every_pair_has_a_name_and_the_table_is_full() -> None:
    named = 0
    for asc in range(256):
        for ascq in range(256):
            name = asc_name(asc, ascq)
            assert name and name == name.strip()
            named += is_known(asc, ascq)
    assert named > 1500  # several hundred exact pairs plus the 40h/41h/42h/4Dh/70h ranges


def test_every_name_in_the_data_file_is_found_by_its_pair() -> None:
    """Names are looked up by the file's own "AA/QQ" keys: a key written another way
    (lower case, no leading zero) would be a name no pair ever finds."""
    raw = json.loads((Path(rescue.__file__).parent / "data" / "asc_ascq.json").read_text())
    lost = [
        key
        for key, name in raw["names"].items()
        if asc_name(*(int(part, 16) for part in key.split("/"))) != name
    ]
    assert len(raw["names"]) > 700 and lost == []


def test_asc_name_rejects_non_bytes() -> None:
    with pytest.raises(ValueError):
        asc_name(0x100, 0)


def test_decodes_what_the_emulator_builds() -> None:
    """The emulator's sense builder is a second implementation of the same layout."""
    triples = [v for v in vars(emulated).values() if isinstance(v, emulated.Sense)]
    assert len(triples) >= 10
    for triple in triples:
        for info in (None, 0x12345678):
            sense = decode_sense(emulated.fixed_sense(triple, info))
            assert (sense.key, sense.asc, sense.ascq, sense.information) == (*triple, info)
            assert sense.triple == str(triple)
            assert is_known(sense.asc, sense.ascq)
            if sense.key:  # anything but NO SENSE has advice beyond the per-key fallback
                assert advise(*triple) != advise(triple.key, 0xFF, 0xFF), str(triple)


# --- advice ---


@pytest.mark.parametrize("triple", PROTOCOLS_TABLE)
def test_flashing_table_has_specific_advice(triple: tuple[int, int, int]) -> None:
    advice = advise(*triple)
    assert advice != advise(triple[0], 0xFF, 0xFF)  # not the per-key fallback
    assert advice.meaning and advice.next_step


def test_advice_falls_back_from_triple_to_asc_to_key() -> None:
    assert advise(5, 0x20, 0).meaning == (
        "the drive's running firmware does not implement this command"
    )
    assert advise(3, 0x11, 0x05) == advise(3, 0x11, 0x00)  # any read-error qualifier
    assert advise(2, 0x3A, 0x02).next_step.startswith("close the tray")
    assert advise(4, 0x85, 0x00) == advise(4, 0xFE, 0x01)  # vendor ASC: per-key advice
    assert advise(6, 0x29, 0x04).meaning != advise(6, 0x3F, 0x01).meaning
    assert "expected after a successful update" in advise(6, 0x3F, 0x01).next_step


def test_every_key_has_advice() -> None:
    meanings = {advise(key, 0xFF, 0xFF).meaning for key in range(16)}
    assert len(meanings) == 16


# --- parse_triple ---


@pytest.mark.parametrize(
    "text",
    ["5/20/0", "5/20/00", "05/20/00", " 5 / 20 / 00 ", "05h/20h/00h", "0x05 0x20 0x00",
     "5 20 0", "0x5,0x20,0x0"],
)
def test_triple_forms(text: str) -> None:
    sense = parse_triple(text)
    assert (sense.format, sense.key, sense.asc, sense.ascq) == ("triple", 5, 0x20, 0)
    assert sense.response_code is None and sense.information is None


@pytest.mark.parametrize(
    "text",
    [
        "70 00 05 00 00 00 00 0a 00 00 00 00 20 00 00 00 00 00",
        "70,00,05,00,00,00,00,0a,00,00,00,00,20,00,00,00,00,00",
        "0x70 0x00 0x05 0x00 0x00 0x00 0x00 0x0a 0x00 0x00 0x00 0x00 0x20 0x00",
        "700005000000000a" "0000000020000000" "0000",
        "0x700005000000000a000000002000",
    ],
)
def test_raw_byte_forms(text: str) -> None:
    sense = parse_triple(text)
    assert (sense.format, sense.key, sense.asc, sense.ascq) == ("fixed", 5, 0x20, 0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "cannot read"),
        ("5/20", "expected KEY/ASC/ASCQ"),
        ("5/20/00/1", "expected KEY/ASC/ASCQ"),
        ("G/20/00", "sense key 'G' is not a hex byte"),
        ("10/20/00", "sense key 10h is out of range"),
        ("5/100/0", "ASC '100' is not a hex byte"),
        ("70 00", "cannot read"),
        ("700", "cannot read"),
        ("70 00 05 00 zz", "byte 4 'zz' is not a hex byte"),
        ("71 00 05 00 00", "too short"),
        ("1_0/20/00", "not a hex byte"),
    ],
)
def test_bad_text_is_a_parse_error(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_triple(text)


# --- SenseError ---


def test_sense_error_message_hint_and_exit_code() -> None:
    err = SenseError.from_sense(fixed(5, 0x20, 0), "TEST UNIT READY")
    assert err.message == (
        "TEST UNIT READY: 5/20/00 ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE — "
        "the drive's running firmware does not implement this command"
    )
    assert err.hint == advise(5, 0x20, 0).next_step
    assert err.triple == "5/20/00"
    assert err.exit_code == ExitCode.ILLEGAL_REQUEST
    assert isinstance(err, RescueError)
    report = err.to_dict()
    assert report["exit_code"] == 9 and report["command"] == "TEST UNIT READY"
    assert report["sense"]["asc_name"] == "INVALID COMMAND OPERATION CODE"


WORDS = (
    "TEST UNIT READY: 5/20/00 ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE — "
    "the drive's running firmware does not implement this command"
)


@pytest.mark.parametrize("first", ["message", "hint", "str", "repr", "to_dict", "args"])
def test_sense_error_words_are_the_same_whichever_is_read_first(first: str) -> None:
    """The words come when first read (issue 15): every way in gives the same text."""
    err = SenseError.from_sense(fixed(5, 0x20, 0), "TEST UNIT READY")
    assert err._message is None  # caught and judged by its triple only: nothing named yet
    read = {
        "message": lambda: err.message,
        "hint": lambda: err.hint,
        "str": lambda: str(err),
        "repr": lambda: repr(err),
        "to_dict": lambda: err.to_dict()["message"],
        "args": lambda: err.args,
    }
    read[first]()
    assert (err.message, err.hint) == (WORDS, advise(5, 0x20, 0).next_step)
    assert str(err) == WORDS and err.args == (WORDS,)
    assert repr(err) == f"SenseError({WORDS!r})"
    assert err.to_dict()["message"] == WORDS and err.to_dict()["hint"] == err.hint


def test_sense_error_words_changed_before_they_are_read() -> None:
    """A hint replaced before anything was read (the flash engine's new node) keeps the
    message's words, and a new message keeps the advice's hint."""
    err = SenseError.from_sense(fixed(5, 0x20, 0), "TEST UNIT READY")
    err.hint = "try again"
    assert (err.message, err.hint) == (WORDS, "try again")
    other = SenseError.from_sense(fixed(5, 0x20, 0), "TEST UNIT READY")
    other.message = "changed"
    assert (str(other), other.hint) == ("changed", advise(5, 0x20, 0).next_step)


def test_a_caught_sense_error_names_nothing() -> None:
    """Made and caught without being read, the error loads no T10 name table and no advice
    (a fresh interpreter: this one has both)."""
    code = (
        "import sys\n"
        "from rescue.scsi.sense import SenseError\n"
        "raw = bytes([0x70, 0, 5, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0])\n"
        "try:\n"
        "    raise SenseError.from_sense(raw, 'GET CONFIGURATION')\n"
        "except SenseError as err:\n"
        "    seen = err.triple\n"
        "print(seen, sorted(m for m in sys.modules if m.endswith(('asc_table', 'advice'))\n"
        "                   or m in ('json', 'pkgutil')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    assert done.stdout.split() == ["5/20/00", "[]"]


@pytest.mark.parametrize(
    ("key", "code"),
    [
        (0x2, ExitCode.NOT_READY),
        (0x3, ExitCode.MEDIUM_ERROR),
        (0x4, ExitCode.MEDIUM_ERROR),
        (0x5, ExitCode.ILLEGAL_REQUEST),
        (0x6, ExitCode.UNIT_ATTENTION),
        (0x0, ExitCode.TRANSPORT),
        (0xB, ExitCode.TRANSPORT),
    ],
)
def test_sense_error_exit_code_follows_the_key(key: int, code: ExitCode) -> None:
    assert SenseError.from_sense(descriptor(key, 0, 0), "READ(10)").exit_code == code


@pytest.mark.parametrize("raw", [b"", b"\x70\x00\x05", bytes(18), b"\x7f" * 40])
def test_undecodable_sense_is_still_a_sense_error(raw: bytes) -> None:
    err = SenseError.from_sense(raw, "WRITE BUFFER")
    assert err.sense is None and err.triple is None
    assert err.exit_code == ExitCode.TRANSPORT
    assert err.message.startswith("WRITE BUFFER: CHECK CONDITION with undecodable sense data")
    assert "\n" not in err.message
    assert (raw[:32].hex(" ") or "empty") in err.message
    assert err.hint
