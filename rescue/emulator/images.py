"""Plausible flash images for the emulated drives (BTC first), and reading their identity.

The emulated drive needs firmware to hold and the tests need images to
flash, but real BTC firmware is not ours to ship. These images follow the
public layout facts (docs/protocols.md, from btcflash and OmniPatcher's
``fw_mtk.pl``): exactly 1 MiB; bootcode in the first 0x4000 bytes; every
64 KiB bank starting with 0x02 (an 8051 LJMP) or 0x80; a canned INQUIRY
block ``05 80 00 32 5B 00 00 00`` at 0x40B4 whose vendor (8 bytes, 0x40BC),
product (16, 0x40C4) and revision (4, 0x40D4) are what the drive reports,
followed by a 16-byte build date. Everything else is deterministic filler
(SHAKE-256 of the revision), so two revisions differ in their 16-bit sum.

The other flashable models (MT1939, Plextor, TSST, MT1959, SPC, Pioneer) get
their images from the makers further down, each section naming the public
layout facts it follows and what it invents where the sources are silent.

    python -m rescue.emulator.images btc 0050 -o V0050.bin
    python -m rescue.emulator.images mt1939 TS02 -o TS02.bin
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Callable

from rescue.record import record

FLASH_SIZE = 0x100000
BANK_SIZE = 0x10000
BOOTCODE_SIZE = 0x4000
BANK_START_BYTES = (0x02, 0x80)
INQUIRY_BLOCK = 0x40B4
INQUIRY_SIGNATURES = tuple(
    bytes([0x05, 0x80, 0x00, v, a, 0, 0, 0]) for v in (0x31, 0x32) for a in (0x1F, 0x5B)
)
VENDOR_AT, PRODUCT_AT, REVISION_AT, DATE_AT = 0x40BC, 0x40C4, 0x40D4, 0x40D8
IDENTITY_END = DATE_AT + 16
#: The product a real BTC DRW-1004IM reports and its images carry at 0x40C4 (docs/drives.md).
PRODUCT_1004 = "DVDRW IDE1004"


@record(frozen=True)
class FlashIdentity:
    vendor: str
    product: str
    revision: str
    date: str


def flash_checksum(image: bytes) -> int:
    """The 16-bit sum of every byte, as btcflash sends it in the download header."""
    return sum(image) & 0xFFFF


def read_identity(flash: bytes) -> FlashIdentity | None:
    """The identity a drive running ``flash`` reports, or None when the block is absent."""
    if len(flash) < IDENTITY_END or flash[INQUIRY_BLOCK:VENDOR_AT] not in INQUIRY_SIGNATURES:
        return None

    def text(start: int, end: int) -> str:
        return flash[start:end].decode("ascii", "replace").rstrip(" \0")

    return FlashIdentity(
        vendor=text(VENDOR_AT, PRODUCT_AT),
        product=text(PRODUCT_AT, REVISION_AT),
        revision=text(REVISION_AT, DATE_AT),
        date=text(DATE_AT, IDENTITY_END),
    )


def is_bootable(flash: bytes) -> bool:
    """Whether the drive's main firmware would start: full size, every bank sane, identity there.

    A drive whose flash fails this stays in its boot loader (recovery mode).
    """
    return (
        len(flash) == FLASH_SIZE
        and all(flash[bank] in BANK_START_BYTES for bank in range(0, FLASH_SIZE, BANK_SIZE))
        and read_identity(flash) is not None
    )


def _field(value: str, width: int, name: str) -> bytes:
    raw = value.encode("ascii", "strict") if value.isascii() else b""
    if not raw or len(raw) > width:
        raise ValueError(f"{name} {value!r} must be 1 to {width} ASCII characters")
    return raw.ljust(width, b" ")


def make_btc_image(
    revision: str,
    vendor: str = "BTC",
    product: str = PRODUCT_1004,
    date: str = "2006/02/14 10:00",
) -> bytes:
    """A valid-looking 1 MiB image that reports ``vendor``/``product``/``revision``."""
    if len(revision) != 4:
        raise ValueError(f"revision {revision!r} must be exactly 4 characters")
    block = bytes([0x05, 0x80, 0x00, 0x32, 0x5B, 0, 0, 0])
    block += _field(vendor, 8, "vendor") + _field(product, 16, "product")
    block += _field(revision, 4, "revision") + _field(date, 16, "date")
    image = bytearray(hashlib.shake_256(b"rescue-btc-" + revision.encode()).digest(FLASH_SIZE))
    # The boot loader is the same in every release: only the main firmware changes.
    image[:BOOTCODE_SIZE] = hashlib.shake_256(b"rescue-btc-bootcode").digest(BOOTCODE_SIZE)
    for bank in range(0, FLASH_SIZE, BANK_SIZE):
        image[bank : bank + 3] = bytes([0x02, 0x00, 0x30])  # LJMP 0030h into the bank
    image[INQUIRY_BLOCK:IDENTITY_END] = block
    return bytes(image)


# --- MediaTek MT1939 (TSST SE-506CB) ---------------------------------------------------
# Public layout (docs/protocols.md, rbdixon/coastermelt doc/update-ts01-notes.txt and
# flasher/checksum.py): 2 MiB; the first 64 KiB a locked boot loader; a 48-byte
# trailer at 0x1FFFD0 starting with vendor (8), product (16), revision (4); the
# 16-bit sum of [0x10000, 0x1E2000) big-endian at 0x1FFFFE.

MT1939_SIZE = 0x200000
MT1939_LOADER = 0x10000
MT1939_SUM_START, MT1939_SUM_END, MT1939_SUM_AT = 0x10000, 0x1E2000, 0x1FFFFE
MT1939_TRAILER = 0x1FFFD0


def mt1939_checksum(image: bytes) -> int:
    """The sum the MT1939 image stores at 0x1FFFFE, computed over the main firmware."""
    return sum(memoryview(image)[MT1939_SUM_START:MT1939_SUM_END]) & 0xFFFF


def read_mt1939_identity(flash: bytes) -> FlashIdentity | None:
    """The trailer's identity when the image is whole and its sum holds, else None."""
    if len(flash) != MT1939_SIZE:
        return None
    if int.from_bytes(flash[MT1939_SUM_AT:], "big") != mt1939_checksum(flash):
        return None
    return inquiry_text_identity(flash, MT1939_TRAILER)


