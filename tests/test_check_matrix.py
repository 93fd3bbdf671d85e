"""Every check a real peer flasher makes, `rescue flash` makes too (docs/check-matrix.md, issue 14).

Each ``row_*`` function below is one row (or a group of rows) of the check
matrix that no family test already pinned: it builds an emulated drive
(``emu:`` specs), runs ``rescue.cli.main(["flash", ...])`` with a journal and
asserts what the peer guarantees, usually "refused, and no write-class
command reached the drive". The peer's file and line are in each docstring
and in the matrix.

``MUTANTS`` names, for every row here and for the rows that point at older
tests, the check removed (a monkeypatch of the function that makes it).
``test_row_fails_without_its_check`` runs each row with its check removed and
requires the row's assertion to fail, so a row cannot silently stop testing
its check. The rows that point at tests in other files were checked the same
way once, with ``RESCUE_CHECK_MUTANT=NAME pytest -p test_check_matrix TESTS`` (see
``pytest_configure`` at the end); docs/check-matrix.md records the outcome.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.emulator import images

WRITE_BUFFER = 0x3B
VENDOR_OPCODES = range(0xC0, 0x100)
CONFIG_AT = 0x3000


# --- running a flash and reading what reached the drive ------------------------------------------


def flash(spec: str, tmp: Path, image: bytes, *extra: str, yes: bool = True) -> tuple[int, list]:
    """`rescue flash emu:SPEC IMAGE --no-backup [--yes] EXTRA...`: (exit code, CDBs sent)."""
    path = tmp / "fw.bin"
    path.write_bytes(image)
    journal = tmp / "journal.jsonl"
    stateful = not spec.startswith(("generic-cd", "generic-dvd"))  # those keep no flash
    device = f"emu:{spec}" + (f",state={tmp / 'drive.state'}" if stateful else "")
    argv = ["flash", device, str(path), "--no-backup", "--journal", str(journal)]
    code = main([*argv, *(["--yes"] if yes else []), "--reports", str(tmp / "reports"), *extra])
    lines = journal.read_text().splitlines() if journal.exists() else []
    return code, [bytes.fromhex(json.loads(line)["cdb"]) for line in lines if line.strip()]


def is_write(cdb: bytes) -> bool:
    """Write-class as tests/peer_streams.py counts it: WRITE BUFFER or a vendor opcode."""
    return cdb[0] == WRITE_BUFFER or cdb[0] in VENDOR_OPCODES


def writes(cdbs: list[bytes]) -> list[bytes]:
    return [cdb for cdb in cdbs if is_write(cdb)]


def image_of(family: str, revision: str, **options: str) -> bytes:
    if family == "btc":
        return images.make_btc_image(revision)
    return images.OTHER_MAKERS[family][0](revision, **options)


def neighbour_mt1959_image() -> bytes:
    """The BW-16D1HT's image with the BU40N's configuration id: redumper's BU40N row."""
    data = bytearray(image_of("mt1959", "3.10"))
    data[CONFIG_AT : CONFIG_AT + 16] = b"MT1959 Boot BU5 "
    return bytes(data)


# --- the rows ----------------------------------------------------------------------------------

