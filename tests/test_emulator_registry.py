"""The registry: spec grammar, model names, clear refusals."""

from __future__ import annotations

import pytest

from rescue.emulator.base import VirtualClock, WallClock
from rescue.emulator.disc import MediaKind
from rescue.emulator.mmc import MmcDrive
from rescue.emulator.registry import MODELS, create


def test_models_listed() -> None:
    assert {"generic-cd", "generic-dvd"} <= set(MODELS)
    for info in MODELS.values():
        assert info.description and info.family and len(info.default_revision) == 4


def test_defaults() -> None:
    drive = create("generic-dvd")
    assert isinstance(drive, MmcDrive) and isinstance(drive.clock, VirtualClock)
    assert drive.disc is not None and drive.disc.kind is MediaKind.DVD
    assert drive.disc.sectors * 2048 == 16 * 1024 * 1024
    assert drive.identity.revision == MODELS["generic-dvd"].default_revision
    assert create("generic-cd").disc.kind is MediaKind.CD


def test_each_create_gets_its_own_clock_unless_given_one() -> None:
    assert create("generic-cd").clock is not create("generic-cd").clock
    wall = WallClock()
    assert create("generic-cd", clock=wall).clock is wall


def test_full_spec() -> None:
    drive = create(
        "generic-dvd,disc=pattern,media=cd,sectors=500,bad=10-19;40,slow=7:3,"
        "tray=open,rev=2.10,serial=S1,fault=busy@n1"
    )
    assert drive.tray_open and drive.identity.revision == "2.10" and drive.identity.serial == "S1"
    assert drive.disc.kind is MediaKind.CD and drive.disc.sectors == 500
    assert drive.disc.unreadable == [range(10, 20), range(40, 41)]
    assert drive.disc.slow == [(range(7, 8), 3.0)]
    assert len(drive.faults.faults) == 1


def test_empty_drive() -> None:
    assert create("generic-dvd,disc=none").disc is None


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ("nosuch", "generic-cd, generic-dvd"),
        ("generic-cd,color=red", "valid keys: disc"),
        ("generic-cd,state=/tmp/x", "unknown key 'state'"),
        ("generic-cd,tray", "not KEY=VALUE"),
        ("generic-cd,tray=sideways", "open"),
        ("generic-cd,media=dvd", "want one of cd"),
        ("generic-cd,rev=1,rev=2", "twice"),
        ("generic-cd,bad=5-1", "backwards"),
        ("generic-cd,bad=x", "FIRST-LAST"),
        ("generic-cd,bad=5:2", "no :SECONDS"),
        ("generic-cd,slow=5:fast", "seconds"),
        ("generic-cd,sectors=0", "positive"),
        ("generic-cd,disc=none,bad=5", "disc=none"),
        ("generic-cd,disc=/nonexistent/x.iso", "no such image"),
        ("generic-cd,disc=/dev/zero", "is a device node, not a disc image"),
        ("generic-cd,disc=/proc", "is a directory, not a disc image"),
        ("generic-cd,serial=" + "S" * 65, "at most 64 characters, got 65"),
        ("generic-cd,fault=boom@n1", "unknown action"),
    ],
)
def test_bad_specs(spec: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint.replace("(", r"\(")):
        create(spec)


def test_the_longest_serial_reaches_both_vpd_pages() -> None:
    """64 characters fit page 83h's one-byte designator length beside vendor and product."""
    drive = create("generic-dvd,serial=" + "S" * 64)
    assert drive.identity.serial == "S" * 64
    page80 = drive._vpd_serial()
    page83 = drive._vpd_identifiers()
    assert page80 == b"S" * 64 and page83[3] == len(page83) - 4 and page83.endswith(b"S" * 64)
