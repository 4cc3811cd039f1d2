"""Every allowed transition is accepted, every forbidden one refused, through the API."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.db import utcnow
from cylinder_trace.domain.lifecycle import TRANSITIONS, CylinderState, Outcome, ScanKind
from tests.scans.conftest import PRE_OK, scan
from tests.world import World

CODE = "CQDZ-500001"
PAYLOAD = {
    ScanKind.FILL: ({"gross_kg": "30.90", "pre_fill_check": PRE_OK}, Outcome.OK),
    ScanKind.REWEIGH: ({"gross_kg": "30.90"}, Outcome.OK),
    ScanKind.INSPECT: ({"inspection_result": "pass"}, Outcome.PASS),
    ScanKind.DISPATCH: ({"vehicle_plate": "渝A12345"}, None),
    ScanKind.SCRAP: ({"reason": "测试报废"}, None),
    ScanKind.STOP: ({"reason": "测试停用"}, None),
}
CASES = [(state, kind) for state in CylinderState for kind in ScanKind if kind != ScanKind.REGISTER]


@pytest.mark.parametrize(("state", "kind"), CASES, ids=[f"{s}-{k}" for s, k in CASES])
def test_transition(
    client: FlaskClient,
    world: World,
    cylinder,
    customer_id: int,
    db_session: Session,
    state: CylinderState,
    kind: ScanKind,
) -> None:  # type: ignore[no-untyped-def]
    cylinder.state = state
    if state == CylinderState.SCRAPPED:
        cylinder.scrapped_at = utcnow()
    db_session.flush()
    fields, outcome = PAYLOAD.get(kind, ({}, None))
    if kind == ScanKind.DELIVER:
        fields = {"buyer": {"customer_id": customer_id}}
    who = "a_operator" if kind in (ScanKind.FILL, ScanKind.REWEIGH) else "a_admin"
    response = client.post(
        "/api/v1/scans", json=scan(kind.value, CODE, 1, **fields), headers=world.auth(who)
    )
    target = TRANSITIONS.get((state, kind, outcome))
    db_session.expire_all()
    now = db_session.scalar(select(Cylinder.state).where(Cylinder.code == CODE))
    if target is not None and kind != ScanKind.RELEASE:
        assert response.status_code == 201, response.get_json()
        assert now == target
    else:
        assert response.status_code == 422, response.get_json()
        assert response.get_json()["code"] in {
            "transition_not_allowed",
            "cylinder_scrapped",
            "cylinder_not_stopped",
        }
        assert now == state
