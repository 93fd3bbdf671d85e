"""Pioneer DVR drives: DVRFlash's kernel-mode download of the "Normal" firmware part.

Source: DVRFlash 2.2b, ``rpc1dev/DVRFlash`` @ 8ccb1b7d (``DVRFlash.cpp``:
``main()``, ``SetKern()``, ``SetKernKey()``, ``getInquiry()``). The facts,
every check DVRFlash makes and what rescue does instead are in
docs/families/pioneer.md; the capture of DVRFlash flashing the emulated
DVR-108 is ``tests/data/peers/dvrflash-pioneer.jsonl``. Facts used here:

- INQUIRY with a 0x60-byte allocation (``12 00 00 00 60 00``); a Pioneer DVR
  has a "mm/dd/yy" date at byte 37 (DVRFlash gives up unless bytes 39 and 42
  are '/'); revision "0000" means the drive runs its kernel;
- READ BUFFER mode 2, buffer 0xF1, 0x30 bytes: serial (16), interface (4,
  must be "ATA "), generation (4 ASCII digits), kernel type (8), normal type
  (8), kernel revision (4). DVRFlash knows generations 1, 3, 4, 6-11, 52-54,
  60, 62, 64, 66;
- the key block (0x100 bytes): a 16-byte name chosen by generation and, from
  the DVR-106 on, a big-endian key at 0x10 (one universal key up to the
  DVR-108 family, one per kernel type for the DVR-109/110 family; the 110
  adds one to the key's first byte unless it is 0x9A);
- kernel mode: WRITE BUFFER mode 4, buffer 0xFF with the key block, then
  INQUIRY again; DVRFlash stops unless the revision now reads "0000";
- the Normal part: WRITE BUFFER mode 7, buffer 0xF0, always 0x8000 bytes at
  the chunk's offset (a short last chunk is padded with zeros), 100 ms apart;
- WRITE BUFFER mode 5, buffer 0xFF with the same key block saves and leaves
  kernel mode; DVRFlash waits 10 s, then INQUIRY (still "0000" = failed).

Checks before anything is written, as DVRFlash makes them (none of them can
be overridden here: DVRFlash's own override is its "-ff" superforce, which
rescue does not offer): a full 0x60-byte INQUIRY answer (DVRFlash's
``sgioSay()`` returns a residue as failure); a "Normal" part; the file size the drive's
generation takes; the image's name at 0x60 equal to INQUIRY bytes 8-31 and
its kernel type at 0xD0 equal to the drive's (first 7 characters): "Firmware
and Drive type mismatch"; interface at 0xB0 and generation at 0xB4 equal to
the drive's; a supported generation. The DVR-103/104 (generations 1 and 3)
need a seeded downgrade unlock (buffers 0xF2/0xF3) that is not implemented:
refused. The Kernel part (DVRFlash flashes it only with -f) is refused.

Differences, by choice (docs/families/pioneer.md): when the key block is
refused, DVRFlash sends it once more with the universal key; rescue stops
(no write is sent twice). No read command for the flash is public: no backup.
"""

from __future__ import annotations

import re

from rescue.errors import Refused
from rescue.families.base import Family, Identity, Step
from rescue.scsi.cdb import WriteBufferMode, inquiry, read_buffer, write_buffer

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.drive import Drive

INFO_BUFFER = 0xF1
INFO_SIZE = 0x30
KEY_BUFFER = 0xFF
NORMAL_BUFFER = 0xF0
KEY_BLOCK = 0x100
CHUNK = 0x8000
CHUNK_PAUSE = 0.1  # DVRFlash: msleep(100) after every Normal chunk
TIMEOUT = 300.0  # DVRFlash MAX_SECONDS
INQUIRY_SIZE = 0x60
KERNEL_REVISION = "0000"
IMAGE_NAME_AT = 0x60
IMAGE_INTERFACE_AT = 0xB0
IMAGE_GENERATION_AT = 0xB4
IMAGE_KERNEL_TYPE_AT = 0xD0
IMAGE_PART_AT = 0x110
INTERFACE = b"ATA "

#: Generations DVRFlash 2.2b accepts (main(), "is this a supported drive?").
GENERATIONS = frozenset({1, 3, 4, 6, 7, 8, 9, 10, 11, 52, 53, 54, 60, 62, 64, 66})
#: Generations that need DVRFlash's Downgrade() unlock first: not implemented here.
UNLOCK_GENERATIONS = frozenset({1, 3})

