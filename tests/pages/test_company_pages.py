"""/company/...: customers masked, cylinders and their timelines, scans to review."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.customers.helpers import BRIEF_ID, person
from tests.pages.helpers import login, text
from tests.world import World

GOOD = "CQDZ-800001"
OVERDUE = "CQDZ-800002"
PRE_OK = {"appearance": True, "valve": True, "residual_liquid": True, "marking": True}


def fill(code: str, minutes_ago: int) -> dict[str, Any]:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    return {
        "event_id": str(uuid.uuid4()),
        "kind": "fill",
        "code": code,
        "occurred_at": at.isoformat(),
        "gross_kg": "30.90",
        "pre_fill_check": PRE_OK,
    }


def test_customers_show_masked_id_numbers_only(
    client: FlaskClient, db_session: Session, world: World
) -> None:
    client.post("/api/v1/customers", json=person(), headers=world.auth("a_admin"))
    client.post("/api/v1/customers", json=person(name="李四渝北"), headers=world.auth("b_admin"))
    login(client, db_session, world.users["a_admin"])
    page = text(client.get("/company/customers"))
    assert "张三" in page
    assert "110105********002X" in page
    assert BRIEF_ID not in page
    assert "李四渝北" not in page  # another company's customer
    assert "张三" not in text(client.get("/company/customers?kind=business"))


def test_cylinders_timeline_and_review(
    client: FlaskClient, db_session: Session, world: World, make_cylinder: Any
) -> None:
    make_cylinder(GOOD)
    make_cylinder(OVERDUE, manufactured_on=date.today() - timedelta(days=5 * 365))
    make_cylinder("CQYB-800003", company="b")
    auth = world.auth("a_operator")
    assert client.post("/api/v1/scans", json=fill(GOOD, 30), headers=auth).status_code == 201
    assert client.post("/api/v1/scans", json=fill(OVERDUE, 20), headers=auth).status_code == 422
    login(client, db_session, world.users["a_admin"])

    listing = text(client.get("/company/cylinders"))
    assert GOOD in listing and OVERDUE in listing
    assert "CQYB-800003" not in listing
    overdue_only = text(client.get("/company/cylinders?overdue=1"))
    assert OVERDUE in overdue_only and GOOD not in overdue_only
    assert OVERDUE not in text(client.get("/company/cylinders?q=800001"))

    timeline = text(client.get(f"/company/cylinders/{GOOD}")).split('data-testid="timeline"')[1]
    assert "登记" in timeline and "充装" in timeline and "14.50 kg" in timeline
    refused = text(client.get(f"/company/cylinders/{OVERDUE}")).split('data-testid="timeline"')[1]
    assert "已拒绝" in refused and "超过定期检验日期" in refused
    assert client.get("/company/cylinders/CQYB-800003").status_code == 404

    review = text(client.get("/company/review")).split('data-testid="review"')[1]
    assert OVERDUE in review
    assert GOOD not in review
    assert "超过定期检验日期" in review
    assert "Periodic inspection overdue" not in review
    english = text(client.get("/company/review?lang=en"))
    assert "Scans waiting for review" in english
    assert "The periodic inspection is overdue" in english
