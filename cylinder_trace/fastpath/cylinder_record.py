"""A cylinder row as a plain record: what recording scans reads under lock and writes back.

``CylinderRecord`` stands in for the ORM ``Cylinder`` in the recording path
(``scans.store``, ``scans.services``): a batch of 500 scans reads 500 cylinders and writes
them back, and the ORM's per-object bookkeeping cost more than everything else together.
It holds the columns the rules read and a scan may change, reads its state as the ORM
cylinder does (``CylinderStateView``), and says which changeable columns moved.
tests/fastpath/test_cylinder_record.py holds it equal to the ORM cylinder (README.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from cylinder_trace.cylinders.models import Cylinder, CylinderStateView
from cylinder_trace.domain.history import Projection
from cylinder_trace.domain.lifecycle import CylinderSnapshot, CylinderState

# What a scan may change on the cylinder: its state and flags, and the rest of its
# projection (``domain.history.Projection``, ``scans.judging.store_projection``).
SNAPSHOT_COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(CylinderSnapshot))
PROJECTED: tuple[str, ...] = Projection._fields[1:]
CHANGEABLE = SNAPSHOT_COLUMNS + PROJECTED
# What the rules only read.
READ_ONLY = (
    "id",
    "code",
    "model",
    "owner_company_id",
    "filling_station_id",
    "tare_kg",
    "manufactured_on",
    "scrap_date_override",
    "registered_at",
)
NAMES = READ_ONLY + CHANGEABLE
# The columns to select, in the order ``CylinderRecord`` takes their values.
COLUMNS = [Cylinder.__table__.c[name] for name in NAMES]

_changeable_values = attrgetter(*CHANGEABLE)
_READ_ONLY_COUNT = len(READ_ONLY)


class CylinderRecord(CylinderStateView):
    """A cylinder row as the rules read it and the side effects change it."""

    __slots__ = (*READ_ONLY, *CHANGEABLE, "_loaded")

    def __init__(self, row: Sequence[Any]) -> None:
        """From the values of ``COLUMNS``, in that order (more may follow: ignored)."""
        for name, value in zip(NAMES, row, strict=False):
            setattr(self, name, value)
        self.state = CylinderState(self.state)  # as text when read straight from the driver
        self._loaded = tuple(row[_READ_ONLY_COUNT : len(NAMES)])

    def changes(self) -> dict[str, Any] | None:
        """Every changeable column with its value, or None if nothing changed."""
        now = _changeable_values(self)
        if now == self._loaded:
            return None
        return {"id": self.id, **dict(zip(CHANGEABLE, now, strict=True))}
