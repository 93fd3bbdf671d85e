"""rescue: identify, diagnose, back up and flash optical drives over raw SCSI."""

__version__ = "0.1.0"