#: (spec, image, fault rule, how many write-class commands go out before the failing one stops it)
FAILING_WRITE = {
    # btcflash.cpp 255-259: a failed chunk returns at once; the commit (3B 07) is never sent.
    "btc": ("btc-drw1004im,rev=0043,disc=none", ("btc", "0050"), "sense:4/44/00@3b.7", 7),
    # sg_write_buffer.c 537-538 breaks out of the chunk loop, 540-554 then still sends the
    # ACTIVATE (3B 0F); rescue sends nothing after the failed chunk (stricter).
    "spc": ("generic-spc,disc=none", ("spc", "1.01"), "sense:4/44/00@3b.2", 2),
    # DVRFlash.cpp 1537-1545: a failed Normal chunk exits; the save (3B 05 FF) is never sent.
    "pioneer": ("pioneer-dvr108,rev=1.16,disc=none", ("pioneer", "1.17"), "sense:4/44/00@3b.3", 3),
    # DVRFlash 2.2b 1409-1423 retries a refused key block with the universal key; 2.1 (2c25e9c,
    # 1339-1345) and rescue stop: no write-class command is sent twice.
    "pioneer-key": (
        "pioneer-dvr108,rev=1.16,disc=none",
        ("pioneer", "1.17"),
        "sense:5/26/00@3b.1",
        1,
    ),
    # flash_mt1959.ixx 56-57 and 66-67: throw_line on the first failed WRITE BUFFER.
    "mt1959": ("asus-bw16d1ht,disc=none", ("mt1959", "3.10"), "sense:4/44/00@3b.3", 3),
    # flash_tsst.ixx 40-42: throw_line on the first failed FF command.
    "tsst": ("tsst-shd163c,disc=none", ("tsst", "SB02"), "sense:4/44/00@ff.2", 2),
    # flash_plextor.ixx 57-59 and pxfw.cpp 639-643: the loop ends at the failed chunk.
    "plextor": ("plextor-px716a,rev=1.10,disc=none", ("plextor", "1.11"), "sense:4/44/00@3b.2", 2),
}
NEEDS_FORCE_IDENTITY = {"spc", "mt1959", "tsst"}  # their files name no drive (see the matrix)


def row_failed_write_stops(tmp: Path, name: str) -> None:
    """Every peer stops at the first write-class command that fails; nothing follows it."""
    spec, (family, revision), fault, count = FAILING_WRITE[name]
    force = ("--force", "identity") if name in NEEDS_FORCE_IDENTITY else ()
    code, cdbs = flash(f"{spec},fault={fault}", tmp, image_of(family, revision), *force)
    assert code != 0
    assert len(writes(cdbs)) == count, [c.hex() for c in writes(cdbs)]


def row_no_confirmation_no_write(tmp: Path) -> None:
    """btcflash.cpp 234-240 (typed YES), DVRFlash.cpp 1341-1358 (y/n): no answer, no write.

    Under pytest stdin is not a terminal, so without --yes nobody can answer.
    """
    code, cdbs = flash("btc-drw1004im,rev=0043,disc=none", tmp, image_of("btc", "0050"), yes=False)
    assert code != 0
    assert not writes(cdbs)


def row_pioneer_disc_in_drive(tmp: Path) -> None:
    """DVRFlash.cpp 1318-1339: TEST UNIT READY must answer 2/3A/xx, else eject and stop."""
    code, cdbs = flash("pioneer-dvr108,rev=1.16", tmp, image_of("pioneer", "1.17"))
    assert code != 0
    assert not writes(cdbs)


#: Image-to-drive checks no --force lifts (issue 14 item 3), as (spec, image maker, peer).
OTHER_MODEL = {
    # DVRFlash.cpp 1175-1201 ("Firmware and Drive type mismatch", only -ff passes) and
    # 1272-1294 (XL on a standard DVR-108; 2.1 2c25e9c 1216-1236 with no override at all).
    "pioneer-xl": (
        "pioneer-dvr108,rev=1.16,disc=none",
        lambda: image_of("pioneer", "1.17", kernel_type="PIO_ADV"),
    ),
    # DVRFlash.cpp 1296-1316 ("Hardware and Firmware really don't match"; 2.1: 1240-1248,
    # no override).
    "pioneer-generation": (
        "pioneer-dvr108,rev=1.16,disc=none",
        lambda: image_of("pioneer", "1.17", generation="0007"),
    ),
    # pxfw.cpp 582-586: "FW is not for selected dev!", even with -f (a PX-716AL image: the
    # same size and sum offset as the PX-716A's, so only the model rule tells them apart).
    "plextor-model": (
        "plextor-px716a,rev=1.10,disc=none",
        lambda: image_of("plextor", "1.11", product="DVDR   PX-716AL"),
    ),
    # flash_mt1959.ixx 133-141: the table's configuration id, before any command.
    "mt1959-neighbour": ("asus-bw16d1ht,disc=none", neighbour_mt1959_image),
}


