"""rescue.shipped reads each shipped data file as the standard library's readers would."""

from __future__ import annotations

import os
import pkgutil

import pytest

from rescue import shipped

NAMES = sorted(os.listdir(shipped.FOLDER))


@pytest.mark.parametrize("name", NAMES)
def test_a_shipped_file_reads_as_pkgutil_reads_it(name: str) -> None:
    assert shipped.read_shipped(name) == pkgutil.get_data("rescue", f"data/{name}")


def test_the_data_folder_holds_the_tables_the_tool_reads() -> None:
    assert {"asc_ascq.json", "families.json", "catalog.json", "catalog.sha256.json"} <= set(NAMES)


def test_a_missing_file_is_an_oserror() -> None:
    with pytest.raises(FileNotFoundError):
        shipped.read_shipped("no-such-table.json")
