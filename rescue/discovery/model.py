"""What discovery reports: plain frozen records, free of any I/O.

They are kept apart from the readers so that the CLI, the report writer and
the tests can build and print them without touching /sys or udev.
"""

from __future__ import annotations

from rescue.record import field, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without typing (docs/architecture.md, "Start-up")
if TYPE_CHECKING:
    from rescue.discovery.path import PathInfo

TRANSPORTS = ("ata", "usb", "scsi", "virtio", "tcm_loop", "unknown")


@record(frozen=True)
class Media:
    """Disc state as udev's ``cdrom_id`` last saw it (discovery sends no command).

    ``kinds`` are the lower-cased suffixes of the ``ID_CDROM_MEDIA_<KIND>=1``
    flags (e.g. ``dvd_plus_r``); ``state`` is ``ID_CDROM_MEDIA_STATE``
    (blank, appendable, complete, other) when udev gives one.
    """

    present: bool
    kinds: tuple[str, ...] = ()
    state: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"present": self.present, "kinds": list(self.kinds), "state": self.state}


@record(frozen=True)
class DriveNode:
    """One optical drive (SCSI peripheral type 5) as the kernel shows it.

    ``index`` is the drive's place in H:C:T:L order, which is what a user
    types after reading ``rescue list``. ``sr``/``sg`` are device node paths
    (None when that driver is not bound). ``host`` is the SCSI host's
    ``proc_name`` (e.g. ``ahci``, ``usb-storage``, ``virtio_scsi``).
    ``usb_id`` ("VID:PID", lower-case hex) and ``usb_product`` describe the
    USB bridge, not the drive: bridges matter because some of them filter
    vendor commands that flashing needs.
    """

    index: int
    hctl: str
    sr: str | None
    sg: str | None
    vendor: str | None
    model: str | None
    revision: str | None
    transport: str
    driver: str | None
    host: str | None = None
    usb_id: str | None = None
    usb_product: str | None = None
    media: Media | None = None
    capabilities: tuple[str, ...] = ()
    sysfs_path: str | None = None
    path: PathInfo | None = None  # how it is attached and what the path lets through

    @property
    def name(self) -> str:
        """The node a person would recognise: the sr node, else the sg node, else H:C:T:L."""
        return self.sr or self.sg or self.hctl

    def to_dict(self) -> dict[str, object]:
        return {
            "index": self.index,
            "hctl": self.hctl,
            "sr": self.sr,
            "sg": self.sg,
            "vendor": self.vendor,
            "model": self.model,
            "revision": self.revision,
            "transport": self.transport,
            "driver": self.driver,
            "host": self.host,
            "usb_id": self.usb_id,
            "usb_product": self.usb_product,
            "media": self.media.to_dict() if self.media else None,
            "capabilities": list(self.capabilities),
            "sysfs_path": self.sysfs_path,
            "path": self.path.to_dict() if self.path else None,
        }


@record(frozen=True)
class SkippedDevice:
    """A SCSI device discovery looked at and left out, with the reason why."""

    name: str
    reason: str
    path: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "reason": self.reason, "path": self.path}


@record(frozen=True)
class Inventory:
    """The result of one discovery pass.

    ``source`` says where the facts came from ("udev" or "sysfs");
    ``fallback_reason`` says why udev was not used when it was not.
    """

    source: str
    drives: list[DriveNode] = field(default_factory=list)
    skipped: list[SkippedDevice] = field(default_factory=list)
    fallback_reason: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "fallback_reason": self.fallback_reason,
            "drives": [d.to_dict() for d in self.drives],
            "skipped": [s.to_dict() for s in self.skipped],
        }
