"""`rescue explain`, run through the real CLI frame (argument parsing, JSON, exit codes)."""

from __future__ import annotations

import json

import pytest
from sense_corpus import descriptor, fixed, sks_bytes

import rescue.cli
from rescue.errors import ExitCode

JSON_KEYS = {
    "format", "key", "key_name", "asc", "ascq", "asc_name", "meaning", "next_step",
    "information", "progress",
}


@pytest.fixture(autouse=True)
def only_explain(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register only this command, so sibling commands under development cannot break it."""
    monkeypatch.setattr(rescue.cli, "COMMANDS", ["rescue.ops.explain"])


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = rescue.cli.main(["explain", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "fmt"),
    [
        (["5/20/0"], "triple"),
        (["0x05", "0x20", "0x00"], "triple"),
        (fixed(5, 0x20, 0).hex(" ").split(), "fixed"),
        ([fixed(5, 0x20, 0).hex()], "fixed"),
        (descriptor(5, 0x20, 0).hex(" ").split(), "descriptor"),
    ],
)
def test_json_for_every_input_form(
    capsys: pytest.CaptureFixture[str], argv: list[str], fmt: str
) -> None:
    code, out, _ = run(capsys, "--json", *argv)
    assert code == 0
    report = json.loads(out)
    assert JSON_KEYS <= report.keys()
    assert (report["key"], report["asc"], report["ascq"]) == (5, 0x20, 0)
    assert report["key_name"] == "ILLEGAL REQUEST"
    assert report["asc_name"] == "INVALID COMMAND OPERATION CODE"
    assert "does not implement this command" in report["meaning"]
    assert report["format"] == fmt


def test_json_carries_information_and_progress(capsys: pytest.CaptureFixture[str]) -> None:
    raw = descriptor(2, 0x04, 0x07, information=0x10, sks=sks_bytes(0x4000))
    code, out, _ = run(capsys, "--json", *raw.hex(" ").split())
    report = json.loads(out)
    assert code == 0
    assert (report["format"], report["information"], report["progress"]) == (
        "descriptor", 0x10, 0.25
    )
    assert report["sense_key_specific"] == "operation 25.0% done"


def test_human_output_names_everything(capsys: pytest.CaptureFixture[str]) -> None:
    raw = fixed(3, 0x11, 0x00, information=0x1234)
    code, out, err = run(capsys, *raw.hex(" ").split())
    assert code == 0 and not err
    out = " ".join(out.split())  # rich wraps long cells to the terminal width
    for text in ("3/11/00", "MEDIUM ERROR", "UNRECOVERED READ ERROR", "4660 (0x1234)",
                 "not firmware", "next step"):
        assert text in out


@pytest.mark.parametrize("argv", [["zz"], ["5/20"], ["17/20/00"], ["70", "00"]])
def test_bad_input_is_one_line_usage_error(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == ExitCode.USAGE
    assert not out
    lines = err.strip().splitlines()
    assert lines[0].startswith("error: cannot explain")
    assert len(lines) == 2 and lines[1].startswith("next:")
    assert "Traceback" not in err


def test_bad_input_with_json_is_a_json_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--json", "5/20")
    assert code == ExitCode.USAGE
    assert json.loads(out)["error"] == "UsageError"


@pytest.mark.parametrize("text", ["[/]", "[bold]5/20"])
def test_input_that_looks_like_markup_is_echoed_verbatim(
    capsys: pytest.CaptureFixture[str], text: str
) -> None:
    """User text lands in the error message; the console must not read it as rich markup."""
    code, _, err = run(capsys, text)
    assert code == ExitCode.USAGE
    assert f"cannot explain {text!r}" in err
    assert "Traceback" not in err
