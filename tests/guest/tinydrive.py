"""A tiny drive model served through the TCMU bridge from a process of its own.

Not a product model: just enough of an MMC drive for sr to bind, an echo
buffer (WRITE BUFFER then READ BUFFER) to check both data directions, and
vendor opcodes that never answer, echo the CDB, or drop off the bus, so the
tests are about the bridge.

Run as `python tests/guest/tinydrive.py PRODUCT [PRODUCT ...]`: prints one
JSON line with the drives once they exist, one line per bridge log message,
and a JSON line with the statistics after SIGTERM/SIGINT removed them.
A process of its own because py-sg keeps the GIL during SG_IO, which would
freeze an in-process bridge (see TcmuBridge.run_until_signal).
"""

from __future__ import annotations

import json
import sys

from rescue.emulator.base import CHECK_CONDITION, Reply, WallClock
from rescue.emulator.tcmu import ExposedDrive, TcmuBridge
from rescue.record import asdict

VENDOR = "RESCUETM"
REVISION = "0.42"
HANG_OPCODE = 0xF1  # vendor specific (group 7): never answered
ECHO_OPCODE = 0xF2  # vendor specific: answers with the CDB as it arrived
GONE_OPCODE = 0xF3  # vendor specific: the drive drops off the bus
# INVALID COMMAND OPERATION CODE (5/20/00), fixed format
INVALID_OPCODE = bytes([0x70, 0, 5, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0])


class TinyDrive:
    def __init__(self, product: str) -> None:
        self.clock = WallClock()
        self.product = product
        self.buffer = b""

    def submit(self, cdb: bytes, data_out: bytes | None, data_in_len: int) -> Reply:
        op = cdb[0]
        if op == 0x12 and not cdb[1] & 1:  # standard INQUIRY: CD/DVD, removable
            ident = f"{VENDOR:<8}{self.product:<16}{REVISION}".encode()
            return Reply(data=bytes([5, 0x80, 5, 2, 31, 0, 0, 0]) + ident)
        if op == 0x00:  # TEST UNIT READY
            return Reply()
        if op == 0x25:  # READ CAPACITY(10): 1000 sectors of 2048 bytes
            return Reply(data=(999).to_bytes(4, "big") + (2048).to_bytes(4, "big"))
        if op == 0x3B:  # WRITE BUFFER
            self.buffer = data_out or b""
            return Reply()
        if op == 0x3C:  # READ BUFFER
            return Reply(data=self.buffer)
        if op == HANG_OPCODE:
            return Reply(hang=True)
        if op == ECHO_OPCODE:
            return Reply(data=cdb)
        if op == GONE_OPCODE:
            return Reply(gone=True)
        return Reply(status=CHECK_CONDITION, sense=INVALID_OPCODE)


def _ready(drives: list[ExposedDrive]) -> None:
    rows = [
        {"product": d.label, "sr": d.sr, "sg": d.sg, "backstore": str(d.lun.backstore),
         "port": str(d.lun.port)}
        for d in drives
    ]  # fmt: skip
    print(json.dumps({"drives": rows}), flush=True)


def main(products: list[str]) -> int:
    bridge = TcmuBridge([(p, TinyDrive(p)) for p in products], log=lambda m: print(m, flush=True))
    stats = bridge.run_until_signal(_ready)
    print(json.dumps({"stats": [asdict(s) for s in stats]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
