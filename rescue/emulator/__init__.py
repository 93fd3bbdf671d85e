"""Device-side models of optical drives.

Independent of the host side: nothing here imports ``rescue.scsi``,
``rescue.drive``, ``rescue.families``, ``rescue.firmware`` or ``rescue.ops``.
Models are written from the public protocol facts (docs/protocols.md) so
that host and device are two implementations checked against each other.

Map: ``base`` (the Device/Reply/Clock contract), ``sense`` (fixed sense),
``disc`` (the medium), ``faults`` (fault rules), ``mmc`` (the generic drive),
``btc`` + ``images`` (BTC DRW-1004IM and every family's flash images),
``flashable`` (what every flash-holding model shares) and one module per
family (``mt1939``, ``plextor``, ``tsst``, ``mt1959``, ``spc``, ``pioneer``), ``registry``
(names and the spec grammar), ``tcmu*`` (the bridge to a real kernel).
"""
