"""`rescue report` on anything: random bytes, random JSON, real reports with a field broken.

The promise: a file that is not a usable report ends as exit 5 and one line
(BadInput), and a file that is accepted renders on the terminal and as a page
without an exception. Real reports from emulated runs are the seeds, so the
broken fields sit deep inside the shapes the renderers walk.
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from test_report import BTC_0043, flash_report, run_report, scan_report

from rescue.cli import main
from rescue.diagnostics.render.html import render_html
from rescue.diagnostics.render.model import read_report
from rescue.diagnostics.render.terminal import show
from rescue.errors import BadInput, ExitCode

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and infinities too: json.loads accepts them
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """One real report of each kind, from emulated drives."""
    paths = [
        scan_report(tmp_path_factory.mktemp("scan")),
        run_report(tmp_path_factory.mktemp("doctor"), "doctor", BTC_0043),
        flash_report(tmp_path_factory.mktemp("flash")),
    ]
    return [json.loads(p.read_text()) for p in paths]


def _render_or_bad_input(document: Any) -> None:
    """Accepted documents render both ways; refused ones raise BadInput and nothing else."""
    try:
        report = read_report(document)
    except BadInput:
        return
    render_html(report).encode("utf-8")
    show(report, Console(file=io.StringIO(), width=100))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON value a mutation can hit (containers and leaves)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replaced(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = json.loads(json.dumps(document))
    holder = copy
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = new
    return copy


@FUZZ
@given(data=st.binary(max_size=200))
def test_random_bytes_are_one_line_of_bad_input(
    capsys: pytest.CaptureFixture[str], data: bytes
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.json"
        path.write_bytes(data)
        capsys.readouterr()
        code = main(["report", str(path)])
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT
    assert err.startswith("error: ") and "Traceback" not in err


@FUZZ
@given(document=JSON)
def test_random_json_is_bad_input_or_renders(document: Any) -> None:
    _render_or_bad_input(document)


@FUZZ
@given(data=st.data())
def test_a_real_report_with_one_field_broken_is_bad_input_or_renders(
    seeds: list[dict[str, Any]], data: st.DataObject
) -> None:
    seed = data.draw(st.sampled_from(seeds))
    path = data.draw(st.sampled_from(_paths(seed)))
    _render_or_bad_input(_replaced(seed, path, data.draw(JSON)))


@pytest.mark.parametrize("kind", [0, 1, 2])
def test_the_seeds_themselves_render(seeds: list[dict[str, Any]], kind: int) -> None:
    """Guards the fuzzing: were the seeds refused, every mutation would be too."""
    report = read_report(seeds[kind])
    assert report.kind == ("scan", "doctor", "flash")[kind]
    assert report.device in render_html(report)
