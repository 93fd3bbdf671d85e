"""Image layouts, one module per firmware family, and the order they are tried in.

A layout module exposes FAMILY (the name ``rescue.families`` uses too), TITLE,
``recognise(data) -> bool | None`` (None: the family has no public signature)
and ``analyse(data) -> Analysis``. Detection tries the content signatures
first (Pioneer's part marker, Plextor's header) and the bare sizes last, so a
1 MiB Pioneer part is never mistaken for a BTC image.
"""

from __future__ import annotations

from types import ModuleType

from rescue.firmware.layouts import btc, mt1939, mt1959, pioneer, plextor, tsst

LAYOUTS: tuple[ModuleType, ...] = (pioneer, plextor, btc, mt1939, tsst, mt1959)
BY_FAMILY: dict[str, ModuleType] = {layout.FAMILY: layout for layout in LAYOUTS}


def detect(data: bytes) -> ModuleType | None:
    """The first layout whose signature matches ``data``, or None."""
    return next((layout for layout in LAYOUTS if layout.recognise(data)), None)