def row_other_model_refused_even_forced(tmp: Path, name: str) -> None:
    """An image the peer knows is another model's: refused with --force identity, nothing sent."""
    spec, make = OTHER_MODEL[name]
    code, cdbs = flash(spec, tmp, make(), "--force", "identity")
    assert code != 0
    assert not writes(cdbs), [c.hex() for c in cdbs]
    if name == "mt1959-neighbour":  # redumper refuses from its table before any command
        assert not [c for c in cdbs if c[0] == 0x3C], [c.hex() for c in cdbs]


def row_plextor_bad_sum(tmp: Path) -> None:
    """pxfw.cpp 568-580 and 595-604: a wrong sum stops pxfw unless -f; rescue has no override."""
    data = bytearray(image_of("plextor", "1.11"))
    data[0x1234] ^= 0xFF
    code, cdbs = flash("plextor-px716a,rev=1.10,disc=none", tmp, bytes(data), "--force", "identity")
    assert code != 0
    assert not writes(cdbs)


def row_mt1959_config_read_fails(tmp: Path) -> None:
    """flash_mt1959.ixx 103-104: READ BUFFER of the drive's block fails -> stop before any write."""
    spec = "asus-bw16d1ht,disc=none,fault=sense:5/24/00@3c"
    code, cdbs = flash(spec, tmp, image_of("mt1959", "3.10"), "--force", "identity")
    assert code != 0
    assert not writes(cdbs)


#: redumper's drive tables (flash_tsst.ixx 55-56, flash_plextor.ixx 77-84, flash_mt1959.ixx
#: 135-138) and pxfw.cpp 413-420: a drive outside the table is not flashed (redumper's
#: --force-flash is rescue's explicit --family NAME, whose risk the confirmation states).
OUTSIDE_TABLE = {
    "tsst": ("tsst", "SB02"),
    "plextor": ("plextor", "1.11"),
    "mt1959": ("mt1959", "3.10"),
}


def row_drive_outside_the_table(tmp: Path, name: str) -> None:
    """A drive no table row names (the emulator's generic DVD-ROM) gets no vendor protocol."""
    code, cdbs = flash(
        "generic-dvd,disc=none", tmp, image_of(*OUTSIDE_TABLE[name]), "--force", "identity"
    )
    assert code != 0
    assert not writes(cdbs)


def row_pioneer_still_in_kernel_mode_is_a_failure(tmp: Path) -> None:
    """DVRFlash.cpp 1612-1620: revision "0000" after the save is "still in Kernel mode"
    (DVRFlash prints it and exits 0); rescue counts it as recovery and fails the verify."""
    from types import SimpleNamespace

    from rescue.families import family_named

    family = family_named("pioneer")
    drive = {"vendor": "PIONEER", "product": "DVD-RW  DVR-108"}
    assert family.in_recovery(SimpleNamespace(**drive, revision="0000"))
    assert not family.in_recovery(SimpleNamespace(**drive, revision="1.17"))


def row_pioneer_short_inquiry(tmp: Path) -> None:
    """DVRFlash.cpp 1004-1032 and 1439-1446 (sgio.cpp 456-461 return a residue as failure): an
    INQUIRY shorter than 0x60 bytes stops DVRFlash, before the key block and after it."""
    from dataclasses import dataclass

    from test_flash_pioneer import Answer, PioneerStub, part

    from rescue.errors import Refused
    from rescue.families import family_named
    from rescue.families.pioneer import check_kernel_mode

    @dataclass
    class ShortInquiry(PioneerStub):
        def command(self, cdb: bytes, *, data_in: int = 0, **more: object) -> Answer:
            answer = super().command(cdb, data_in=data_in, **more)
            return Answer(answer.data[:0x50]) if cdb[0] == 0x12 else answer

    drive = ShortInquiry()
    with pytest.raises(Refused, match="INQUIRY bytes"):
        family_named("pioneer").prepare(drive, part())  # type: ignore[arg-type]
    assert not [cdb for cdb in drive.asked if is_write(cdb)]
    kernel = bytearray(0x60)
    kernel[32:36] = b"0000"
    check_kernel_mode(bytes(kernel))
    with pytest.raises(Refused, match="INQUIRY"):
        check_kernel_mode(bytes(kernel[:0x50]))


