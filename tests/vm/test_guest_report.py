"""The host side of the guest bed without a guest: case listing, JUnit mapping, timings.

If these were wrong, a failing or missing guest test could pass on the host
unnoticed; so they are checked on crafted inputs in the quick suite.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import harness
from guest_report import guest_case_ids, parse_junit


def test_guest_case_ids_lists_functions_and_class_methods(tmp_path: Path) -> None:
    (tmp_path / "test_a.py").write_text(
        textwrap.dedent(
            """
            import pytest

            def helper(): ...
            def test_one(): ...

            @pytest.mark.parametrize("x", [1, 2])
            def test_two(x): ...

            class TestGroup:
                def test_inner(self): ...
                def not_a_test(self): ...
            """
        )
    )
    (tmp_path / "helpers.py").write_text("def test_ignored(): ...\n")
    assert guest_case_ids(tmp_path) == [
        "test_a::test_one",
        "test_a::test_two",
        "test_a::TestGroup::test_inner",
    ]


def test_the_real_guest_suite_is_listed() -> None:
    ids = guest_case_ids(harness.REPO / "tests" / "guest")
    assert "test_tcmu::test_sgio_inquiry_reports_identity_and_residual" in ids
    assert all(i.startswith("test_") for i in ids)


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
  <testcase classname="tests.guest.test_a" name="test_one" time="0.1"/>
  <testcase classname="tests.guest.test_a" name="test_two[1]" time="0.1"/>
  <testcase classname="tests.guest.test_a" name="test_two[2]" time="0.1">
    <failure message="assert 2 == 3">trace here</failure>
  </testcase>
  <testcase classname="tests.guest.test_a.TestGroup" name="test_inner" time="0.1">
    <skipped message="no drive" type="pytest.skip">skip text</skipped>
  </testcase>
  <testcase classname="" name="tests.guest.test_b" time="0">
    <error message="collection failure">ImportError</error>
  </testcase>
</testsuite></testsuites>
"""


def test_parse_junit_groups_parameters_and_keeps_outcomes(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT)
    cases = parse_junit(path)
    assert [c.outcome for c in cases["test_a::test_one"]] == ["passed"]
    assert [c.outcome for c in cases["test_a::test_two"]] == ["passed", "failed"]
    assert "assert 2 == 3" in cases["test_a::test_two"][1].detail
    assert "trace here" in cases["test_a::test_two"][1].detail
    assert [c.outcome for c in cases["test_a::TestGroup::test_inner"]] == ["skipped"]
    # a collection error shows up under a key no listed case has
    assert [c.outcome for c in cases["tests.guest.test_b"]] == ["error"]


def test_console_timings_are_found_even_mid_line() -> None:
    console = (
        "boot\nrescue-init: ready at 4.25 s uptime\noutputrescue-init: command exited 3 at 20.5 s"
    )
    assert harness._timings(console) == {"ready": 4.25, "done": 20.5}
    assert harness._timings("nothing") == {}


def test_guest_command_line_shares_the_root_read_only(tmp_path: Path) -> None:
    cmd = harness.qemu_command(
        Path("vmlinuz"), Path("initrd"), Path("disc.iso"), tmp_path, tmp_path / "console"
    )
    joined = " ".join(cmd)
    assert cmd[cmd.index("-accel") + 1] == harness.pick_accel()
    assert "path=/,mount_tag=hostroot,security_model=none,readonly=on" in joined
    assert f"path={tmp_path},mount_tag=results" in joined
    assert "-net none" in joined and "-no-reboot" in joined
    assert f"vendor={harness.SCSI_CD_IDENTITY['vendor']}" in joined
