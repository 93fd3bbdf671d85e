"""A Drive: one device behind a transport, spoken to in typed MMC/SPC terms.

This is where a CHECK CONDITION becomes a ``SenseError`` carrying the sense
triple, its official name and the next step, so no caller has to look at
status bytes. Polls (TEST UNIT READY) return the sense instead of raising,
because "not ready" is an answer there, not a failure. Waiting goes through
the transport's clock, so in-process emulated drives never cost real time.
"""

from __future__ import annotations

from functools import cached_property

from rescue.errors import RescueError, TransportError
from rescue.record import record
from rescue.scsi import cdb as build
from rescue.scsi.capacity import Capacity, parse_read_capacity_10
from rescue.scsi.configuration import Configuration, parse_configuration
from rescue.scsi.inquiry import Inquiry, parse_inquiry
from rescue.scsi.sense import Sense, SenseError, decode_sense
from rescue.transport.base import GOOD, READY_POLL, READY_TIMEOUT, Result, Transport

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:  # parsers a scan or a poll never needs are imported where they are used
    from collections.abc import Callable
    from typing import NoReturn

    from rescue.scsi.ata import AtaIdentity
    from rescue.scsi.events import EventStatus
    from rescue.scsi.modepage import Capabilities
    from rescue.scsi.vpd import DeviceIdentification

BUSY = 0x08
SECTOR = 2048  # user data per sector of a CD/DVD/BD data track (what READ(10) moves)
UNIT_ATTENTION = 0x6


@record(frozen=True)
class DriveIdentity:
    vendor: str
    product: str
    revision: str

    def __str__(self) -> str:
        return f"{self.vendor} {self.product} {self.revision}".strip()