UNIVERSAL_KEY = 0x9A782361
#: SetKernKey(): key by the drive's kernel type; the text is compared for its own length.
KERNEL_TYPE_KEYS = (
    (b"PIO_ADV", 0x51B7DAC2),
    (b"GENERAL", 0x5C6A8FE9),
    (b"ASUS   ", 0x2BD55699),
    (b"ASUS_NL", 0x9CE45EF6),
    (b"PIODATA", 0x150000B0),
    (b"MEDION ", 0xD1A2ED86),
    (b"OEM_EXT ", UNIVERSAL_KEY),
    (b"OEM_EXT2", UNIVERSAL_KEY),
    (b"OEM_INT", 0x1B0000B0),
    (b"APPLE  ", UNIVERSAL_KEY),
    (b"ACER   ", UNIVERSAL_KEY),
    (b"SONYDT ", UNIVERSAL_KEY),
)
#: SetKern(): the name in the key block by generation, and whether a key follows
#: (None: no key; "universal"; "by type": SetKernKey's table).
KEY_NAMES: dict[int, tuple[str, str | None]] = {
    1: ("PIONEER DVR-S301", None),
    3: ("PIONEER DVD-R104", None),
    4: ("PIONEER  DVR-105", None),
    **dict.fromkeys((6, 52, 53), ("PIONEER  DVR-106", "universal")),
    **dict.fromkeys((7, 54), ("PIONEER  DVR-107", "universal")),
    **dict.fromkeys((8, 60, 62), ("PIONEER  DVR-108", "universal")),
    **dict.fromkeys((9, 64, 66), ("PIONEER  DVR-109", "by type")),
    **dict.fromkeys((10, 11), ("PIONEER  DVR-110", "by type")),
}


def key_block(generation: int, kernel_type: bytes) -> bytes:
    """The 0x100-byte block DVRFlash sends with the kernel-mode and save commands."""
    if generation not in KEY_NAMES:
        raise Refused(f"Pioneer generation {generation} is not one DVRFlash knows")
    name, key_rule = KEY_NAMES[generation]
    block = bytearray(KEY_BLOCK)
    block[:16] = name.encode("ascii")
    if key_rule == "universal":
        block[0x10:0x14] = UNIVERSAL_KEY.to_bytes(4, "big")
    elif key_rule == "by type":
        key = next((k for text, k in KERNEL_TYPE_KEYS if kernel_type.startswith(text)), None)
        if key is None:
            raise Refused(
                f"no key is known for kernel type {kernel_type.decode('latin-1')!r} "
                "(DVRFlash: Unsupported Drive Type)"
            )
        block[0x10:0x14] = key.to_bytes(4, "big")
        if generation in (10, 11) and block[0x10] != 0x9A:
            block[0x10] = (block[0x10] + 1) & 0xFF
    return bytes(block)


def c_atoi(raw: bytes) -> int | None:
    """The leading decimal digits of ``raw`` as C's atoi reads them (None when there are none)."""
    found = re.match(rb"[ \t]*([+-]?\d+)", raw)
    return int(found.group(1)) if found else None


def c_strncmp_equal(a: bytes, b: bytes, length: int) -> bool:
    """Whether C's strncmp(a, b, length) is 0: equal up to ``length`` or a shared NUL."""
    for x, y in zip(a[:length].ljust(length, b"\0"), b[:length].ljust(length, b"\0"), strict=True):
        if x != y:
            return False
        if x == 0:
            return True
    return True


def normal_size_problem(generation: int, size: int) -> str | None:
    """DVRFlash's size rule for a Normal part on a drive of ``generation`` (main())."""
    if generation <= 8 or 52 <= generation <= 62:
        if size != 0x100000:
            return f"a generation {generation} drive takes a 1048576-byte Normal part, not {size}"
    elif size < 0x128000:
        return f"a generation {generation} drive takes a Normal part of at least 1212416 bytes"
    return None


