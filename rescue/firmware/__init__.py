"""Firmware images: reading .bin and BTC .HEX files, what is inside them, the catalog.

Everything here is pure data work on bytes the user supplied; nothing talks to a
drive. The flashing families (``rescue.families``) call ``load_firmware`` and
``validate_for_family`` before any write-class command, and ``rescue.firmware.plan``
before choosing which revision to write.
"""

from rescue.firmware.image import load_firmware, validate_for_family
from rescue.firmware.model import Checksum, FirmwareImage, Identity

__all__ = ["Checksum", "FirmwareImage", "Identity", "load_firmware", "validate_for_family"]
