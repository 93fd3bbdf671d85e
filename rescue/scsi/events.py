"""GET EVENT STATUS NOTIFICATION answers, polled (MMC-6 6.7).

Only the media class is decoded: it is how the tool learns, without
touching the medium, whether the tray is open and whether a disc is in, both
conditions of the flashing policy.
"""

from __future__ import annotations

from enum import IntEnum

from rescue.errors import ParseError
from rescue.record import record
from rescue.scsi.fields import Record, be, require


class StartStop(IntEnum):
    """START STOP UNIT byte 4 bits LoEj and Start (SBC-3 5.25, MMC-6 6.40): what moves the
    tray and the medium whose events are read here."""

    STOP = 0b00
    START = 0b01
    EJECT = 0b10
    LOAD = 0b11


# MMC-6 table "Notification Class field"
EVENT_CLASSES: dict[int, str] = {
    0: "none",
    1: "operational change",
    2: "power management",
    3: "external request",
    4: "media",
    5: "multiple host",
    6: "device busy",
}
MEDIA = 4

# MMC-6 table "Media Event Format: Media Event Code"
MEDIA_EVENTS: dict[int, str] = {
    0: "no change",
    1: "eject request",
    2: "new media",
    3: "media removal",
    4: "media changed",
    5: "background format completed",
    6: "background format restarted",
}


@record(frozen=True, slots=True)
class MediaEvent(Record):
    code: int
    name: str
    tray_open: bool
    media_present: bool
    start_slot: int
    end_slot: int


@record(frozen=True, slots=True)
class EventStatus(Record):
    no_event_available: bool
    event_class: int
    event_class_name: str
    supported_classes: int  # bit n set: class n supported
    descriptor: bytes
    media: MediaEvent | None


def parse_event_status(data: bytes) -> EventStatus:
    """A 4-byte header, then (unless NEA is set) one event descriptor.

    A media-class answer must carry its 4-byte descriptor; other classes are
    kept raw.
    """
    require(data, 4, "GET EVENT STATUS NOTIFICATION")
    nea = bool(data[2] & 0x80)
    event_class = data[2] & 0x07
    descriptor = bytes(data[4 : min(len(data), be(data, 0, 2) + 2)])
    media = None
    if event_class == MEDIA and not nea:
        if len(descriptor) < 4:
            raise ParseError(
                f"GET EVENT STATUS NOTIFICATION: media descriptor has {len(descriptor)} of 4 bytes"
            )
        code = descriptor[0] & 0x0F
        media = MediaEvent(
            code=code,
            name=MEDIA_EVENTS.get(code, "reserved"),
            tray_open=bool(descriptor[1] & 0x01),
            media_present=bool(descriptor[1] & 0x02),
            start_slot=descriptor[2],
            end_slot=descriptor[3],
        )
    return EventStatus(
        no_event_available=nea,
        event_class=event_class,
        event_class_name=EVENT_CLASSES.get(event_class, "reserved"),
        supported_classes=data[3],
        descriptor=descriptor,
        media=media,
    )