ROWS: dict[str, Callable[[Path], None]] = {
    **{f"failed-write-{n}": (lambda t, n=n: row_failed_write_stops(t, n)) for n in FAILING_WRITE},
    "no-confirmation": row_no_confirmation_no_write,
    "pioneer-disc": row_pioneer_disc_in_drive,
    **{
        f"other-model-{n}": (lambda t, n=n: row_other_model_refused_even_forced(t, n))
        for n in OTHER_MODEL
    },
    "plextor-bad-sum": row_plextor_bad_sum,
    "mt1959-config-read-fails": row_mt1959_config_read_fails,
    **{
        f"outside-table-{n}": (lambda t, n=n: row_drive_outside_the_table(t, n))
        for n in OUTSIDE_TABLE
    },
    "pioneer-still-kernel": row_pioneer_still_in_kernel_mode_is_a_failure,
    "pioneer-short-inquiry": row_pioneer_short_inquiry,
}


@pytest.mark.parametrize("row", ROWS)
def test_row(row: str, tmp_path: Path) -> None:
    ROWS[row](tmp_path)


# --- the same rows with their check removed ------------------------------------------------------


def _no_stop_on_failure(mp: pytest.MonkeyPatch) -> None:
    engine = importlib.import_module("rescue.engine.flash")  # the package's flash() shadows it
    from rescue.families import base

    original = base.run_steps

    def run_every_step(drive, steps, on_step=None):  # noqa: ANN001, ANN202
        for step in steps:
            try:
                original(drive, [step], on_step)
            except base.StepFailed:
                continue

    mp.setattr(engine, "run_steps", run_every_step)


def _no_confirm(mp: pytest.MonkeyPatch) -> None:
    engine = importlib.import_module("rescue.engine.flash")  # the package's flash() shadows it

    mp.setattr(engine, "confirm", lambda question, assume_yes, ask=None: None)


def _no_disc_check(mp: pytest.MonkeyPatch) -> None:
    engine = importlib.import_module("rescue.engine.flash")  # the package's flash() shadows it

    mp.setattr(engine, "check_no_disc", lambda drive: "empty (check removed)")


def _no_pioneer_image_check(mp: pytest.MonkeyPatch) -> None:
    from rescue.families.pioneer import PioneerFamily

    mp.setattr(PioneerFamily, "_image_problems", staticmethod(lambda *args: []))


def _no_plextor_model_check(mp: pytest.MonkeyPatch) -> None:
    from rescue.families.plextor import PlextorFamily

    mp.setattr(PlextorFamily, "prepare", lambda self, drive, data: data)


def _no_plextor_sum_check(mp: pytest.MonkeyPatch) -> None:
    from rescue.firmware.layouts import plextor

    original = plextor.analyse

    def analyse(data: bytes):  # noqa: ANN202
        found = original(data)
        found.problems[:] = [p for p in found.problems if not p.startswith("checksum")]
        return found

    mp.setattr(plextor, "analyse", analyse)


def _no_mt1959_table_check(mp: pytest.MonkeyPatch) -> None:
    from rescue.families.mt1959 import Mt1959Family

    mp.setattr(Mt1959Family, "table_check", lambda self, identity, data: None)


def _mt1959_config_read_errors_ignored(mp: pytest.MonkeyPatch) -> None:
    from rescue.errors import RescueError
    from rescue.families.mt1959 import Mt1959Family

    original = Mt1959Family.read_config

    def read_config(self, drive):  # noqa: ANN001, ANN202
        try:
            return original(self, drive)
        except RescueError:
            return images.MT1959_CONFIG

    mp.setattr(Mt1959Family, "read_config", read_config)


def _no_drive_table(mp: pytest.MonkeyPatch, family: str) -> None:
    engine = importlib.import_module("rescue.engine.flash")  # the package's flash() shadows it
    from rescue.errors import RescueError

    original = engine.resolve_family

    def resolve(drive, requested=None, *, force=False):  # noqa: ANN001, ANN202
        try:
            return original(drive, requested, force=force)
        except RescueError:
            return original(drive, family, force=True)

    mp.setattr(engine, "resolve_family", resolve)