def inquiry_text_identity(flash: bytes, at: int) -> FlashIdentity | None:
    """Vendor (8), product (16) and revision (4) as INQUIRY pads them, starting at ``at``."""
    fields = [
        flash[at + start : at + end].decode("latin-1").rstrip(" \0")
        for start, end in ((0, 8), (8, 24), (24, 28))
    ]
    readable = all(f and f.isascii() and f.isprintable() for f in fields)
    return FlashIdentity(*fields, date="") if readable else None


def make_mt1939_image(
    revision: str, vendor: str = "TSSTcorp", product: str = "BDDVDW SE-506CB"
) -> bytes:
    """A 2 MiB image whose trailer names the drive and whose stored sum is right."""
    if len(revision) != 4:
        raise ValueError(f"revision {revision!r} must be exactly 4 characters")
    image = bytearray(hashlib.shake_256(b"rescue-mt1939-" + revision.encode()).digest(MT1939_SIZE))
    image[:MT1939_LOADER] = hashlib.shake_256(b"rescue-mt1939-loader").digest(MT1939_LOADER)
    trailer = _field(vendor, 8, "vendor") + _field(product, 16, "product")
    trailer += _field(revision, 4, "revision")
    image[MT1939_TRAILER : MT1939_TRAILER + len(trailer)] = trailer
    image[MT1939_SUM_AT:] = mt1939_checksum(image).to_bytes(2, "big")
    return bytes(image)


# --- Plextor (PX-716A) -----------------------------------------------------------------
# Public layout (docs/protocols.md; QPxTool console/pxfw/pxfw.cpp): the image starts with the
# INQUIRY vendor (8) and product (16); for the PX-716A it is 0xF0000 bytes and the 16-bit
# sum of everything before 0xEFFFE is stored big-endian there. The 4-byte revision right
# after the product is this project's modelling choice: no public source places it.

PLEXTOR_SIZE = 0xF0000
PLEXTOR_SUM_AT = 0xEFFFE


