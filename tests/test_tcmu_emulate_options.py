"""`rescue emulate MODEL --rev/--image/--fault`: the options become the spec keys.

The options must build the same model the spec grammar does (checked by
asking the built model, in process, what it reports), and every mistake
must be a one-line usage error before anything touches the kernel.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rescue.cli import build_parser
from rescue.emulator.images import make_btc_image
from rescue.errors import ExitCode, UsageError
from rescue.ops import emulate
from rescue.transport.base import CHECK_CONDITION, GOOD
from rescue.transport.emulated import EmulatedTransport

INQUIRY = bytes([0x12, 0, 0, 0, 96, 0])


def _specs(argv: list[str]) -> list[str]:
    args = build_parser().parse_args(["emulate", *argv])
    return emulate.with_options(args.specs, args.rev, args.image, args.fault)


def _inquiry(spec: str) -> tuple[int, bytes]:
    ((_, device),) = emulate._models([spec])
    with EmulatedTransport(device, name=spec) as dev:
        dev.execute(bytes(6))  # the power-on unit attention
        result = dev.execute(INQUIRY, data_in=96)
    return result.status, result.data


def test_no_options_leave_the_specs_alone() -> None:
    assert _specs(["generic-dvd", "btc-drw1004im,rev=0043"]) == [
        "generic-dvd",
        "btc-drw1004im,rev=0043",
    ]


def test_options_become_keys_of_every_spec() -> None:
    specs = _specs(
        ["btc-drw1004im,disc=none", "tsst-shd163c", "--rev", "0050", "--fault", "busy@n1"]
    )
    assert specs == [
        "btc-drw1004im,disc=none,rev=0050,fault=busy@n1",
        "tsst-shd163c,rev=0050,fault=busy@n1",
    ]


def test_rev_option_sets_the_revision_the_model_reports() -> None:
    (spec,) = _specs(["btc-drw1004im", "--rev", "0050"])
    status, data = _inquiry(spec)
    assert status == GOOD and data[32:36] == b"0050"


def test_image_option_boots_the_model_from_that_file(tmp_path: Path) -> None:
    image = tmp_path / "drive.bin"
    image.write_bytes(make_btc_image("0151"))
    (spec,) = _specs(["btc-drw1004im", "--image", str(image)])
    status, data = _inquiry(spec)
    assert status == GOOD and data[32:36] == b"0151"


def test_fault_option_reaches_the_model() -> None:
    (spec,) = _specs(["generic-dvd", "--fault", "sense:3/11/00@12"])
    status, _ = _inquiry(spec)
    assert status == CHECK_CONDITION


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["btc-drw1004im,rev=0043", "--rev", "0050"], "give it once"),
        (["generic-dvd", "--fault", "busy@n1,hang@n2"], "cannot contain ','"),
    ],
)
def test_conflicting_or_unsplittable_options_are_usage_errors(argv: list[str], words: str) -> None:
    with pytest.raises(UsageError) as err:
        _specs(argv)
    assert words in err.value.message and "\n" not in err.value.message
    assert err.value.exit_code == ExitCode.USAGE


@pytest.mark.parametrize(
    "argv",
    [
        ["generic-dvd", "--image", "/nonexistent.bin"],  # generic models hold no flash
        ["btc-drw1004im", "--image", "/nonexistent.bin"],
        ["btc-drw1004im", "--fault", "explode@n1"],
    ],
)
def test_options_the_model_rejects_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises(UsageError) as err:
        emulate._models(_specs(argv))
    assert err.value.exit_code == ExitCode.USAGE and "\n" not in err.value.message


def test_rev_and_image_together_are_refused(tmp_path: Path) -> None:
    image = tmp_path / "drive.bin"
    image.write_bytes(make_btc_image("0050"))
    with pytest.raises(UsageError, match="give one"):
        emulate._models(_specs(["btc-drw1004im", "--rev", "0043", "--image", str(image)]))