def _no_kernel_mode_check(mp: pytest.MonkeyPatch) -> None:
    from rescue.families import pioneer

    mp.setattr(pioneer, "check_kernel_mode", lambda answer: None)


def _short_inquiry_accepted(mp: pytest.MonkeyPatch) -> None:
    """The length checks gone: the family reads a short answer as if it were padded."""
    from rescue.families import pioneer

    original_prepare = pioneer.PioneerFamily.prepare
    original_check = pioneer.check_kernel_mode

    class Padded:
        def __init__(self, drive: object) -> None:
            self.drive = drive
            self.identity = drive.identity  # type: ignore[attr-defined]

        def command(self, cdb: bytes, **more: object):  # noqa: ANN202
            answer = self.drive.command(cdb, **more)  # type: ignore[attr-defined]
            if cdb[0] == 0x12:
                answer.data = answer.data.ljust(pioneer.INQUIRY_SIZE, b"\0")
            return answer

    mp.setattr(
        pioneer.PioneerFamily,
        "prepare",
        lambda self, d, data: original_prepare(self, Padded(d), data),
    )
    mp.setattr(
        pioneer, "check_kernel_mode", lambda a: original_check(a.ljust(pioneer.INQUIRY_SIZE, b"\0"))
    )


def _no_plextor_row_params(mp: pytest.MonkeyPatch) -> None:
    from rescue.families.plextor import PlextorFamily

    mp.setattr("rescue.families.required_params", lambda name: [])
    mp.setattr(PlextorFamily, "params", lambda self, identity: {"chunk": 0x1000})


def _no_identity_check(mp: pytest.MonkeyPatch) -> None:
    engine = importlib.import_module("rescue.engine.flash")
    mp.setattr(engine.FlashJob, "_check_identity", lambda self, image: None)


def _no_verify(mp: pytest.MonkeyPatch) -> None:
    engine = importlib.import_module("rescue.engine.flash")
    mp.setattr(engine.FlashJob, "_verify", lambda self, drive, family, image, data: None)


def _back_only_when_good(mp: pytest.MonkeyPatch) -> None:
    from rescue.families import base

    mp.setattr(base, "_BACK_NOT_READY", set())


def _no_mt1959_drive_id(mp: pytest.MonkeyPatch) -> None:
    from rescue.families.mt1959 import BOOT_AREA, CONFIG_AT, CONFIG_SIZE, Mt1959Family

    def prepare(self, drive, data):  # noqa: ANN001, ANN202
        self.table_check(drive.identity, data)
        config = self.read_config(drive)
        image = bytearray(data)
        image[:BOOT_AREA] = b"\xff" * BOOT_AREA
        image[CONFIG_AT : CONFIG_AT + CONFIG_SIZE] = config
        return bytes(image)

    mp.setattr(Mt1959Family, "prepare", prepare)


def _layout_problem_dropped(module: str, start: str) -> Callable[[pytest.MonkeyPatch], None]:
    def mutant(mp: pytest.MonkeyPatch) -> None:
        layout = importlib.import_module(f"rescue.firmware.layouts.{module}")
        original = layout.analyse

        def analyse(data: bytes):  # noqa: ANN202
            found = original(data)
            found.problems[:] = [p for p in found.problems if not p.startswith(start)]
            return found

        mp.setattr(layout, "analyse", analyse)

    return mutant


def _no_tsst_size(mp: pytest.MonkeyPatch) -> None:
    from rescue.families import tsst

    mp.setattr(tsst.TsstFamily, "prepare", lambda self, drive, data: data)


def _layers(*names: str) -> Callable[[pytest.MonkeyPatch], None]:
    """Several checks removed together: a row that more than one check guards."""
    return lambda mp: [MUTANTS[name](mp) for name in names] and None


