from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from cylinder_trace.customers.models import Customer
from tests.conftest import REGISTERED_AT
from tests.customers.helpers import BRIEF_ID, person
from tests.world import World

PRE_OK = {"appearance": True, "valve": True, "residual_liquid": True, "marking": True}
BASE_TIME = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


def at(minutes: int) -> str:
    return (BASE_TIME + timedelta(minutes=minutes)).isoformat()


def scan(kind: str, code: str, minute: int, **fields: Any) -> dict[str, Any]:
    body = {"event_id": str(uuid.uuid4()), "kind": kind, "code": code, "occurred_at": at(minute)}
    body.update(fields)
    return body


def fill(code: str, minute: int, gross: str = "30.90", **fields: Any) -> dict[str, Any]:
    # Tare 16.40 (the test cylinders) + 14.50 net = 30.90 gross: a YSP35.5 right on target.
    fields.setdefault("pre_fill_check", PRE_OK)
    return scan("fill", code, minute, gross_kg=gross, **fields)


@pytest.fixture
def customer_id(client: FlaskClient, world: World, db_session: Session) -> int:
    """A registered customer of company A, registered before the test's scans happen."""
    response = client.post("/api/v1/customers", json=person(), headers=world.auth("a_admin"))
    assert response.status_code == 201, response.get_json()
    created = response.get_json()["id"]
    db_session.execute(
        update(Customer).where(Customer.id == created).values(created_at=REGISTERED_AT)
    )
    db_session.expire_all()
    return created


@pytest.fixture
def cylinder(make_cylinder):  # type: ignore[no-untyped-def]
    return make_cylinder("CQDZ-500001", manufactured_on=date(2024, 3, 15))


__all__ = ["BRIEF_ID"]