def plextor_checksum(image: bytes) -> int:
    return sum(memoryview(image)[:PLEXTOR_SUM_AT]) & 0xFFFF


def read_plextor_identity(flash: bytes) -> FlashIdentity | None:
    """The header's identity when the image is whole and its sum holds, else None."""
    if len(flash) != PLEXTOR_SIZE:
        return None
    if int.from_bytes(flash[PLEXTOR_SUM_AT:], "big") != plextor_checksum(flash):
        return None
    return inquiry_text_identity(flash, 0)


def make_plextor_image(
    revision: str, vendor: str = "PLEXTOR", product: str = "DVDR   PX-716A"
) -> bytes:
    """A PX-716A-sized image naming ``product`` in its header, with its stored sum right."""
    if len(revision) != 4:
        raise ValueError(f"revision {revision!r} must be exactly 4 characters")
    image = bytearray(
        hashlib.shake_256(b"rescue-plextor-" + revision.encode()).digest(PLEXTOR_SIZE)
    )
    header = _field(vendor, 8, "vendor") + _field(product, 16, "product")
    image[:28] = header + _field(revision, 4, "revision")
    image[PLEXTOR_SUM_AT:] = plextor_checksum(image).to_bytes(2, "big")
    return bytes(image)


# --- TSST MediaTek DVD-ROM (SH-D163C) --------------------------------------------------
# Public facts (docs/protocols.md, redumper drive/flash_tsst.ixx): images are 128 or 256 KiB.
# Nothing public says where a TSST image keeps its identity or whether it has a sum: the
# emulator's images carry INQUIRY text at 0x3FFD0 (as MT1939 images do at their end) and
# no sum. That place is this project's modelling choice.

TSST_SIZE = 0x40000
TSST_IDENTITY_AT = 0x3FFD0


def read_tsst_identity(flash: bytes) -> FlashIdentity | None:
    if len(flash) != TSST_SIZE:
        return None
    return inquiry_text_identity(flash, TSST_IDENTITY_AT)


def make_tsst_image(
    revision: str, vendor: str = "TSSTcorp", product: str = "DVD-ROM SH-D163C"
) -> bytes:
    """A 256 KiB image with the emulator's identity text at 0x3FFD0."""
    if len(revision) != 4:
        raise ValueError(f"revision {revision!r} must be exactly 4 characters")
    image = bytearray(hashlib.shake_256(b"rescue-tsst-" + revision.encode()).digest(TSST_SIZE))
    text = _field(vendor, 8, "vendor") + _field(product, 16, "product")
    text += _field(revision, 4, "revision")
    image[TSST_IDENTITY_AT : TSST_IDENTITY_AT + len(text)] = text
    return bytes(image)


# --- MediaTek MT1959 (ASUS BW-16D1HT) --------------------------------------------------
# Public facts (docs/protocols.md, redumper drive/flash_mt1959.ixx): the drive's own 32-byte
# configuration block ("MT1959 Boot JB8 ...") sits at 0x3000; a flasher blanks the first
# 64 KiB of the image and copies that block in. Size, identity place and checksum are not
# public: the emulator's images are 2 MiB with INQUIRY text at 0x1FFFD0 and no sum.

MT1959_SIZE = 0x200000
MT1959_BOOT_AREA = 0x10000
MT1959_CONFIG_AT = 0x3000
MT1959_CONFIG = b"MT1959 Boot JB8 " + hashlib.shake_256(b"rescue-mt1959-config").digest(16)
MT1959_IDENTITY_AT = 0x1FFFD0


def read_mt1959_identity(flash: bytes) -> FlashIdentity | None:
    if len(flash) != MT1959_SIZE:
        return None
    return inquiry_text_identity(flash, MT1959_IDENTITY_AT)


