"""The FunctionFS bulk-only gadget's rules, without a kernel: descriptors, the bridge's answers.

The gadget itself runs in the guest (tests/guest/test_usb_bot.py); here the
pieces that need no USB stack: the descriptor blob FunctionFS takes, and
what the bridge answers before and instead of the drive.
"""

from __future__ import annotations

import os
import struct
import threading

import pytest

from rescue.emulator.usb_bot import (
    BOT_RESET,
    CSW_SIGNATURE,
    STATUS_FAILED,
    STATUS_PASSED,
    BotGadget,
    _Abandoned,
    _reset_rule,
    descriptors,
    strings,
)
from rescue.emulator.usb_bridge import GADGET_REFUSES

INQUIRY = bytes([0x12, 0, 0, 0, 36, 0])
REQUEST_SENSE = bytes([0x03, 0, 0, 0, 18, 0])
WRITE_BUFFER = bytes([0x3B, 0x02]) + bytes(8)


def test_descriptors_are_functionfs_v2_with_a_bulk_only_interface():
    blob = descriptors()
    magic, length, flags, fs_count, hs_count = struct.unpack_from("<IIIII", blob)
    assert (magic, length, flags, fs_count, hs_count) == (3, len(blob), 3, 3, 3)
    interface = blob[20:29]
    assert interface[5:8] == bytes([0x08, 0x06, 0x50]), "mass storage, SCSI, bulk-only"
    endpoints = [blob[29:36], blob[36:43]]
    assert [(e[2], e[3]) for e in endpoints] == [(0x81, 2), (0x02, 2)]
    assert struct.unpack_from("<IIII", strings("x"))[0] == 2


def test_the_model_answers_and_sense_waits_for_request_sense():
    gadget = BotGadget("btc-drw1004im,disc=none")
    status, data = gadget._run(INQUIRY, None, 36)
    assert status == STATUS_PASSED and data[8:11] == b"BTC"
    status, _ = gadget._run(bytes(6), None, 0)  # TEST UNIT READY: power-on attention first
    assert status == STATUS_FAILED
    status, sense = gadget._run(REQUEST_SENSE, None, 18)
    assert status == STATUS_PASSED and (sense[2] & 0xF, sense[12]) == (0x6, 0x29)


def test_the_bridge_refuses_vendor_opcodes_and_over_cap_transfers_itself():
    gadget = BotGadget("btc-drw1004im,disc=none", refuse=GADGET_REFUSES, max_transfer=0x8000)
    assert gadget._run(WRITE_BUFFER, None, 0)[0] == STATUS_FAILED
    sense = gadget._run(REQUEST_SENSE, None, 18)[1]
    assert (sense[2], sense[12], sense[13]) == (0x5, 0x20, 0x00)
    assert gadget.stats["refused"] == [0x3B]
    read = bytes([0x28, 0, 0, 0, 0, 0, 0, 0, 32, 0])
    assert gadget._run(read, None, 32 * 2048)[0] == STATUS_FAILED
    sense = gadget._run(REQUEST_SENSE, None, 18)[1]
    assert (sense[2], sense[12]) == (0x5, 0x24) and gadget.stats["over_cap"] == 1


def test_one_command_through_the_wrappers():
    gadget = BotGadget("btc-drw1004im,disc=none")
    r_in, w_in = os.pipe()
    gadget._in = w_in
    cbw = struct.pack("<IIIBBB", 0x43425355, 7, 36, 0x80, 0, 6) + INQUIRY + bytes(10)
    gadget._command(cbw)
    os.close(w_in)
    out = os.read(r_in, 4096)
    os.close(r_in)
    assert out[8:11] == b"BTC" and len(out) == 36 + 13
    assert struct.unpack("<IIIB", out[36:]) == (CSW_SIGNATURE, 7, 0, STATUS_PASSED)


def test_reset_rules():
    assert _reset_rule("3b:07") == (0x3B, 7)
    assert _reset_rule("ff") == (0xFF, None)
    assert _reset_rule(None) is None


def cbw(tag: int, length: int, flags: int, cdb: bytes) -> bytes:
    return struct.pack("<IIIBBB", 0x43425355, tag, length, flags, 0, len(cdb)) + cdb.ljust(
        16, b"\0"
    )


def test_a_hung_command_is_dropped_when_the_host_resets_the_bridge():
    """No data and no CSW for it: after the BOT reset the host expects the next CBW."""
    gadget = BotGadget("btc-drw1004im,disc=none,fault=hang@12.1")
    r_in, w_in = os.pipe()
    gadget._in = w_in
    reset = struct.pack("<BBHHH", 0x21, BOT_RESET, 0, 0, 0)
    gadget._ep0 = os.open(os.devnull, os.O_RDWR)  # the status stage's zero-length read
    timer = threading.Timer(0.3, gadget._setup, (reset,))
    timer.start()
    with pytest.raises(_Abandoned):
        gadget._command(cbw(1, 36, 0x80, INQUIRY))
    timer.join()
    gadget._command(cbw(2, 36, 0x80, INQUIRY))  # the next command is served
    os.close(w_in)
    out = os.read(r_in, 4096)
    os.close(r_in)
    os.close(gadget._ep0)
    assert len(out) == 36 + 13 and struct.unpack("<IIIB", out[36:])[1] == 2
    assert (gadget.stats["abandoned"], gadget.stats["bot_resets"]) == (1, 1)


def test_the_gadget_logs_the_largest_transfer_per_opcode():
    gadget = BotGadget("btc-drw1004im,disc=none")
    gadget._count(bytes([0x28]), 0x4000)
    gadget._count(bytes([0x28]), 0x800)
    gadget._count(INQUIRY, 36)
    assert gadget.stats["largest_by_opcode"] == {"28": 0x4000, "12": 36}
    assert (gadget.stats["largest"], gadget.stats["commands"]) == (0x4000, 3)
