"""rescue: identify, diagnose, back up and flash optical drives over raw SCSI."""

from rescue.terminal import adapt_stdio as _adapt_stdio

__version__ = "0.1.0"

# Before any command makes a console: ASCII on a 7-bit terminal (TERM=vt100, the
# boot image's serial line), so rich draws plain tables there (rescue/terminal.py).
_adapt_stdio()