def make_mt1959_image(revision: str, vendor: str = "ASUS", product: str = "BW-16D1HT") -> bytes:
    """A 2 MiB image as a drive holds it: boot area with its configuration block, identity text."""
    if len(revision) != 4:
        raise ValueError(f"revision {revision!r} must be exactly 4 characters")
    image = bytearray(hashlib.shake_256(b"rescue-mt1959-" + revision.encode()).digest(MT1959_SIZE))
    image[:MT1959_BOOT_AREA] = hashlib.shake_256(b"rescue-mt1959-boot").digest(MT1959_BOOT_AREA)
    image[MT1959_CONFIG_AT : MT1959_CONFIG_AT + len(MT1959_CONFIG)] = MT1959_CONFIG
    text = _field(vendor, 8, "vendor") + _field(product, 16, "product")
    text += _field(revision, 4, "revision")
    image[MT1959_IDENTITY_AT : MT1959_IDENTITY_AT + len(text)] = text
    return bytes(image)


# --- Generic SPC microcode (the emulator's own drive) ----------------------------------
# SPC-4 defines how microcode is carried, not what it looks like (docs/protocols.md). The
# emulator's SPC drive takes 256 KiB images that start with INQUIRY text: its own format.

SPC_SIZE = 0x40000


def read_spc_identity(flash: bytes) -> FlashIdentity | None:
    return inquiry_text_identity(flash, 0) if len(flash) == SPC_SIZE else None


def make_spc_image(revision: str, vendor: str = "RESCUE", product: str = "EMU SPC DVD") -> bytes:
    """256 KiB of microcode for the emulator's SPC drive, naming the drive it is for."""
    if len(revision) != 4:
        raise ValueError(f"revision {revision!r} must be exactly 4 characters")
    image = bytearray(hashlib.shake_256(b"rescue-spc-" + revision.encode()).digest(SPC_SIZE))
    text = _field(vendor, 8, "vendor") + _field(product, 16, "product")
    image[:28] = text + _field(revision, 4, "revision")
    return bytes(image)


# --- Pioneer DVR-108 "Normal" firmware part --------------------------------------------
# Public layout (DVRFlash 2.2b, rpc1dev/DVRFlash DVRFlash.cpp, main(), read for facts): the
# part type "Normal" or "Kernel" at 0x110; the drive's INQUIRY vendor+product (24 bytes,
# compared with strncmp) at 0x60; interface ("ATA ", 4 bytes) at 0xB0; generation as ASCII
# digits at 0xB4 (DVRFlash reads it with atoi, so a digit may not follow it); kernel type at
# 0xD0 (its first 7 characters are compared with the drive's); a DVR-108 normal part is
# exactly 1 MiB. DVRFlash prints the C strings at 0x60 and 0x90 side by side when it reads a
# file: the name ends with a NUL before 0x90, and 0x90 holds the firmware's version text.
# That the revision is the first 4 bytes there, the NUL padding of the header fields and the
# filler after 0x118 are this project's modelling choices.

PIONEER_SIZE = 0x100000
PIONEER_NAME_AT, PIONEER_REVISION_AT = 0x60, 0x90
PIONEER_INTERFACE_AT, PIONEER_GENERATION_AT = 0xB0, 0xB4
PIONEER_KERNEL_TYPE_AT, PIONEER_PART_AT = 0xD0, 0x110
PIONEER_HEADER_END = 0x118


@record(frozen=True)
class PioneerPart:
    """What a Normal part says about itself: the drive it names and the hardware it needs."""

    identity: FlashIdentity
    interface: bytes
    generation: bytes
    kernel_type: bytes


def read_pioneer_part(image: bytes) -> PioneerPart | None:
    """The Normal part's header, or None when the image is not a readable 1 MiB Normal part."""
    if len(image) != PIONEER_SIZE or image[PIONEER_PART_AT : PIONEER_PART_AT + 6] != b"Normal":
        return None
    name = inquiry_text_identity(
        image[PIONEER_NAME_AT : PIONEER_NAME_AT + 24]
        + image[PIONEER_REVISION_AT : PIONEER_REVISION_AT + 4],
        0,
    )
    if name is None:
        return None
    return PioneerPart(
        identity=name,
        interface=image[PIONEER_INTERFACE_AT : PIONEER_INTERFACE_AT + 4],
        generation=image[PIONEER_GENERATION_AT : PIONEER_GENERATION_AT + 4],
        kernel_type=image[PIONEER_KERNEL_TYPE_AT : PIONEER_KERNEL_TYPE_AT + 8],
    )


