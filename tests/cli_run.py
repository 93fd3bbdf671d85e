"""The CLI run in-process with a journal, for tests that check what reached the drive."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rescue.cli import main
from rescue.emulator.images import make_btc_image

WRITE_BUFFER = 0x3B
VENDOR_OPCODES = 0xC0


class Run:
    """``run(*argv)`` -> (exit code, stdout, stderr); ``opcodes()`` what the last run sent."""

    def __init__(self, tmp: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.tmp = tmp
        self.capsys = capsys
        self.journal = tmp / "journal.jsonl"

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.journal.unlink(missing_ok=True)
        code = main([*argv, "--journal", str(self.journal)])
        out = self.capsys.readouterr()
        return code, out.out, out.err

    def opcodes(self) -> list[int]:
        if not self.journal.exists():
            return []
        lines = self.journal.read_text().splitlines()
        return [bytes.fromhex(json.loads(line)["cdb"])[0] for line in lines]

    def write(self, name: str, document: Any) -> Path:
        """A file in the test's folder: text as given, anything else as JSON."""
        path = self.tmp / name
        path.write_text(document if isinstance(document, str) else json.dumps(document))
        return path

    def btc_image(self) -> Path:
        path = self.tmp / "V0050.bin"
        path.write_bytes(make_btc_image("0050"))
        return path

    def nothing_written(self) -> bool:
        """No WRITE BUFFER and no vendor opcode reached the drive."""
        return not [op for op in self.opcodes() if op == WRITE_BUFFER or op >= VENDOR_OPCODES]
