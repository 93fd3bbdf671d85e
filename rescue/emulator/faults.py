"""Fault injection: make an emulated drive misbehave on a chosen command.

Repair work is mostly about what happens when a drive does *not* answer as
it should, so every model takes a list of fault rules and consults it before
each command. A rule is an action and a trigger, written ``ACTION@TRIGGER``;
several rules are joined with ``;`` and the first that matches wins.

Actions:
  ``hang``            never answer (the host times out)
  ``gone``            drop off the bus (this and every later command)
  ``busy``            status BUSY, no sense
  ``reset``           a power-on reset happens first: volatile state (e.g. a
                      download buffer) is lost and 6/29/00 is queued; the
                      command then runs and reports it unless it is INQUIRY
  ``delay:SECONDS``   run the command normally, but take SECONDS of model time
  ``sense:K/AA/QQ``   CHECK CONDITION with that sense triple (hex), e.g. 3/11/00

Triggers (commands are counted from 1 since the model was created):
  ``*``               every command
  ``nN`` / ``nA-B``   the Nth command of any kind / commands A to B
  ``OP``              every command with opcode OP (two hex digits, e.g. 3b)
  ``OP.N`` / ``OP.A-B``  the Nth / the Ath to Bth command with opcode OP

Examples: ``hang@3b.5`` (the fifth WRITE BUFFER hangs), ``busy@n1-3`` (busy
for the first three commands), ``sense:3/11/00@28;gone@n40``.

Object API: build ``Fault`` values directly and pass them to a model's
``faults`` list; ``parse_faults(text)`` is the string form above.
"""

from __future__ import annotations

from collections import Counter
from enum import StrEnum

from rescue.emulator.sense import Sense, parse_triple
from rescue.record import record


class Action(StrEnum):
    HANG = "hang"
    GONE = "gone"
    BUSY = "busy"
    RESET = "reset"
    DELAY = "delay"
    SENSE = "sense"


@record(frozen=True)
class Fault:
    """One rule. ``opcode`` None counts all commands; ``last`` None means forever."""

    action: Action
    opcode: int | None = None
    first: int = 1
    last: int | None = None
    seconds: float = 0.0
    sense: Sense | None = None

    def matches(self, opcode: int, count: int) -> bool:
        if self.opcode is not None and self.opcode != opcode:
            return False
        return self.first <= count and (self.last is None or count <= self.last)


class FaultPlan:
    """The rules of one model plus the counters their triggers need."""

    def __init__(self, faults: list[Fault] | None = None) -> None:
        self.faults = list(faults or [])
        self._total = 0
        self._per_opcode: Counter[int] = Counter()

    def next_command(self, opcode: int) -> Fault | None:
        """Count one command and return the first rule that fires for it, if any."""
        self._total += 1
        self._per_opcode[opcode] += 1
        for fault in self.faults:
            count = self._total if fault.opcode is None else self._per_opcode[opcode]
            if fault.matches(opcode, count):
                return fault
        return None


def parse_faults(text: str) -> list[Fault]:
    """Rules joined by ``;`` (see the module docstring); ValueError with the reason."""
    return [_parse_rule(rule) for rule in text.split(";") if rule]


def _parse_rule(rule: str) -> Fault:
    action_text, sep, trigger = rule.partition("@")
    if not sep or not trigger:
        raise ValueError(f"fault {rule!r}: want ACTION@TRIGGER, e.g. hang@3b.5")
    name, _, arg = action_text.partition(":")
    try:
        action = Action(name)
    except ValueError:
        valid = ", ".join(a.value for a in Action)
        raise ValueError(f"fault {rule!r}: unknown action {name!r} (valid: {valid})") from None
    seconds = 0.0
    sense = None
    if action is Action.DELAY:
        seconds = _seconds(arg, rule)
    elif action is Action.SENSE:
        sense = parse_triple(arg)
    elif arg:
        raise ValueError(f"fault {rule!r}: action {name} takes no argument")
    opcode, first, last = _parse_trigger(trigger, rule)
    return Fault(action, opcode, first, last, seconds, sense)


def _parse_trigger(trigger: str, rule: str) -> tuple[int | None, int, int | None]:
    if trigger == "*":
        return None, 1, None
    if trigger.startswith("n"):
        first, last = _count_range(trigger[1:], rule)
        return None, first, last
    op_text, dot, counts = trigger.partition(".")
    if len(op_text) != 2:
        raise ValueError(f"fault {rule!r}: trigger wants *, nN, nA-B, OP, OP.N or OP.A-B")
    try:
        opcode = int(op_text, 16)
    except ValueError:
        raise ValueError(f"fault {rule!r}: opcode {op_text!r} is not two hex digits") from None
    if not dot:
        return opcode, 1, None
    first, last = _count_range(counts, rule)
    return opcode, first, last


def _count_range(text: str, rule: str) -> tuple[int, int]:
    low, dash, high = text.partition("-")
    if not low.isdigit() or (dash and not high.isdigit()):
        raise ValueError(f"fault {rule!r}: command count {text!r} wants N or A-B (decimal)")
    first = int(low)
    last = int(high) if dash else first
    if first < 1 or last < first:
        raise ValueError(f"fault {rule!r}: command counts start at 1 and run upwards")
    return first, last


def _seconds(text: str, rule: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"fault {rule!r}: {text!r} is not a number") from None
    if not 0 <= value < float("inf"):
        raise ValueError(f"fault {rule!r}: {text!r} must be a finite number of seconds, 0 or more")
    return value
