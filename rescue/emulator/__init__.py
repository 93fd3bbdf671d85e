"""Device-side models of optical drives.

Independent of the host side: nothing here imports ``rescue.scsi``,
``rescue.drive`` or ``rescue.families``. Models are written from the public
protocol facts (shared PROTOCOLS.md) so that host and device are two
implementations checked against each other.
"""
