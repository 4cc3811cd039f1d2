"""Rebuild cylinder rows from their scans: the row is a cache of the history's replay.

``rebuild_projections`` replays every cylinder's kept scans from its registration (the
same ``domain.history.replay`` a late upload runs) and compares the projection with the
row. A difference means the row was changed outside the one write path (or by a bug);
the command names each one and, unless asked only to check, writes the replayed values.
Cylinders are taken in chunks, each locked while it is replayed, so that scans arriving
meanwhile wait rather than interleave.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.domain.history import Projection
from cylinder_trace.domain.rules import RuleSettings
from cylinder_trace.fastpath.cylinder_record import PROJECTED, SNAPSHOT_COLUMNS
from cylinder_trace.scans.judging import (
    load_buyers,
    load_histories,
    load_places,
    projection_of,
    store_projection,
)
from cylinder_trace.scans.rejudge import replay_stored

CHUNK = 500


@dataclass(frozen=True, slots=True)
class Difference:
    """One column of one cylinder row that its history does not support."""

    code: str
    column: str
    stored: Any
    replayed: Any

    def __str__(self) -> str:
        return f"{self.code}: {self.column} is {self.stored!r}, its scans say {self.replayed!r}"


def _values(projection: Projection) -> dict[str, Any]:
    snapshot = projection.snapshot
    values = {name: getattr(snapshot, name) for name in SNAPSHOT_COLUMNS}
    values.update((name, getattr(projection, name)) for name in PROJECTED)
    return values


def _same(stored: Any, replayed: Any) -> bool:
    if isinstance(stored, datetime) and isinstance(replayed, datetime):
        # A backend without zones hands back naive UTC; compare instants.
        return _utc(stored) == _utc(replayed)
    return stored == replayed


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _chunks(session: Session) -> Iterator[list[Cylinder]]:
    after = 0
    while True:
        chunk = list(
            session.scalars(
                select(Cylinder)
                .where(Cylinder.id > after)
                .order_by(Cylinder.id)
                .limit(CHUNK)
                .with_for_update()
            )
        )
        if not chunk:
            return
        yield chunk
        after = chunk[-1].id


def rebuild_projections(
    session: Session, rules: RuleSettings, zone: tzinfo, *, write: bool = True
) -> tuple[int, list[Difference]]:
    """Replay every cylinder's history; return how many were checked and every difference.

    With ``write`` the rows take the replayed values (flushed, not committed).
    """
    checked = 0
    differences: list[Difference] = []
    for chunk in _chunks(session):
        histories = load_histories(session, {cylinder.id: cylinder.code for cylinder in chunk})
        events = [event for history in histories.values() for event in history]
        places = load_places(session, (event.site_id for event in events))
        buyers = load_buyers(session, (event.customer_id for event in events))
        for cylinder in chunk:
            _, judged = replay_stored(rules, zone, cylinder, histories[cylinder.id], places, buyers)
            stored, replayed = _values(projection_of(cylinder)), _values(judged.projection)
            found = [
                Difference(cylinder.code, name, stored[name], replayed[name])
                for name in stored
                if not _same(stored[name], replayed[name])
            ]
            if found and write:
                store_projection(cylinder, judged.projection)
            differences += found
            checked += 1
        session.flush()
    return checked, differences
