"""SG_IO failures become typed, one-line errors (the real ioctl runs in the VM suite)."""

from __future__ import annotations

import errno

import py_sg
import pytest

from rescue.errors import (
    CommandTimeout,
    DeviceNotFound,
    PermissionDenied,
    TransportError,
)
from rescue.transport import sgio
from rescue.transport.sgio import DID_TIME_OUT, SgioTransport

TUR = bytes(6)


def test_missing_node_is_device_not_found() -> None:
    with pytest.raises(DeviceNotFound, match="no such device"):
        SgioTransport("/dev/sg-does-not-exist")


def test_non_scsi_node_is_a_transport_error() -> None:
    t = SgioTransport("/dev/null")
    with pytest.raises(TransportError, match="SG_IO failed for 00h"):
        t.execute(TUR)
    t.close()
    t.close()  # idempotent


def _raising(exc: BaseException):  # noqa: ANN202
    def fake(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise exc

    return fake


@pytest.mark.parametrize(
    "code, error, text",
    [
        (errno.EPERM, PermissionDenied, "refused command 3Bh"),
        (errno.EACCES, PermissionDenied, "refused command 3Bh"),
        (errno.EINVAL, TransportError, "2097152-byte transfer"),
        (errno.ENODEV, DeviceNotFound, "vanished"),
    ],
)
def test_os_errors_map_to_categories(monkeypatch, code, error, text) -> None:  # noqa: ANN001
    monkeypatch.setattr(sgio, "_sg_write", _raising(OSError(code, "x")))
    t = SgioTransport("/dev/null")
    with pytest.raises(error, match=text):
        t.execute(bytes([0x3B] + [0] * 9), data_out=bytes(2 * 1024 * 1024))


def test_check_condition_keeps_status_and_sense(monkeypatch) -> None:  # noqa: ANN001
    sense = bytes([0x70, 0, 5, 0, 0, 0, 0, 10] + [0] * 4 + [0x20, 0] + [0] * 4)
    monkeypatch.setattr(sgio, "_sg_read", _raising(py_sg.SCSIError(1, 0, 8, sense, b"ab")))
    r = SgioTransport("/dev/null").execute(bytes([0x12, 0, 0, 0, 36, 0]), data_in=36)
    assert r.status == 0x02 and r.sense == sense and r.data == b"ab" and r.residual == 34


def test_kernel_timeout_is_command_timeout(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(sgio, "_sg_write", _raising(py_sg.SCSIError(0, DID_TIME_OUT, 0, b"", b"")))
    with pytest.raises(CommandTimeout, match="timed out after 2 s"):
        SgioTransport("/dev/null").execute(TUR, timeout=2)


def test_exclusive_open_of_a_busy_node_is_refused(monkeypatch) -> None:  # noqa: ANN001
    import os

    from rescue.errors import Refused

    def busy(path, flags, *args):  # noqa: ANN001, ANN002, ANN202
        assert flags & os.O_EXCL and flags & os.O_RDWR
        raise OSError(errno.EBUSY, "Device or resource busy")

    monkeypatch.setattr(sgio, "holds_raw_io", lambda: True)  # as root, whoever runs the tests
    monkeypatch.setattr(os, "open", busy)
    with pytest.raises(Refused, match="another process has the drive open"):
        SgioTransport("/dev/sg0", exclusive=True)
