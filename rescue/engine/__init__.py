"""The engine: every job rescue does to a drive, as functions a program can call.

Each takes a frozen record of options and one ``RunContext`` (console,
event listener, consent, journal, reports folder) and reports progress as
``Event`` values::

    from rescue.engine import FlashOptions, RunContext, flash
    report = flash(FlashOptions("/dev/sg3", "V0050.bin", no_backup=True),
                   RunContext(assume_yes=True, listener=print))

`rescue flash`/`backup`/`doctor`/`scan` (``rescue.ops``), the menu and
`rescue bench` (``rescue.bench``) are faces over these functions.
"""

from rescue.engine.backup import BackupOptions, backup
from rescue.engine.checkup import DoctorOptions, Outcome, ScanOptions, doctor, scan
from rescue.engine.context import STAGES, Event, Listener, RunContext
from rescue.engine.flash import FlashFailed, FlashJob, FlashOptions, FlashReport, flash

__all__ = [
    "STAGES",
    "BackupOptions",
    "DoctorOptions",
    "Event",
    "FlashFailed",
    "FlashJob",
    "FlashOptions",
    "FlashReport",
    "Listener",
    "Outcome",
    "RunContext",
    "ScanOptions",
    "backup",
    "doctor",
    "flash",
    "scan",
]
