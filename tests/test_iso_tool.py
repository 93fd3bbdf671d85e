"""The build's one tool runner: a failed or missing tool is one line in the step's own error."""

from __future__ import annotations

import pytest

from iso import tool


class StepError(Exception):
    pass


def test_output_is_returned_and_stdin_reaches_the_tool() -> None:
    assert tool.run(["tr", "a-z", "A-Z"], StepError, stdin="kmod\n") == "KMOD\n"


def test_a_missing_tool_names_the_package_list() -> None:
    with pytest.raises(StepError, match=r"`no-such-tool-x` is not installed .*apt-packages"):
        tool.run(["no-such-tool-x", "--help"], StepError)


def test_a_failing_tool_gives_its_last_words_on_one_line() -> None:
    script = "echo first >&2; echo 'the last words' >&2; exit 3"
    with pytest.raises(StepError) as caught:
        tool.run(["sh", "-c", script], StepError)
    assert str(caught.value) == f"`sh -c {script}` failed: the last words"
    assert "\n" not in str(caught.value)


def test_env_and_cwd_are_passed(tmp_path) -> None:
    out = tool.run(["sh", "-c", "echo $STEP; pwd"], StepError, env={"STEP": "x"}, cwd=tmp_path)
    assert out.split() == ["x", str(tmp_path)]
