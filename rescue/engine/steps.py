"""A flash's step list worked out once, before the bench forks a worker per drive.

Building a 1 MiB image's 258 WRITE BUFFER steps (CDBs, 4 KiB slices, the
checksum header's sum over the whole image) cost each bench worker about
0.6 s of CPU under QEMU's TCG, all workers at once. ``planned`` builds them in
the parent for each drive model the batch holds; ``steps_for`` hands a worker
that list only when every input of ``Family.flash_steps`` is the same: the
family, the very image bytes (the pinned image, unchanged by the family's
``prepare``) and the drive's INQUIRY vendor, product and revision, which is
all a family may read of the identity (``rescue.families.base.Identity``).
Anything else builds its own list, as a lone flash does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

from rescue.families import Family, Step
from rescue.families.base import Identity
from rescue.record import record


@record(frozen=True)
class DriveModel:
    """A drive's INQUIRY strings: all of its identity a family's step list may depend on."""

    vendor: str
    product: str
    revision: str


_PLANNED: list[tuple[str, DriveModel, bytes, tuple[Step, ...]]] = []


def _key(identity: Identity) -> DriveModel:
    return DriveModel(identity.vendor, identity.product, identity.revision)


@contextlib.contextmanager
def planned(family: Family, data: bytes, models: Iterable[DriveModel]) -> Iterator[None]:
    """Within the block, ``steps_for`` finds FAMILY's steps of DATA for each of MODELS
    without building them again."""
    added = []
    for known in set(models):
        try:
            steps = tuple(family.flash_steps(data, known))
        except Exception:  # noqa: BLE001 - the worker meets it again, for its own drive
            continue
        added.append((family.name, known, data, steps))
    _PLANNED.extend(added)
    try:
        yield
    finally:
        _PLANNED[:] = [e for e in _PLANNED if not any(e is a for a in added)]


def steps_for(family: Family, data: bytes, identity: Identity) -> list[Step]:
    """FAMILY's steps for DATA on the drive IDENTITY: planned ones when the inputs are the same."""
    key = _key(identity)
    for name, known, planned_data, steps in _PLANNED:
        if name == family.name and planned_data is data and known == key:
            return list(steps)
    return family.flash_steps(data, identity)
