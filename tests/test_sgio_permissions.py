"""Flash and backup without CAP_SYS_RAWIO: refused at open, in one line, nothing sent.

On /dev/srN the kernel itself refuses WRITE BUFFER to such a process; on a
writable /dev/sgN it does not (tests/guest/test_permissions.py shows both on
a real kernel), so the early check is the guard. These tests pin that check
and the CapEff parsing it rests on.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rescue.errors import ExitCode, PermissionDenied
from rescue.transport import sgio
from rescue.transport.sgio import CAP_SYS_RAWIO, SgioTransport, holds_raw_io

ALL_BUT_RAWIO = 0x1FFFEFFFFFF & ~(1 << CAP_SYS_RAWIO)


def _status(tmp_path: Path, cap_eff: str | None) -> Path:
    lines = ["Name:\tpython3", "Uid:\t65534\t65534\t65534\t65534"]
    if cap_eff is not None:
        lines.append(f"CapEff:\t{cap_eff}")
    path = tmp_path / "status"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("cap_eff", "expected"),
    [
        ("000001fffeffffff", True),  # root
        ("0000000000000000", False),  # an ordinary user
        (f"{ALL_BUT_RAWIO:016x}", False),  # everything except the one that matters
        (f"{1 << CAP_SYS_RAWIO:016x}", True),  # just CAP_SYS_RAWIO (setcap, ambient)
    ],
)
def test_cap_eff_bit_17_decides(tmp_path: Path, cap_eff: str, expected: bool) -> None:
    assert holds_raw_io(_status(tmp_path, cap_eff)) is expected


@pytest.mark.parametrize("cap_eff", [None, "not-hex", ""])
def test_unreadable_capabilities_leave_the_decision_to_the_kernel(
    tmp_path: Path, cap_eff: str | None
) -> None:
    assert holds_raw_io(_status(tmp_path, cap_eff)) is True
    assert holds_raw_io(tmp_path / "missing") is True


def test_exclusive_open_without_rawio_is_refused_before_the_node_is_touched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sgio, "PROC_STATUS", _status(tmp_path, "0000000000000000"))
    opened: list[str] = []
    real_open = os.open

    def spy(path, flags, *args):  # noqa: ANN001, ANN002, ANN202
        opened.append(str(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", spy)
    with pytest.raises(PermissionDenied) as err:
        SgioTransport("/dev/null", exclusive=True)
    assert opened == []
    assert err.value.exit_code == ExitCode.PERMISSION
    assert "CAP_SYS_RAWIO" in err.value.message and "nothing was sent" in err.value.message
    assert "\n" not in err.value.message and err.value.hint


def test_shared_open_without_rawio_still_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """info, scan and doctor send only commands the kernel allows a plain user."""
    monkeypatch.setattr(sgio, "PROC_STATUS", _status(tmp_path, "0000000000000000"))
    with SgioTransport("/dev/null") as dev:
        assert dev.path == "/dev/null"


def test_exclusive_open_with_rawio_opens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sgio, "PROC_STATUS", _status(tmp_path, f"{1 << CAP_SYS_RAWIO:016x}"))
    with SgioTransport("/dev/null", exclusive=True) as dev:
        assert not dev.read_only
