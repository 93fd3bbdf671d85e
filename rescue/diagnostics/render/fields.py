"""Typed, cleaned access to a JSON document nobody vouches for.

A report holds strings a drive supplied (vendor, product) and may have been
edited by hand, so each field is checked for its type where it is read, and a
wrong one raises ``BadInput`` naming its path (``report.scan.bad[2].first``).
Text is cleaned of control characters (a vendor string could carry terminal
escape sequences) and lone surrogates (JSON allows them, UTF-8 does not).
``escape`` is what the HTML and SVG renderers put every such value through.
"""

from __future__ import annotations

import math

from rescue.errors import BadInput

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from typing import Any

LIMIT = 1 << 64  # LBAs and counts above this are not from a disc; float() of them could overflow


def _unsafe(char: str) -> bool:
    """Unicode's Cc (C0 and C1 controls, DEL) and Cs (surrogates) categories, tab spared:
    a fixed set, so the frozen tool need not ship the 1.1 MB unicodedata module for it."""
    code = ord(char)
    return code < 0x20 and code != 0x09 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF


def escape(text: str) -> str:
    """Text for HTML or SVG, quotes included: the five characters ``html.escape`` replaces.

    Written out here because the ``html`` package loads its 2,000-entry entity
    table and compiles a pattern on import, a cost every scan's report paid
    for five replacements (docs/performance.md, "Start-up of a scan").
    """
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#x27;")
    )


def clean(text: str) -> str:
    """Text safe to print or write as UTF-8: control characters and surrogates become U+FFFD.

    Printable text (what a drive's strings almost always are) holds none of them and is
    returned as it is; no regex, whose compiling cost every report's writing more than
    its use (issue 15).
    """
    if text.isprintable():
        return text
    return "".join("\ufffd" if _unsafe(char) else char for char in text)


class Fields:
    """Typed access to one JSON object; a wrong field raises BadInput naming its path."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise BadInput(f"{where}: expected a JSON object")
        self.data: dict[str, Any] = data
        self.where = where

    def _bad(self, key: str, want: str) -> BadInput:
        return BadInput(
            f"{self.where}.{key}: expected {want}",
            hint="the file is not a rescue report, or it was edited; the JSON beside it "
            "may still be intact",
        )

    def _get(self, key: str, types: tuple[type, ...], want: str, optional: bool) -> Any:
        value = self.data.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise self._bad(key, want)
        return value

    def text(self, key: str) -> str:
        return clean(self._get(key, (str,), "text", False))

    def opt_text(self, key: str) -> str | None:
        value = self._get(key, (str,), "text or null", True)
        return None if value is None else clean(value)

    def flag(self, key: str) -> bool:
        return bool(self._get(key, (bool,), "true or false", True))

    def count(self, key: str) -> int:
        value = self._get(key, (int,), "a whole number", False)
        if not 0 <= value < LIMIT:
            raise self._bad(key, "a whole number from 0 to 2^64")
        return value

    def opt_count(self, key: str) -> int | None:
        return None if self.data.get(key) is None else self.count(key)

    def amount(self, key: str) -> float | None:
        """A finite number of zero or more (seconds, KiB/s); None when absent."""
        value = self._get(key, (int, float), "a number", True)
        if value is None:
            return None
        if isinstance(value, int) and value >= LIMIT or not 0 <= float(value) < math.inf:
            raise self._bad(key, "a finite number of zero or more")
        return float(value)

    def obj(self, key: str) -> Fields | None:
        value = self.data.get(key)
        return None if value is None else Fields(value, f"{self.where}.{key}")

    def objects(self, key: str) -> list[Fields]:
        values = self._get(key, (list,), "a list", True) or []
        return [Fields(v, f"{self.where}.{key}[{i}]") for i, v in enumerate(values)]

    def texts(self, key: str) -> tuple[str, ...]:
        values = self._get(key, (list,), "a list of text", True) or []
        if not all(isinstance(v, str) for v in values):
            raise self._bad(key, "a list of text")
        return tuple(clean(v) for v in values)
