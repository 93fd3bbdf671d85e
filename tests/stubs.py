"""Small stand-ins the family and flash tests share."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Ident:
    """What INQUIRY tells (the ``Identity`` protocol of rescue.families.base)."""

    vendor: str
    product: str
    revision: str
