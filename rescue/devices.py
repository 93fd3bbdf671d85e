"""Turn what the user typed as DEV into an open transport.

Accepted forms: ``emu:MODEL[,key=value...]`` (an in-process emulated drive),
``replay:JOURNAL`` (a recorded session), ``/dev/srN`` or ``/dev/sgN``, a bare
``srN``/``sgN``, or an index from ``rescue list``. Real drives are opened
through their sg node when discovery knows it: write-class commands pass
there with a read-write descriptor, while srN filters them.
"""

from __future__ import annotations

from rescue.errors import DeviceNotFound, UsageError
from rescue.transport.base import Transport

EMULATED_PREFIX = "emu:"
REPLAY_PREFIX = "replay:"


def open_device(spec: str, journal_path: str | None = None, exclusive: bool = False) -> Transport:
    """Open DEV; ``exclusive`` (flash, backup) opens a real node read-write with O_EXCL."""
    journal = None
    if journal_path:  # the journal's module only with --journal (issue 15: start-up)
        from rescue.transport.journal import Journal

        journal = Journal(journal_path)
    if spec.startswith(EMULATED_PREFIX):
        from rescue.emulator.registry import create
        from rescue.transport.emulated import EmulatedTransport

        try:
            device = create(spec[len(EMULATED_PREFIX) :])
        except ValueError as err:
            raise UsageError(
                f"{spec}: {err}", hint="`rescue list --emulated` names the models"
            ) from None
        return EmulatedTransport(device, name=spec, journal=journal)
    if spec.startswith(REPLAY_PREFIX):
        from rescue.transport.replay import ReplayTransport

        return ReplayTransport(spec[len(REPLAY_PREFIX) :], journal=journal)
    from rescue.transport.sgio import SgioTransport

    return SgioTransport(node_path(spec), journal=journal, exclusive=exclusive)


def node_path(spec: str) -> str:
    """The device node to open for DEV: the sg node when discovery knows one."""
    from rescue.discovery import resolve

    try:
        node = resolve(spec)
    except DeviceNotFound:
        if spec.startswith("/dev/"):
            return spec  # no udev/sysfs knowledge (e.g. a container): trust the path
        raise
    path = node.sg or node.sr
    if path is None:
        raise DeviceNotFound(f"{spec}: the drive has neither an sg nor an sr node")
    return path
