"""`rescue flash` through the CLI, with the CDBs it sent read back from its journal.

Shared by the per-family flash tests so each pins only its family's protocol.
"""

from __future__ import annotations

import json
from pathlib import Path

from rescue.cli import main


def flash_and_journal(device: str, tmp: Path, image: bytes, *extra: str) -> tuple[int, list[bytes]]:
    """Write IMAGE to a file, flash DEVICE with it (no backup); (exit code, CDBs sent)."""
    path = tmp / "fw.bin"
    path.write_bytes(image)
    journal = tmp / "journal.jsonl"
    argv = ["flash", device, str(path), "--yes", "--no-backup", "--journal", str(journal)]
    code = main([*argv, "--reports", str(tmp / "reports"), *extra])
    sent = [bytes.fromhex(json.loads(line)["cdb"]) for line in journal.read_text().splitlines()]
    return code, sent
