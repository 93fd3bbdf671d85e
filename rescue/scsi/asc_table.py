"""Names of additional sense codes: the T10 ASC/ASCQ assignments, as data.

The table itself lives in ``rescue/data/asc_ascq.json`` (facts from the T10
asc-num list as carried by sg3_utils' ``lib/sg_lib_data.c``; see the file's
``about``). Keeping it as data, not code, means a newer T10 list can be merged
without touching logic, and the emulator or a report can read the same file.

Besides named pairs, SPC defines rules that cover whole ranges, and a lookup
must honour them so that *every* pair gets an honest description:

* an ASC of 80h-FFh is vendor specific, whatever its qualifier;
* an ASCQ of 80h-FFh is vendor specific unless the list assigns it (40h/NNh
  "diagnostic failure on component NN" does, and so does 5Dh/FFh);
* a few ASCs carry a number in the qualifier (40h/NNh, 4Dh/NNh task tag,
  70h/NNh algorithm id): the data file lists these as patterns;
* anything else not listed is reserved.
"""

from __future__ import annotations

import json
from functools import cache

from rescue.record import record
from rescue.shipped import read_shipped

VENDOR_FIRST = 0x80


@record(frozen=True)
class _Pattern:
    asc: int
    first: int
    last: int
    template: str  # "NN" stands for the qualifier


@record(frozen=True)
class _Table:
    names: dict[str, str]  # the file's own keys, "AA/QQ" in upper-case hex
    patterns: tuple[_Pattern, ...]


def _key(asc: int, ascq: int) -> str:
    """The data file's key for a pair: looked up as written, so loading the table builds
    no key of its own for 761 names to find one (issue 15: a scan names one sense)."""
    return f"{asc:02X}/{ascq:02X}"


@cache
def _table() -> _Table:
    raw = json.loads(read_shipped("asc_ascq.json").decode("utf-8"))
    patterns = []
    for p in raw["patterns"]:
        first, last = p["ascq"].split("-")
        patterns.append(_Pattern(int(p["asc"], 16), int(first, 16), int(last, 16), p["name"]))
    return _Table(raw["names"], tuple(patterns))


def is_known(asc: int, ascq: int) -> bool:
    """True when the standard assigns this exact pair (by name or by pattern)."""
    table = _table()
    return _key(asc, ascq) in table.names or any(
        p.asc == asc and p.first <= ascq <= p.last for p in table.patterns
    )


def asc_name(asc: int, ascq: int) -> str:
    """The standard's name for an ASC/ASCQ pair; never fails for 0..255 inputs.

    Unassigned pairs get a description that says which rule applies
    (vendor specific or reserved) and repeats the numbers, so a user can
    still search for them.
    """
    if not (0 <= asc <= 0xFF and 0 <= ascq <= 0xFF):
        raise ValueError(f"ASC/ASCQ out of range: {asc}/{ascq}")
    table = _table()
    name = table.names.get(_key(asc, ascq))
    if name is not None:
        return name
    for p in table.patterns:
        if p.asc == asc and p.first <= ascq <= p.last:
            return p.template.replace("NN", f"{ascq:02X}h")
    if asc >= VENDOR_FIRST:
        return f"VENDOR SPECIFIC (ASC {asc:02X}h, ASCQ {ascq:02X}h)"
    if ascq >= VENDOR_FIRST:
        return f"VENDOR SPECIFIC QUALIFIER {ascq:02X}h OF ASC {asc:02X}h"
    return f"UNKNOWN (RESERVED) ASC {asc:02X}h, ASCQ {ascq:02X}h"