class PioneerFamily(Family):
    name = "pioneer"
    title = "Pioneer DVR"
    source = "DVRFlash 2.2b (rpc1dev/DVRFlash DVRFlash.cpp)"
    no_backup_reason = "DVRFlash knows no command that reads the flash back"
    recovery_revisions = ("BOOT", KERNEL_REVISION)
    settle_seconds = 10.0  # DVRFlash: countdown(10) after the save command
    ready_timeout = 120.0

    def __init__(self) -> None:
        super().__init__()
        self._key_block = b""
        self._in_kernel = False

    def prepare(self, drive: Drive, data: bytes) -> bytes:
        """DVRFlash's checks of drive and image, in its order; the Normal part padded to 0x8000."""
        answer = drive.command(bytes(inquiry(alloc=INQUIRY_SIZE)), data_in=INQUIRY_SIZE).data
        if len(answer) < INQUIRY_SIZE:  # DVRFlash: sgioSay() returns the residue, main() aborts
            raise Refused(
                f"the drive answered {len(answer)} of the {INQUIRY_SIZE} INQUIRY bytes a Pioneer "
                "DVR returns; DVRFlash gives up on a short answer too; nothing was sent"
            )
        if answer[39:40] != b"/" or answer[42:43] != b"/":
            raise Refused(
                "the drive does not look like a Pioneer DVR (no mm/dd/yy date at INQUIRY byte 37)"
            )
        self._in_kernel = answer[32:36] == KERNEL_REVISION.encode()
        info = drive.command(
            bytes(read_buffer(0x02, INFO_BUFFER, 0, INFO_SIZE)),
            data_in=INFO_SIZE,
            label="read Pioneer drive information",
        ).data.ljust(INFO_SIZE, b"\0")
        interface, kernel_type = info[16:20], info[24:32]
        generation = c_atoi(info[20:24]) or 0
        if interface != INTERFACE or generation not in GENERATIONS:
            raise Refused(
                f"this Pioneer drive ({interface.decode('latin-1')!r} generation {generation}) "
                "is not one DVRFlash supports"
            )
        if generation in UNLOCK_GENERATIONS:
            raise Refused(
                f"generation {generation} (DVR-103/104) needs DVRFlash's downgrade unlock, "
                "which this tool does not implement"
            )
        for problem in self._image_problems(data, answer, interface, generation, kernel_type):
            raise Refused(problem, hint="use the Normal part made for this drive")
        self._key_block = key_block(generation, kernel_type)
        return data + bytes(-len(data) % CHUNK)

    @staticmethod
    def _image_problems(
        data: bytes, answer: bytes, interface: bytes, generation: int, kernel_type: bytes
    ) -> list[str]:
        part = data[IMAGE_PART_AT : IMAGE_PART_AT + 6]
        if part != b"Normal":
            what = "a Kernel part" if part == b"Kernel" else "not a Pioneer part"
            return [f"the image is {what}: only a Normal part is flashed (DVRFlash needs -f)"]
        size = normal_size_problem(generation, len(data))
        if size:
            return [f"firmware file size mismatch: {size}"]
        problems = []
        if not c_strncmp_equal(data[IMAGE_NAME_AT:], answer[8:32], 24) or not c_strncmp_equal(
            data[IMAGE_KERNEL_TYPE_AT:], kernel_type, 7
        ):
            problems.append(
                "firmware and drive type mismatch: the image is for "
                f"{data[IMAGE_NAME_AT : IMAGE_NAME_AT + 24].decode('latin-1')!r} kernel type "
                f"{data[IMAGE_KERNEL_TYPE_AT : IMAGE_KERNEL_TYPE_AT + 7].decode('latin-1')!r}, "
                f"the drive is {answer[8:32].decode('latin-1')!r} kernel type "
                f"{kernel_type[:7].decode('latin-1')!r}"
            )
        image_generation = c_atoi(data[IMAGE_GENERATION_AT : IMAGE_GENERATION_AT + 16])
        if data[IMAGE_INTERFACE_AT : IMAGE_INTERFACE_AT + 4] != interface or (
            image_generation != generation
        ):
            problems.append(
                "hardware and firmware don't match: the image is for "
                f"{data[IMAGE_INTERFACE_AT : IMAGE_INTERFACE_AT + 4].decode('latin-1')!r} "
                f"generation {image_generation}, the drive is "
                f"{interface.decode('latin-1')!r} generation {generation}"
            )
        return problems

    def flash_steps(self, data: bytes, identity: Identity) -> list[Step]:
        enter = [
            Step(
                label="enter kernel mode (mode 4, key block)",
                cdb=bytes(write_buffer(WriteBufferMode.DOWNLOAD, KEY_BUFFER, 0, KEY_BLOCK)),
                data=self._key_block,
                timeout=TIMEOUT,
            ),
            Step(
                label="kernel mode? (INQUIRY revision must read 0000)",
                cdb=bytes(inquiry(alloc=INQUIRY_SIZE)),
                data_in=INQUIRY_SIZE,
                check=check_kernel_mode,
                timeout=TIMEOUT,
            ),
        ]
        chunks = [
            Step(
                label=f"Normal part {index + 1}/{len(data) // CHUNK} at {offset:#08x}",
                cdb=bytes(
                    write_buffer(
                        WriteBufferMode.DOWNLOAD_OFFSETS_SAVE, NORMAL_BUFFER, offset, CHUNK
                    )
                ),
                data=data[offset : offset + CHUNK],
                timeout=TIMEOUT,
                pause_after=CHUNK_PAUSE,
            )
            for index, offset in enumerate(range(0, len(data), CHUNK))
        ]
        save = Step(
            label="save and leave kernel mode (mode 5, key block)",
            cdb=bytes(write_buffer(WriteBufferMode.DOWNLOAD_SAVE, KEY_BUFFER, 0, KEY_BLOCK)),
            data=self._key_block,
            timeout=TIMEOUT,
            commit=True,
        )
        return [*([] if self._in_kernel else enter), *chunks, save]


def check_kernel_mode(answer: bytes) -> None:
    """DVRFlash's test after the key block: a full INQUIRY with revision "0000", else stop."""
    if len(answer) < INQUIRY_SIZE:
        raise Refused(
            f"after the key block the drive answered {len(answer)} of the {INQUIRY_SIZE} INQUIRY "
            "bytes, so whether it is in kernel mode is unknown; nothing more was sent",
            hint="power-cycle the drive and run the same command again",
        )
    revision = answer[32:36].decode("latin-1")
    if revision != KERNEL_REVISION:
        raise Refused(
            f"the drive did not enter kernel mode: after the key block it still reports "
            f"revision {revision.strip() or '(none)'} in normal mode, not {KERNEL_REVISION}; "
            "nothing more was sent and its firmware is unchanged",
            hint="power-cycle the drive and run the same command again",
        )
