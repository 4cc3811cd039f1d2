"""``CylinderRecord`` reads and changes a cylinder as the ORM ``Cylinder`` does.

The recording path locks cylinders as plain records (``scans.store.lock_cylinders``) and
writes back only what changed (``CylinderRecord.changes``): here a record and the ORM object
of the same row must read alike, and the same scan, judged on each, must leave the same
columns.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.domain.history import step
from cylinder_trace.domain.lifecycle import Outcome, ScanKind
from cylinder_trace.fastpath.cylinder_record import (
    CHANGEABLE,
    COLUMNS,
    NAMES,
    CylinderRecord,
)
from cylinder_trace.scans import store
from cylinder_trace.scans.judging import (
    identity_of,
    observation,
    place_of,
    projection_of,
    store_projection,
)
from tests.conftest import scan_context_for
from tests.world import World


def test_it_holds_every_projected_column_and_reads_as_the_orm(
    app: Flask, db_session: Session, world: World, make_cylinder: Any
) -> None:
    cylinder = make_cylinder("CQDZ-800001")
    assert set(CHANGEABLE) <= set(Cylinder.__table__.c.keys())
    record = CylinderRecord(db_session.execute(select(*COLUMNS)).one())
    assert record.changes() is None
    for name in NAMES:
        assert getattr(record, name) == getattr(cylinder, name), name
    assert record.snapshot == cylinder.snapshot
    assert record.is_scrapped == cylinder.is_scrapped
    rules = app.config["CT_SETTINGS"].rules
    assert identity_of(record, rules) == identity_of(cylinder, rules)
    assert projection_of(record) == projection_of(cylinder)


def test_the_same_scan_changes_both_alike(
    app: Flask, db_session: Session, world: World, make_cylinder: Any
) -> None:
    cylinder = make_cylinder("CQDZ-800002")
    ctx = scan_context_for(app, world.users["a_operator"])
    records, _ = store.lock_cylinders(db_session, [cylinder.code])
    record = records[cylinder.code]
    site = place_of(world.orgs["a_station"])
    for kind, outcome in ((ScanKind.FILL, Outcome.OK), (ScanKind.STOP, None)):
        when = ctx.now - timedelta(minutes=5)
        scan = observation(
            kind, when, when, uuid.uuid4(), outcome, site, None, {"reason": "x"}, ctx.rules
        )
        for target in (record, cylinder):
            _, after = step(
                identity_of(target, ctx.rules), projection_of(target), scan, ctx.rules, ctx.tz
            )
            store_projection(target, after)
        changes = record.changes()
        assert changes is not None
        assert changes == {
            "id": cylinder.id,
            **{name: getattr(cylinder, name) for name in CHANGEABLE},
        }