def make_pioneer_image(
    revision: str,
    product: str = "DVD-RW  DVR-108",
    generation: str = "0008",
    kernel_type: str = "GENERAL",
) -> bytes:
    """A 1 MiB DVR-108 Normal part naming ``product``, for ``generation`` hardware."""
    if len(revision) != 4:
        raise ValueError(f"revision {revision!r} must be exactly 4 characters")
    image = bytearray(
        hashlib.shake_256(b"rescue-pioneer-" + revision.encode()).digest(PIONEER_SIZE)
    )
    image[PIONEER_NAME_AT:PIONEER_HEADER_END] = bytes(PIONEER_HEADER_END - PIONEER_NAME_AT)
    image[PIONEER_NAME_AT : PIONEER_NAME_AT + 24] = _field("PIONEER", 8, "vendor") + _field(
        product, 16, "product"
    )
    image[PIONEER_REVISION_AT : PIONEER_REVISION_AT + 4] = _field(revision, 4, "revision")
    image[PIONEER_INTERFACE_AT : PIONEER_INTERFACE_AT + 4] = b"ATA "
    image[PIONEER_GENERATION_AT : PIONEER_GENERATION_AT + 4] = _field(generation, 4, "generation")
    image[PIONEER_KERNEL_TYPE_AT : PIONEER_KERNEL_TYPE_AT + 8] = _field(kernel_type, 8, "kernel")
    image[PIONEER_PART_AT : PIONEER_PART_AT + 6] = b"Normal"
    return bytes(image)


#: Image makers besides BTC's, by family: (maker taking a revision, what it writes).
OTHER_MAKERS: dict[str, tuple[Callable[[str], bytes], str]] = {
    "mt1939": (make_mt1939_image, "a 2 MiB TSST SE-506CB (MT1939) image"),
    "plextor": (make_plextor_image, "a Plextor PX-716A image"),
    "tsst": (make_tsst_image, "a 256 KiB TSST SH-D163C image"),
    "mt1959": (make_mt1959_image, "a 2 MiB ASUS BW-16D1HT (MT1959) image"),
    "spc": (make_spc_image, "microcode for the emulator's generic-spc drive"),
    "pioneer": (make_pioneer_image, "a 1 MiB Pioneer DVR-108 Normal part"),
}


#: Keyword options of a maker the command line offers (``--kernel-type GENERAL``).
MAKER_OPTIONS: dict[str, tuple[str, ...]] = {
    "plextor": ("product",),
    "pioneer": ("product", "generation", "kernel_type"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rescue.emulator.images", description="Write a demo firmware image."
    )
    sub = parser.add_subparsers(dest="family", required=True)
    btc = sub.add_parser("btc", help="a 1 MiB BTC DRW-1004IM (MT1x08) .bin image")
    btc.add_argument("revision", help="4-character revision, e.g. 0050")
    btc.add_argument("-o", "--output", required=True, help="file to write")
    btc.add_argument("--vendor", default="BTC")
    btc.add_argument("--product", default=PRODUCT_1004)
    btc.add_argument("--date", default="2006/02/14 10:00")
    for family, (_, help_text) in OTHER_MAKERS.items():
        other = sub.add_parser(family, help=help_text)
        other.add_argument("revision", help="4-character revision")
        other.add_argument("-o", "--output", required=True, help="file to write")
        for option in MAKER_OPTIONS.get(family, ()):
            other.add_argument(f"--{option.replace('_', '-')}", dest=option)
    args = parser.parse_args(argv)
    try:
        if args.family == "btc":
            image = make_btc_image(args.revision, args.vendor, args.product, args.date)
            summary = f"{args.vendor} {args.product} {args.revision}, "
            summary += f"checksum {flash_checksum(image):04X}"
        else:
            options = {
                name: getattr(args, name)
                for name in MAKER_OPTIONS.get(args.family, ())
                if getattr(args, name) is not None
            }
            image = OTHER_MAKERS[args.family][0](args.revision, **options)
            summary = f"{args.family} {args.revision}, {len(image)} bytes"
    except ValueError as err:
        parser.error(str(err))
    try:
        with open(args.output, "wb") as f:
            f.write(image)
    except OSError as err:
        parser.error(f"cannot write {args.output}: {err.strerror}")
    print(f"{args.output}: {summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