class Drive:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self._identity: DriveIdentity | None = None

    @property
    def name(self) -> str:
        return self.transport.name

    def command(
        self,
        cdb: bytes,
        *,
        data_in: int = 0,
        data_out: bytes | None = None,
        timeout: float = 30.0,
        label: str | None = None,
    ) -> Result:
        """Send one command; CHECK CONDITION raises SenseError, BUSY a TransportError."""
        result = self.transport.execute(cdb, data_out=data_out, data_in=data_in, timeout=timeout)
        if result.status == GOOD:
            return result
        _raise_for(result, label or f"command {cdb[0]:02X}h")

    def _fetch(self, c: build.Cdb, label: str) -> bytes:
        return self.command(c, data_in=c.data_in, label=label).data

    # --- identity ------------------------------------------------------------------------

    def inquiry(self) -> Inquiry:
        """Standard INQUIRY; refreshes ``identity`` (callers re-read it after a flash)."""
        parsed = parse_inquiry(self._fetch(build.inquiry(), "INQUIRY"))
        self._identity = DriveIdentity(parsed.vendor, parsed.product, parsed.revision)
        return parsed

    @property
    def identity(self) -> DriveIdentity:
        if self._identity is None:
            self.inquiry()
        assert self._identity is not None
        return self._identity

    def vpd_pages(self) -> tuple[int, ...]:
        from rescue.scsi.vpd import parse_supported_pages

        data = self._fetch(build.inquiry(True, 0x00), "INQUIRY VPD 00h")
        return parse_supported_pages(data).pages

    def unit_serial(self) -> str:
        from rescue.scsi.vpd import parse_unit_serial

        return parse_unit_serial(self._fetch(build.inquiry(True, 0x80), "INQUIRY VPD 80h")).serial

    def device_identification(self) -> DeviceIdentification:
        from rescue.scsi.vpd import parse_device_identification

        data = self._fetch(build.inquiry(True, 0x83), "INQUIRY VPD 83h")
        return parse_device_identification(data)

    def configuration(self, rt: build.ConfigRT = build.ConfigRT.ALL) -> Configuration:
        """GET CONFIGURATION, asking no more than the path carries (a USB bridge may take
        only 32 KiB; the full 64 KiB ask would fail in the kernel, docs/protocols.md)."""
        from rescue.ops.pathcheck import fit

        alloc = fit(self.transport, build.CONFIG_ALLOC, 8)
        cdb = build.get_configuration(rt, alloc=alloc)
        return parse_configuration(self._fetch(cdb, "GET CONFIGURATION"))

    @cached_property
    def features(self) -> tuple[int, ...]:
        """Feature codes the drive reports; empty when it cannot say."""
        try:
            self.settle()
            return tuple(f.code for f in self.configuration().features)
        except RescueError:
            return ()

    def capabilities(self) -> Capabilities:
        from rescue.scsi.modepage import parse_capabilities_response

        c = build.mode_sense_10()
        return parse_capabilities_response(self._fetch(c, "MODE SENSE(10) page 2Ah"))

    def ata_identify(self) -> AtaIdentity:
        from rescue.scsi.ata import parse_identify

        c = build.ata_pass_through_16()
        return parse_identify(self._fetch(c, "ATA PASS-THROUGH IDENTIFY PACKET DEVICE"))

    # --- readiness and medium ------------------------------------------------------------

    def test_unit_ready(self) -> Sense | None:
        """None when ready; otherwise the sense the drive gave (never raises on it).

        The transport's prepared probe, when it has one, makes a GOOD poll this frame and
        py-sg's C call alone; an answer that is not GOOD is taken apart only then, and a
        journaled or emulated poll goes through ``execute`` (docs/architecture.md, "The
        command path").
        """
        probe = self.transport.ready_probe
        if probe is not None:
            try:
                probe()
                return None
            except Exception as err:  # the transport knows what its carrier raises
                result = self.transport.probe_answer(err)
        else:
            result = self.transport.execute(READY_POLL, None, 0, READY_TIMEOUT)
            if result.status == GOOD:
                return None
        if result.sense:
            return decode_sense(result.sense)
        raise TransportError(f"TEST UNIT READY: status {result.status:02X}h without sense data")

    def settle(self, attempts: int = 8) -> tuple[Sense | None, list[Sense]]:
        """Consume pending unit attentions (power-on, media change, new microcode).

        A drive queues them after every reset; any command but INQUIRY and
        REQUEST SENSE reports the first one instead of doing its job. Returns
        the final readiness answer and the attentions that were consumed.
        """
        seen: list[Sense] = []
        sense = self.test_unit_ready()
        while sense is not None and sense.key == UNIT_ATTENTION and len(seen) < attempts:
            seen.append(sense)
            sense = self.test_unit_ready()
        return sense, seen

    def event_status(self) -> EventStatus:
        from rescue.scsi.events import parse_event_status

        c = build.get_event_status()
        return parse_event_status(self._fetch(c, "GET EVENT STATUS NOTIFICATION"))

    def read_capacity(self) -> Capacity:
        return parse_read_capacity_10(self._fetch(build.read_capacity_10(), "READ CAPACITY"))

    def read10(self, lba: int, blocks: int, timeout: float = 30.0) -> bytes:
        """A scan's every block: bare CDB bytes, and a label worded only when the read fails."""
        cdb = build.read_10_bytes(lba, blocks)
        result = self.transport.execute(cdb, None, blocks * SECTOR, timeout)
        if result.status == GOOD:
            return result.data
        _read10_failed(result, lba)

    # --- firmware buffers ----------------------------------------------------------------

    def write_buffer(
        self, mode: int, buffer_id: int, offset: int, data: bytes, timeout: float = 60.0
    ) -> None:
        c = build.write_buffer(mode, buffer_id, offset, len(data))
        label = f"WRITE BUFFER mode {mode:02X}h offset {offset:#x}"
        self.command(c, data_out=data if data else None, timeout=timeout, label=label)

    def read_buffer(self, mode: int, buffer_id: int, offset: int, length: int) -> bytes:
        c = build.read_buffer(mode, buffer_id, offset, length)
        return self._fetch(c, f"READ BUFFER mode {mode:02X}h offset {offset:#x}")

    # --- time ----------------------------------------------------------------------------

    def sleep(self, seconds: float) -> None:
        self.transport.sleep(seconds)

    def now(self) -> float:
        return self.transport.now()

    def close(self) -> None:
        self.transport.close()


def read10_reader(
    transport: Transport, timeout: float = 30.0
) -> Callable[[int, int], bytes] | None:
    """``Drive.read10`` prepared for a scan's loop, or None where ``transport`` has no such path.

    The transport's reader sends each block from one Python frame of its own (no
    ``Drive``, ``execute`` or CDB builder frame); what is not GOOD comes back through
    ``_read10_failed`` as the SenseError ``read10`` raises, carrier failures as ``execute``
    raises them (docs/architecture.md, "The command path"). A caller keeps it for one scan
    at most: a closed transport's reader fails, it does not read elsewhere. A function of
    the transport, not a Drive method, so a scan of a stand-in drive keeps reading through
    the stand-in.
    """
    return transport.bulk_reader(build.read_10_plain, SECTOR, timeout, _read10_failed)


def _read10_failed(result: Result, lba: int) -> NoReturn:
    """A READ(10) of ``lba`` that did not end GOOD, worded the same on both read paths."""
    _raise_for(result, f"READ(10) {lba}")


def _raise_for(result: Result, label: str) -> NoReturn:
    """A command that did not end GOOD: its sense as a SenseError, else why there is none."""
    if result.sense:
        raise SenseError.from_sense(result.sense, label)
    if result.status == BUSY:
        raise TransportError(f"{label}: the drive is busy", hint="wait a moment, then retry")
    raise TransportError(f"{label}: status {result.status:02X}h without sense data")
