"""Plextor drives: the image names its model in its first 24 bytes; a 16-bit sum guards it.

Public source: pxfw 0.5, QPxTool ``speed47/qpxtool`` @ fc1cf4c8
``console/pxfw/pxfw.cpp`` (``FW_convert_to_ID()``, ``PLEXTOR_convert_to_ID()``,
``csum_init()``, ``main()``), read for facts only; docs/families/plextor.md.
pxfw identifies an image by "PLEXTOR " and the product at its start
(compared for 22 to 24 bytes, so "PX-716A " and "PX-716AL" differ), adds up
every byte before the model's checksum offset starting from 0x8000 for the
PX-W4824A, PX-W5224A and PREMIUM images and from 0 for the others, compares
that 16-bit sum with the big-endian word stored at the offset, and requires
the file size to equal the firmware size of the drive (which the image's
model must serve: rescue.families.plextor checks that part). Revision and
date are not read from the image by pxfw; their place is unknown here.
"""

from __future__ import annotations

from rescue.firmware.fields import be16, read_text_fields, sum16
from rescue.firmware.model import Analysis, Checksum, Identity
from rescue.record import record

FAMILY = "plextor"
TITLE = "Plextor (model named in the image header)"
VENDOR = b"PLEXTOR "
IDENTITY_FIELDS = {"vendor": (0, 8), "product": (8, 16)}


@record(frozen=True)
class PlextorModel:
    prefix: str  # product text the image starts with (pxfw compares this many bytes)
    sum_at: int
    sum_initial: int
    sizes: tuple[int, ...]  # firmware size of the drives this image serves
    drives: tuple[str, ...]


# Order matters: "PREMIUM2" must be tried before its prefix "PREMIUM".
MODELS = (
    PlextorModel("CD-R   PX-W4824A", 0x79FFE, 0x8000, (0x80000,), ("CD-R   PX-W4824A",)),
    PlextorModel("CD-R   PX-W5224A", 0x79FFE, 0x8000, (0x80000,), ("CD-R   PX-W5224A",)),
    PlextorModel("CD-R   PREMIUM2", 0xEFFFE, 0, (0xF0000,), ("CD-R   PREMIUM2",)),
    PlextorModel("CD-R   PREMIUM", 0x7C7FE, 0x8000, (0x80000,), ("CD-R   PREMIUM",)),
    PlextorModel("DVDR   PX-708A", 0xEFFFE, 0, (0xF0000,), ("DVDR   PX-708A",)),
    PlextorModel("DVDR   PX-712A", 0xEFFFE, 0, (0xFB000,), ("DVDR   PX-712A", "DVDR   PX-708A2")),
    PlextorModel("DVDR   PX-716A ", 0xEFFFE, 0, (0xF0000,), ("DVDR   PX-716A", "DVDR   PX-714A")),
    PlextorModel("DVDR   PX-716AL", 0xEFFFE, 0, (0xF0000,), ("DVDR   PX-716AL",)),
    PlextorModel("DVDR   PX-760A", 0x1EFFFE, 0, (0x1F0000,), ("DVDR   PX-760A", "DVDR   PX-755A")),
)


def recognise(data: bytes) -> bool | None:
    return data.startswith(VENDOR)


def model_of(data: bytes) -> PlextorModel | None:
    return next((m for m in MODELS if data[8:].startswith(m.prefix.encode("ascii"))), None)


def analyse(data: bytes) -> Analysis:
    values, problems = read_text_fields(data, IDENTITY_FIELDS, "header")
    notes = ["firmware revision and date are not in a documented place in Plextor images"]
    if not data.startswith(VENDOR):
        problems.append("image does not start with 'PLEXTOR ': not a Plextor image")
    model = model_of(data)
    if model is None:
        problems.append(
            "model not in QPxTool's table: its checksum offset and firmware size are unknown"
        )
        return Analysis(Identity(**values), Checksum(None), problems, notes)
    algorithm = (
        f"sum16 of [0, 0x{model.sum_at:X}) from 0x{model.sum_initial:X}, "
        f"stored big-endian at 0x{model.sum_at:X}"
    )
    if len(data) not in model.sizes:
        problems.append(
            f"size {len(data)} bytes, the {model.prefix.split()[-1]} firmware is "
            + " or ".join(str(s) for s in model.sizes)
        )
    expected = be16(data, model.sum_at)
    if expected is None:
        return Analysis(Identity(**values), Checksum(algorithm), problems, notes)
    value = sum16(data, 0, model.sum_at, model.sum_initial)
    if value != expected:
        problems.append(
            f"checksum mismatch: computed 0x{value:04X}, image stores 0x{expected:04X} "
            f"at 0x{model.sum_at:X}"
        )
    notes.append("image serves drives: " + ", ".join(" ".join(d.split()) for d in model.drives))
    checksum = Checksum(algorithm, value, expected, model.sum_at, value == expected)
    return Analysis(Identity(**values), checksum, problems, notes)
