"""Loading a firmware file: read it, decode its format, find its family, analyse it.

Two kinds of failure are kept apart on purpose. A file that cannot be understood
at all (missing, empty, a broken .HEX line, a size no family has) raises
BadInput at once. A file that parses but breaks a family rule (bad checksum,
a missing bank, an unreadable identity) comes back as a FirmwareImage whose
``problems`` say why it must not be flashed, so ``rescue fw inspect`` can show
everything that is wrong in one go.

``pinned`` reads and analyses a file once for many flashes (the bench's
parent, before it forks one worker per drive): under QEMU's TCG the read and
the 1 MiB checksum cost each worker about a second of CPU, all at once, and
one read also means every drive gets the very bytes the batch question named.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from rescue.errors import BadInput, UsageError
from rescue.firmware import btchex
from rescue.firmware.layouts import BY_FAMILY, LAYOUTS, detect
from rescue.firmware.model import FirmwareImage
from rescue.firmware.source import read_source
from rescue.record import record


def _layout_for(family: str) -> ModuleType:
    try:
        return BY_FAMILY[family]
    except KeyError:
        raise UsageError(
            f"unknown firmware family {family!r}; known: {', '.join(sorted(BY_FAMILY))}"
        ) from None


def _decode(raw: bytes, path: Path) -> tuple[str, bytes]:
    """(format, flash image bytes). A file is read as HEX when it starts like one or is
    named ``*.hex``: a damaged HEX then gets its line-numbered error, not a size error."""
    if btchex.looks_like_hex(raw) or path.suffix.casefold() == ".hex":
        return "hex", btchex.parse_btc_hex(raw, path)
    return "bin", raw


@record(frozen=True)
class Pinned:
    """A firmware file read once: its bytes, and its analysis when its family could be told."""

    path: Path
    raw: bytes
    image: FirmwareImage | None


_PINNED: dict[Path, Pinned] = {}


@contextlib.contextmanager
def pinned(path: str | Path, family: str | None = None) -> Iterator[Pinned]:
    """Read ``path`` once; inside, ``load_firmware(path, ...)`` uses those bytes, not the disk.

    A file that cannot be read raises here (BadInput, as ``load_firmware`` would).
    One that is read but not understood (no signature and no ``family``:
    MT1959) is pinned as bytes only, each caller decoding it for its own family.
    A load for another family than the pinned analysis decodes the same bytes
    with that family's layout. Processes forked inside share the pin.
    """
    path = Path(path)
    raw = read_source(path)
    try:
        image: FirmwareImage | None = _analysed(raw, path, family)
    except BadInput:
        image = None
    pin = Pinned(path, raw, image)
    _PINNED[path] = pin
    try:
        yield pin
    finally:
        _PINNED.pop(path, None)


def load_firmware(path: str | Path, family: str | None = None) -> FirmwareImage:
    """Read and analyse the firmware file at ``path`` (the pinned bytes, when ``pinned``).

    ``family`` forces a layout (needed for MT1959, which has no signature);
    without it the family is detected. Raises BadInput for files that cannot be
    used at all; rule violations land in ``FirmwareImage.problems``.
    """
    path = Path(path)
    pin = _PINNED.get(path)
    if pin is None:
        return _analysed(read_source(path), path, family)
    if pin.image is not None and family in (None, pin.image.family):
        return pin.image
    return _analysed(pin.raw, path, family)


def _analysed(raw: bytes, path: Path, family: str | None) -> FirmwareImage:
    from hashlib import sha256  # when an image is read: `info` loads this module too (issue 15)

    layout = _layout_for(family) if family else None
    fmt, data = _decode(raw, path)
    problems: list[str] = []
    if layout is None:
        layout = detect(data)
        if layout is None:
            known = "; ".join(candidate.TITLE for candidate in LAYOUTS)
            raise BadInput(
                f"{path}: {len(data)} bytes with no known firmware signature ({known})",
                hint="name the family with --family if you know it",
            )
    elif layout.recognise(data) is False:
        problems.append(f"content does not match the {layout.FAMILY} layout (size or signature)")
    analysis = layout.analyse(data)
    return FirmwareImage(
        path=path,
        format=fmt,
        family=layout.FAMILY,
        size=len(data),
        data=data,
        identity=analysis.identity,
        checksum=analysis.checksum,
        sha256=sha256(data).hexdigest(),
        problems=problems + analysis.problems,
        notes=analysis.notes,
    )


def validate_for_family(image: FirmwareImage, family: str) -> list[str]:
    """Every reason ``image`` must not be flashed onto a drive of ``family``;
    an empty list means it passed. Unknown family names raise UsageError."""
    layout = _layout_for(family)
    if image.family == family:
        return list(image.problems)
    reasons = [f"image is a {image.family} image, the drive needs a {family} image"]
    return reasons + layout.analyse(image.data).problems
