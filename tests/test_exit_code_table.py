"""The README's exit-code table is rescue.errors' table: every code once, with its one meaning.

The menu and the bench print ``EXIT_CODE_MEANINGS`` after a failed command,
so the words a user reads there must be the ones the README explains.
"""

from __future__ import annotations

import re
from pathlib import Path

from rescue.errors import EXIT_CODE_MEANINGS, ExitCode

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_rows() -> dict[int, str]:
    text = README.read_text()
    table = text[text.index("## Exit codes") :].split("\n\n")[1]
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", table, flags=re.MULTILINE)
    codes = [int(code) for code, _ in rows]
    assert len(codes) == len(set(codes)), "a code is listed twice"
    return {int(code): meaning for code, meaning in rows}


def test_every_exit_code_has_one_row_and_no_row_is_unknown() -> None:
    assert set(readme_rows()) == {int(code) for code in ExitCode}
    assert len({int(code) for code in ExitCode}) == len(ExitCode)  # no alias in the enum


def test_each_row_begins_with_the_meaning_the_menu_and_bench_print() -> None:
    rows = readme_rows()
    assert set(EXIT_CODE_MEANINGS) == set(ExitCode)
    for code, meaning in EXIT_CODE_MEANINGS.items():
        assert rows[int(code)].startswith(meaning), (code, meaning, rows[int(code)])
