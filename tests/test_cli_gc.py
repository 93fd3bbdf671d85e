"""The garbage collector is off while a command's modules load, and as it was when it runs.

Importing allocates enough to start collection after collection that free
nothing; off, a scan's imports took 10-15% less time on the build host. A
command that runs for hours (a bench, a flash) must run with the collector on.
"""

from __future__ import annotations

import gc

import pytest

from rescue import cli
from rescue.ops import scan


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_off_while_parsing_and_as_it_was_for_the_command(
    monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    seen: dict[str, bool] = {}
    real_build = cli.build_parser

    def build(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        seen["building"] = gc.isenabled()
        return real_build(*args, **kwargs)

    def run(args: object) -> int:
        seen["running"] = gc.isenabled()
        return 0

    monkeypatch.setattr(cli, "build_parser", build)
    monkeypatch.setattr(scan, "run", run)  # the parser takes the command's function as it builds
    (gc.enable if enabled else gc.disable)()
    try:
        assert cli.main(["scan", "emu:generic-dvd"]) == 0
        assert seen == {"building": False, "running": enabled}
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
