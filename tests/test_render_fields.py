"""Report text cleaning keeps exactly Unicode's rule without shipping unicodedata."""

from __future__ import annotations

import html
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from rescue.diagnostics.render.fields import clean, escape


def by_category(text: str) -> str:
    return "".join(
        "\ufffd" if unicodedata.category(c) in ("Cc", "Cs") and c != "\t" else c for c in text
    )


def test_every_control_and_surrogate_code_point() -> None:
    ranges = (range(0, 0x100), range(0xD7F0, 0xE010), range(0xFFF0, 0x10000))
    for cp in (cp for r in ranges for cp in r):
        assert clean(chr(cp)) == by_category(chr(cp)), hex(cp)


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF)))
def test_same_as_the_unicode_categories(text: str) -> None:
    assert clean(text) == by_category(text)


@given(st.text())
def test_escape_replaces_what_the_standard_library_replaces(text: str) -> None:
    assert escape(text) == html.escape(text, quote=True)