def _pioneer_kernel_revision_not_recovery(mp: pytest.MonkeyPatch) -> None:
    from rescue.families.pioneer import PioneerFamily

    mp.setattr(PioneerFamily, "recovery_revisions", ("BOOT",))


#: Check removed -> (monkeypatch that removes it). Names are what RESCUE_CHECK_MUTANT takes.
MUTANTS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "stop-on-failure": _no_stop_on_failure,
    "confirm": _no_confirm,
    "no-disc": _no_disc_check,
    "pioneer-image": _no_pioneer_image_check,
    "plextor-model": _no_plextor_model_check,
    "plextor-sum": _no_plextor_sum_check,
    "mt1959-table": _no_mt1959_table_check,
    "mt1959-config-read": _mt1959_config_read_errors_ignored,
    **{f"table-{n}": (lambda mp, n=n: _no_drive_table(mp, n)) for n in OUTSIDE_TABLE},
    "plextor-row-params": _no_plextor_row_params,
    # A drive outside the table is refused by more than one check for these two families:
    # Plextor's chunk size comes only from a row and pxfw's model rule follows; MT1959's own
    # configuration id backs redumper's table. Each layer alone keeps the row green.
    "table-plextor-all": _layers("table-plextor", "plextor-row-params", "plextor-model"),
    "table-mt1959-all": _layers("table-mt1959", "mt1959-config-read"),
    "pioneer-recovery": _pioneer_kernel_revision_not_recovery,
    "pioneer-kernel-mode": _no_kernel_mode_check,
    "pioneer-short-inquiry": _short_inquiry_accepted,
    # Used only to check the rows that point at tests in other files (see the matrix):
    "identity": _no_identity_check,
    "verify": _no_verify,
    "back-only-when-good": _back_only_when_good,
    "mt1959-drive-id": _no_mt1959_drive_id,
    "mt1959-size": _layout_problem_dropped("mt1959", "size"),
    "mt1959-no-id": _layout_problem_dropped("mt1959", "no configuration id"),
    "plextor-size": _layout_problem_dropped("plextor", "size"),
    "plextor-unknown-model": _layout_problem_dropped("plextor", "model not in"),
    "tsst-size": _no_tsst_size,
}

#: Which check each row here stands for.
ROW_MUTANT = {
    **{f"failed-write-{n}": "stop-on-failure" for n in FAILING_WRITE},
    "no-confirmation": "confirm",
    "pioneer-disc": "no-disc",
    "other-model-pioneer-xl": "pioneer-image",
    "other-model-pioneer-generation": "pioneer-image",
    "other-model-plextor-model": "plextor-model",
    "other-model-mt1959-neighbour": "mt1959-table",
    "plextor-bad-sum": "plextor-sum",
    "mt1959-config-read-fails": "mt1959-config-read",
    "outside-table-tsst": "table-tsst",
    "outside-table-plextor": "table-plextor-all",
    "outside-table-mt1959": "table-mt1959-all",
    "pioneer-still-kernel": "pioneer-recovery",
    "pioneer-short-inquiry": "pioneer-short-inquiry",
}


def test_every_row_names_the_check_it_stands_for() -> None:
    assert set(ROW_MUTANT) == set(ROWS)
    assert set(ROW_MUTANT.values()) <= set(MUTANTS)


@pytest.mark.parametrize("row", ROWS)
def test_row_fails_without_its_check(
    row: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row's assertion must fail once its check is removed: it really tests that check."""
    MUTANTS[ROW_MUTANT[row]](monkeypatch)
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        ROWS[row](tmp_path)


_ACTIVE: list[pytest.MonkeyPatch] = []


def pytest_configure(config: pytest.Config) -> None:
    """As a plugin, ``RESCUE_CHECK_MUTANT=NAME pytest -p test_check_matrix TESTS...`` runs any
    tests with one check removed: the way the matrix's pointers to other files were checked.
    Collected as a test module this hook never runs, so the ordinary suite is untouched.
    """
    name = os.environ.get("RESCUE_CHECK_MUTANT")
    if name:
        patch = pytest.MonkeyPatch()
        MUTANTS[name](patch)
        _ACTIVE.append(patch)
