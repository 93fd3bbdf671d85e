"""Guest test helpers: drives found through plain sysfs, sense triples, bridge processes,
the rescue CLI in a process of its own (optionally as an unprivileged user)."""

from __future__ import annotations

import contextlib
import io
import json
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

RESCUE = [sys.executable, "-m", "rescue.cli"]
# An ordinary user: nobody/nogroup, no supplementary groups, no capabilities.
AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
START_TIMEOUT = 90.0  # Python start-up over 9p under TCG, plus the kernel's scan
STOP_TIMEOUT = 30.0


@dataclass(frozen=True)
class ScsiNode:
    """One SCSI device as sysfs shows it: its sg node, sr node and identity."""

    sg: str
    sr: str | None
    vendor: str
    model: str
    rev: str
    type: int


def _attr(device: Path, name: str) -> str:
    return (device / name).read_text().strip()


def scsi_nodes() -> list[ScsiNode]:
    nodes = []
    for sg in sorted(Path("/sys/class/scsi_generic").iterdir()):
        device = sg / "device"
        blocks = sorted(p.name for p in (device / "block").glob("*"))
        nodes.append(
            ScsiNode(
                sg=f"/dev/{sg.name}",
                sr=f"/dev/{blocks[0]}" if blocks else None,
                vendor=_attr(device, "vendor"),
                model=_attr(device, "model"),
                rev=_attr(device, "rev"),
                type=int(_attr(device, "type")),
            )
        )
    return nodes


def node_by_vendor(vendor: str) -> ScsiNode:
    found = [n for n in scsi_nodes() if n.vendor == vendor]
    assert len(found) == 1, f"expected one device from {vendor!r}, sysfs shows {scsi_nodes()}"
    return found[0]


def sense_triple(sense: bytes) -> tuple[int, int, int]:
    """(key, asc, ascq) from fixed (70h/71h) or descriptor (72h/73h) sense."""
    assert len(sense) >= 8, f"sense too short: {sense.hex()}"
    if sense[0] & 0x7F in (0x72, 0x73):
        return sense[1] & 0x0F, sense[2], sense[3]
    assert len(sense) >= 14, f"fixed sense too short: {sense.hex()}"
    return sense[2] & 0x0F, sense[12], sense[13]


def rescue(
    *args: str, prefix: Sequence[str] = (), command: Sequence[str] = RESCUE, timeout: float = 300.0
) -> subprocess.CompletedProcess[str]:
    """The rescue CLI as a user runs it (``prefix``: e.g. AS_NOBODY); any exit code returns."""
    return subprocess.run(
        [*prefix, *command, *args], capture_output=True, text=True, timeout=timeout
    )


def run_cli(*args: str) -> tuple[int, str, str]:
    """The rescue CLI in this process: (exit code, stdout, stderr).

    No Python start-up (seconds under TCG), so checks that need no process of
    their own stay cheap. Redirects the process-wide streams: main thread only.
    """
    from rescue.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def make_image(family: str, revision: str, path: Path) -> Path:
    """A demo image from the makers behind `python -m rescue.emulator.images`.

    Silent: background threads make images while run_cli holds stdout.
    """
    from rescue.emulator import images

    make = images.make_btc_image if family == "btc" else images.OTHER_MAKERS[family][0]
    path.write_bytes(make(revision))
    return path


def journal_entries(path: Path, device: str | None = None) -> list[dict[str, object]]:
    """A JSON-lines journal, optionally only one device's entries (``tcmu:SPEC``)."""
    if not path.exists():
        return []
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    return [e for e in entries if device is None or e["device"] == device]


def _tiny_drive_rows(lines: list[str]) -> list[dict[str, str]] | None:
    """tinydrive.py announces its drives as one JSON line {"drives": [...]}."""
    for line in lines:
        if line.startswith('{"drives"'):
            return json.loads(line)["drives"]
    return None


def _emulate_rows(lines: list[str]) -> list[dict[str, str]] | None:
    """`rescue emulate` prints `SPEC: /dev/srN /dev/sgN` per drive, then `ready; ...`."""
    if not any(line.startswith("ready") for line in lines):
        return None
    rows = []
    for line in lines:
        spec, sep, nodes = line.rpartition(": ")
        if sep and nodes.startswith("/dev/sr"):
            sr, sg = nodes.split()
            rows.append({"spec": spec, "sr": sr, "sg": sg})
    return rows


def emulate_command(specs: list[str], journal: Path | None) -> BridgeProcess:
    """The real CLI, `rescue emulate [--journal JOURNAL] SPEC...`, in its own process."""
    recording = ["--journal", str(journal)] if journal is not None else []
    command = [sys.executable, "-m", "rescue.cli", "emulate", *recording, *specs]
    return BridgeProcess(command, _emulate_rows)


class BridgeProcess:
    """A process serving TCMU drives (tinydrive.py or `rescue emulate`), for a test.

    Starts COMMAND, collects its output in the background and waits until
    PARSE finds the announced drives in it; leaving the context stops it.
    """

    def __init__(
        self,
        command: list[str],
        parse: Callable[[list[str]], list[dict[str, str]] | None] = _tiny_drive_rows,
        timeout: float = START_TIMEOUT,
    ) -> None:
        self.command = command
        self.parse = parse
        self.timeout = timeout
        self.lines: list[str] = []
        self.drives: list[dict[str, str]] = []
        self._changed = threading.Condition()
        self.process: subprocess.Popen[str] | None = None

    def __enter__(self) -> BridgeProcess:
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        threading.Thread(target=self._collect, daemon=True).start()
        with self._changed:
            found = self._changed.wait_for(
                lambda: self.parse(self.lines) is not None or self.process.poll() is not None,
                self.timeout,
            )
        drives = self.parse(self.lines)
        if not found or drives is None:
            self.stop(signal.SIGTERM)
            raise AssertionError(f"{self.command} announced no drives:\n{self.output()}")
        self.drives = drives
        return self

    def _collect(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        self.process.wait()
        with self._changed:  # the process ended: wake a waiter still hoping for drives
            self._changed.notify_all()

    def wait_for_line(self, text: str, timeout: float = 10.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: any(text in x for x in self.lines), timeout)

    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def stop(self, sig: signal.Signals) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{self.command} ignored {sig.name}:\n{self.output()}") from None

    def __exit__(self, *exc: object) -> None:
        self.stop(signal.SIGTERM)
