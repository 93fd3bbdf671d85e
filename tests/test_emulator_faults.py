"""Fault rules: the grammar, and what a model does when one fires."""

from __future__ import annotations

import pytest

from rescue.emulator.base import BUSY, CHECK_CONDITION, GOOD
from rescue.emulator.faults import Action, Fault, FaultPlan, parse_faults
from rescue.emulator.registry import create
from rescue.emulator.sense import Sense
from rescue.errors import CommandTimeout, DeviceNotFound
from rescue.transport.emulated import EmulatedTransport

TUR = bytes(6)
INQUIRY = bytes([0x12, 0, 0, 0, 36, 0])


def test_parse_rules() -> None:
    rules = parse_faults("hang@3b.5;busy@n1-3;sense:3/11/00@28;delay:1.5@*;gone@n40;reset@3b")
    assert rules == [
        Fault(Action.HANG, 0x3B, 5, 5),
        Fault(Action.BUSY, None, 1, 3),
        Fault(Action.SENSE, 0x28, 1, None, sense=Sense(3, 0x11, 0)),
        Fault(Action.DELAY, None, 1, None, seconds=1.5),
        Fault(Action.GONE, None, 40, 40),
        Fault(Action.RESET, 0x3B, 1, None),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "hang",
        "explode@n1",
        "hang@n0",
        "hang@n3-1",
        "hang@zz",
        "hang@3b.x",
        "delay:-1@*",
        "delay:nan@*",
        "sense:9/999/0@28",
        "sense:3/11@28",
        "hang:2@n1",
        "hang@123",
    ],
)
def test_bad_rules_are_value_errors(text: str) -> None:
    with pytest.raises(ValueError, match="fault|sense"):
        parse_faults(text)


def test_counters_per_opcode_and_total() -> None:
    plan = FaultPlan(parse_faults("hang@3b.2;busy@n4"))
    fired = [plan.next_command(op) for op in (0x3B, 0x00, 0x3B, 0x00, 0x3B)]
    assert [f.action if f else None for f in fired] == [None, None, Action.HANG, Action.BUSY, None]


def test_first_matching_rule_wins() -> None:
    plan = FaultPlan(parse_faults("busy@n1;hang@*"))
    assert plan.next_command(0).action is Action.BUSY
    assert plan.next_command(0).action is Action.HANG


def test_busy_then_ready() -> None:
    drive = create("generic-cd,fault=busy@n1-2")
    assert [drive.submit(INQUIRY, None, 36).status for _ in range(3)] == [BUSY, BUSY, GOOD]


def test_sense_fault_on_an_opcode() -> None:
    drive = create("generic-cd,fault=sense:4/44/00@12.2")
    assert drive.submit(INQUIRY, None, 36).status == GOOD
    reply = drive.submit(INQUIRY, None, 36)
    assert reply.status == CHECK_CONDITION and reply.sense[2] == 4 and reply.sense[12] == 0x44


def test_hang_and_gone_through_the_transport() -> None:
    t = EmulatedTransport(create("generic-cd,fault=hang@12.1;gone@n3"), "emu:x")
    with pytest.raises(CommandTimeout):
        t.execute(INQUIRY, data_in=36, timeout=5)
    assert t.now() == 5  # the timeout was spent in model time
    t.execute(INQUIRY, data_in=36)
    with pytest.raises(DeviceNotFound):
        t.execute(INQUIRY, data_in=36)


def test_gone_stays_gone_for_a_direct_caller() -> None:
    drive = create("generic-cd,fault=gone@n1")
    assert drive.submit(INQUIRY, None, 36).gone
    assert drive.submit(INQUIRY, None, 36).gone


def test_delay_runs_the_command_and_adds_time() -> None:
    t = EmulatedTransport(create("generic-cd,fault=delay:12@12"), "emu:x")
    result = t.execute(INQUIRY, data_in=36)
    assert result.ok and result.data[8:14] == b"RESCUE" and result.duration == 12


def test_reset_queues_power_on_attention() -> None:
    drive = create("generic-cd,fault=reset@n3")
    assert drive.submit(TUR, None, 0).sense[12] == 0x29  # power-on UA consumed
    assert drive.submit(TUR, None, 0).status == GOOD
    reply = drive.submit(TUR, None, 0)
    assert reply.status == CHECK_CONDITION and reply.sense[12] == 0x29
    assert drive.submit(TUR, None, 0).status == GOOD
