"""LG / ASUS Blu-ray drives on MediaTek MT1959: the image and its configuration block.

Public source: redumper (``superg/redumper``), ``drive/flash_mt1959.ixx``,
functions ``redumper_flash_mt1959``, ``extract_firmware_config`` and
``modify_firmware``, and its table ``MT1959_SUPPORTED_DRIVES``
(docs/families/mt1959.md). What an image carries, by redumper's reading:

- at 0x3000 a 0x20-byte configuration block whose first 16 bytes are the
  configuration id (``MT1959 Boot JB8 `` or ``MT1959 Boot BU5 `` in
  redumper's table). redumper refuses a file whose id is not the one its
  table gives for the drive (unless forced), and always refuses one whose id
  differs from the id the drive itself reports (READ BUFFER at 0x3000): the
  id is how an MT1959 image says which drives it is for;
- a file shorter than 0x10000 bytes is refused (its first 0x10000 bytes are
  overwritten with 0xFF before sending, so they must exist).

No INQUIRY vendor/product place, size rule or checksum is public: none is
claimed. The image is recognised by content only when the id at 0x3000
starts with ``MT1959 Boot `` (every id redumper lists does); anything else is
an MT1959 image only when the caller names the family, and it then carries a
problem, because redumper could flash no such file.
"""

from __future__ import annotations

from rescue.firmware.model import Analysis, Checksum, Identity

FAMILY = "mt1959"
TITLE = "MediaTek MT1959 Blu-ray (configuration id at 0x3000)"
CONFIG_AT = 0x3000
CONFIG_SIZE = 0x20
ID_SIZE = 0x10
BOOT_AREA = 0x10000
MIN_SIZE = BOOT_AREA  # redumper: "firmware data too small" below 0x10000
ID_PREFIX = b"MT1959 Boot "

#: redumper's MT1959_SUPPORTED_DRIVES: configuration id -> the drives it lists for it
#: (INQUIRY vendor, product). Shown by `fw inspect`; the drive table
#: (rescue/data/families.json, param ``config_id``) decides which drives rescue serves.
REDUMPER_DRIVES: dict[str, tuple[tuple[str, str], ...]] = {
    "MT1959 Boot BU5 ": (("HL-DT-ST", "BD-RE BU40N"),),
    "MT1959 Boot JB8 ": (
        ("ASUS", "BW-16D1HT"),
        ("ASUS", "BW-16D1H-U"),
        ("HL-DT-ST", "BD-RE BH16NS60"),
        ("HL-DT-ST", "BD-RE WH16NS60"),
        ("HL-DT-ST", "BD-RE BH16NS58"),
        ("HL-DT-ST", "BD-RE WH16NS58"),
        ("HL-DT-ST", "BD-RE BH16NS55"),
        ("HL-DT-ST", "BD-RE BH16NS50"),
        ("HL-DT-ST", "BD-RE BH14NS50"),
        ("HL-DT-ST", "BD-RE BH16NS40"),
        ("HL-DT-ST", "BD-RE WH16NS40"),
        ("HL-DT-ST", "BD-RE BH14NS40"),
        ("HL-DT-ST", "BD-RE WH14NS40"),
    ),
}


def config_block(data: bytes) -> bytes | None:
    """The 0x20-byte block at 0x3000, or None when the file is too short to hold it."""
    block = data[CONFIG_AT : CONFIG_AT + CONFIG_SIZE]
    return block if len(block) == CONFIG_SIZE else None


def config_id(data: bytes) -> str | None:
    """The block's first 16 bytes as text, or None when absent or not printable ASCII."""
    block = config_block(data)
    if block is None:
        return None
    raw = block[:ID_SIZE]
    if not raw.strip(b" ") or any(b < 0x20 or b > 0x7E for b in raw):
        return None
    return raw.decode("ascii")


def recognise(data: bytes) -> bool | None:
    """True when the id at 0x3000 reads ``MT1959 Boot ...``; else None (no claim either way)."""
    block = config_block(data)
    return True if block is not None and block.startswith(ID_PREFIX) else None


def analyse(data: bytes) -> Analysis:
    problems: list[str] = []
    notes: list[str] = []
    if len(data) < MIN_SIZE:
        problems.append(
            f"size {len(data)} bytes: smaller than the 0x10000-byte area the flasher "
            "overwrites (redumper refuses it too)"
        )
    found = config_id(data)
    extra: dict[str, str] = {}
    if found is None:
        problems.append(
            "no configuration id at 0x3000 (16 printable bytes, e.g. 'MT1959 Boot JB8 '): "
            "the drive's own id must equal it, so no MT1959 drive would take this file"
        )
    else:
        extra["config_id"] = found
        listed = REDUMPER_DRIVES.get(found)
        if listed:
            names = ", ".join(f"{v} {p}" for v, p in listed)
            notes.append(f"configuration id {found!r} at 0x3000; redumper lists it for: {names}")
        else:
            notes.append(
                f"configuration id {found!r} at 0x3000 is not in redumper's table: "
                "only a drive reporting the same id takes it"
            )
        notes.append(
            "before flashing, the drive's own block (READ BUFFER at 0x3000) must start with "
            "the same 16 bytes; it then replaces the image's 0x20 bytes there"
        )
    notes.append(
        "the first 0x10000 bytes are sent as 0xFF (apart from the configuration block): "
        "the drive keeps its boot area"
    )
    notes.append("no INQUIRY identity place or checksum rule is public for MT1959 images")
    return Analysis(Identity(extra=extra), Checksum(None), problems, notes)
