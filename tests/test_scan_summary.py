"""A scan's summary tells the truth however the scan ends, and shows paths whole.

A drive unplugged mid-scan is modelled by an emulated drive whose node is
deleted after a number of READs: from then on every command fails the way
the SG_IO backend reports the kernel's errno (``SgioTransport._os_error``
itself: ENODEV and ENXIO are "vanished", EIO a plain transport error), so
the scan sees exactly what it would see on /dev/sgN.
"""

from __future__ import annotations

import errno
import json
import os
import re
from pathlib import Path

import pytest

from rescue.cli import main
from rescue.diagnostics import mapfile as mf
from rescue.emulator.registry import create
from rescue.errors import ExitCode
from rescue.ops import scan as scan_cmd
from rescue.transport.base import Result
from rescue.transport.emulated import EmulatedTransport
from rescue.transport.sgio import SgioTransport

SECTORS, BLOCK, READS_BEFORE = 1024, 32, 5  # the drive goes after 5 READs of 32: at LBA 160
READ_10 = 0x28


class Unplugged(EmulatedTransport):
    """An emulated drive at ``node`` that leaves after ``reads`` READ(10)s, node and all."""

    def __init__(self, spec: str, node: Path, code: int, reads: int, journal=None) -> None:  # noqa: ANN001
        super().__init__(create(spec.removeprefix("emu:")), spec, journal)
        self.path, self.read_only = str(node), True
        self.node, self.code, self.left = node, code, reads

    def _execute(self, cdb: bytes, data_out: bytes | None, data_in: int, timeout: float) -> Result:
        if cdb[0] == READ_10:
            self.left -= 1
        if self.left < 0:
            self.node.unlink(missing_ok=True)
            err = OSError(self.code, os.strerror(self.code))
            raise SgioTransport._os_error(self, err, cdb, data_out, data_in)  # type: ignore[arg-type]
        return super()._execute(cdb, data_out, data_in, timeout)


def _unplug_after(monkeypatch: pytest.MonkeyPatch, node: Path, code: int, reads: int) -> None:
    node.touch()

    def opened(spec: str, journal=None) -> Unplugged:  # noqa: ANN001
        return Unplugged(spec, node, code, reads)

    monkeypatch.setattr(scan_cmd, "open_device", opened)


def _map(path: Path) -> list[tuple[int, int, str]]:
    return [
        (b.pos // 2048, b.size // 2048, b.status) for b in mf.parse_mapfile(path.read_text()).blocks
    ]


@pytest.mark.parametrize("code", [errno.ENODEV, errno.ENXIO, errno.EIO])
def test_a_drive_unplugged_mid_scan_ends_in_a_true_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], code: int
) -> None:
    node, mapfile = tmp_path / "sg9", tmp_path / "disc.map"
    _unplug_after(monkeypatch, node, code, 1 + READS_BEFORE)  # the mapfile's fingerprint: READ 1
    argv = ["scan", f"emu:generic-dvd,sectors={SECTORS}", "--mapfile", str(mapfile)]
    assert main([*argv, "--reports", str(tmp_path / "r")]) == ExitCode.NO_DEVICE
    out = " ".join(capsys.readouterr().out.split())
    stop = READS_BEFORE * BLOCK
    assert f"stopped at LBA {stop}; {stop} sectors read this run" in out
    assert f"({100 * stop / SECTORS:.1f}% of the range scanned)" in out
    assert "stopped: the drive went away" in out and "reconnect the drive" in out
    assert "every sector read" not in out
    assert f"mapfile: {mapfile}" in out
    assert _map(mapfile) == [(0, stop, "+"), (stop, SECTORS - stop, "?")]


def test_the_json_summary_of_a_vanished_drive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _unplug_after(monkeypatch, tmp_path / "sg9", errno.ENODEV, READS_BEFORE)
    argv = ["scan", f"emu:generic-dvd,sectors={SECTORS}", "--json"]
    assert main([*argv, "--reports", str(tmp_path / "r")]) == ExitCode.NO_DEVICE
    body = json.loads(capsys.readouterr().out)
    assert body["drive_gone"] is True and body["complete"] is False
    assert body["stopped_at"] == READS_BEFORE * BLOCK and body["percent"] == 15.6
    assert body["stopped_by"].startswith("the drive went away (")
    saved = json.loads(Path(body["report"]).read_text())
    assert saved["scan"]["stopped_at"] == body["stopped_at"]


def test_an_io_error_while_the_node_stays_is_a_transport_error_not_a_departure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    node, mapfile = tmp_path / "sg9", tmp_path / "disc.map"
    _unplug_after(monkeypatch, node, errno.EIO, 1 + READS_BEFORE)
    monkeypatch.setattr(Path, "unlink", lambda self, missing_ok=False: None)  # the node stays
    argv = ["scan", f"emu:generic-dvd,sectors={SECTORS}", "--mapfile", str(mapfile)]
    assert main([*argv, "--reports", str(tmp_path / "r")]) == ExitCode.TRANSPORT
    out = " ".join(capsys.readouterr().out.split())
    assert "stopped: " in out and "SG_IO failed" in out and "went away" not in out
    assert _map(mapfile)[0] == (0, READS_BEFORE * BLOCK, "+")


ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize("gone", [False, True])
def test_a_narrow_terminal_never_breaks_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], gone: bool
) -> None:
    """On a 40-column terminal the mapfile and report paths (longer than a line) stay whole."""
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich's console, as on a terminal
    monkeypatch.setenv("COLUMNS", "40")
    folder = tmp_path / ("a-folder-with-a-long-name-" * 3) / "[red]not-markup[/]"
    folder.mkdir(parents=True)
    mapfile = folder / "disc-of-the-family-archive-2009.map"
    if gone:
        _unplug_after(monkeypatch, tmp_path / "sg9", errno.ENODEV, 1 + READS_BEFORE)
    argv = ["scan", f"emu:generic-dvd,sectors={SECTORS}", "--mapfile", str(mapfile)]
    code = main([*argv, "--reports", str(folder)])
    assert code == (ExitCode.NO_DEVICE if gone else 0)
    lines = ANSI.sub("", capsys.readouterr().out).splitlines()
    assert f"mapfile: {mapfile}" in lines
    assert any(line.startswith(f"report: {folder}/scan-") for line in lines), lines
    assert len(str(mapfile)) > 40 and mapfile.exists()
