"""How CDBs reach a device: ``sgio`` (Linux), ``emulated`` (in process), ``replay``."""

from rescue.transport.base import Direction, Result, Transport

__all__ = ["Direction", "Result", "Transport"]
