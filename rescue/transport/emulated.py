"""Hands CDBs to an in-process device model: the whole tool without hardware.

The model's clock is the transport's clock, so a host-side wait for a drive
that "burns" its flash for 50 s costs no real time in tests and demos.
"""

from __future__ import annotations

from rescue.emulator.base import Device
from rescue.errors import CommandTimeout, DeviceNotFound
from rescue.transport.base import Result, Transport


class EmulatedTransport(Transport):
    def __init__(self, device: Device, name: str, journal=None) -> None:  # noqa: ANN001
        super().__init__(name, journal)
        self.device = device
        self._gone = False

    def _execute(
        self, cdb: bytes, data_out: bytes | None, data_in: int, timeout: float
    ) -> Result:
        if self._gone:
            raise DeviceNotFound(f"{self.name} has dropped off the bus")
        started = self.device.clock.now()
        reply = self.device.submit(cdb, data_out, data_in)
        if reply.gone:
            self._gone = True
            raise DeviceNotFound(
                f"{self.name} vanished during command {cdb[0]:02X}h",
                hint="check the cable or power, then run `rescue list`",
            )
        if reply.hang or reply.busy_seconds > timeout:
            self.device.clock.sleep(timeout)
            raise CommandTimeout(
                f"{self.name}: command {cdb[0]:02X}h did not finish within {timeout:g} s"
            )
        self.device.clock.sleep(reply.busy_seconds)
        data = reply.data[:data_in] if data_in else b""
        return Result(
            status=reply.status,
            sense=reply.sense,
            data=data,
            residual=data_in - len(data),
            duration=self.device.clock.now() - started,
        )

    def sleep(self, seconds: float) -> None:
        self.device.clock.sleep(seconds)

    def now(self) -> float:
        return self.device.clock.now()
