"""Periodic inspection, scrap, and verifying scanned labels."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cylinder_trace.cylinders.models import CylinderInspection
from cylinder_trace.cylinders.scanned_labels import resolve_scanned_cylinder, signer_for
from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.lifecycle import CylinderState
from cylinder_trace.qr_labels.signing import LabelSigner
from cylinder_trace.scans.models import Scan
from tests.assertions import assert_error
from tests.conftest import business_today
from tests.world import World


def test_passed_inspection_moves_the_due_date_on(
    client: FlaskClient, world: World, make_cylinder
) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-000001", manufactured_on=date(2021, 6, 1))
    response = client.post(
        "/api/v1/cylinders/CQDZ-000001/inspections",
        json={
            "inspected_on": "2025-05-20",
            "passed": True,
            "inspection_body": "重庆特检院",
            "certificate_no": "CQTJ-2025-0042",
        },
        headers=world.auth("a_admin"),
    )
    assert response.status_code == 201, response.get_json()
    cylinder = response.get_json()["cylinder"]
    assert cylinder["last_inspected_on"] == "2025-05-20"
    assert cylinder["next_inspection_due"] == "2029-05-20"
    assert cylinder["scrap_date"] == "2029-06-01"


def test_failed_inspection_scraps_and_revokes(
    client: FlaskClient, world: World, make_cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-000002", manufactured_on=date(2021, 6, 1))
    response = client.post(
        "/api/v1/cylinders/CQDZ-000002/inspections",
        json={"inspected_on": "2025-05-20", "passed": False, "inspection_body": "重庆特检院"},
        headers=world.auth("a_operator"),
    )
    assert response.status_code == 201
    cylinder = response.get_json()["cylinder"]
    assert cylinder["state"] == "scrapped"
    assert "failed periodic inspection" in cylinder["scrap_reason"]
    again = client.post(
        "/api/v1/cylinders/CQDZ-000002/inspections",
        json={"inspected_on": "2025-06-20", "passed": True, "inspection_body": "重庆特检院"},
        headers=world.auth("a_operator"),
    )
    assert_error(again, 422, "cylinder_scrapped")
    assert db_session.scalar(select(func.count()).select_from(CylinderInspection)) == 1


@pytest.mark.parametrize(
    ("inspected_on", "code"),
    [("2099-01-01", "inspection_date_invalid"), ("2020-01-01", "inspection_date_invalid")],
)
def test_impossible_inspection_dates_are_refused(
    client: FlaskClient,
    world: World,
    make_cylinder,
    db_session: Session,
    inspected_on: str,
    code: str,
) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-000003", manufactured_on=date(2021, 6, 1))
    response = client.post(
        "/api/v1/cylinders/CQDZ-000003/inspections",
        json={"inspected_on": inspected_on, "passed": True, "inspection_body": "x"},
        headers=world.auth("a_admin"),
    )
    assert_error(response, 422, code)
    assert db_session.scalar(select(func.count()).select_from(CylinderInspection)) == 0


def test_inspection_returns_a_cylinder_in_inspection_to_the_station(
    client: FlaskClient, world: World, make_cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    cylinder = make_cylinder("CQDZ-000004", manufactured_on=date(2021, 6, 1))
    sent = {
        "event_id": str(uuid.uuid4()),
        "kind": "send_for_inspection",
        "code": "CQDZ-000004",
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    assert client.post("/api/v1/scans", json=sent, headers=world.auth("a_admin")).status_code == 201
    response = client.post(
        "/api/v1/cylinders/CQDZ-000004/inspections",
        json={"inspected_on": business_today().isoformat(), "passed": True, "inspection_body": "x"},
        headers=world.auth("a_admin"),
    )
    assert response.status_code == 201, response.get_json()
    db_session.refresh(cylinder)
    assert cylinder.state == CylinderState.EMPTY_AT_STATION
    assert cylinder.last_inspected_on == business_today()
    # The inspection is a step of the cylinder's life: on its timeline and in its chain.
    kinds = list(
        db_session.scalars(
            select(Scan.kind).where(Scan.cylinder_id == cylinder.id).order_by(Scan.seq)
        )
    )
    assert kinds == ["register", "send_for_inspection", "inspect"]
    inspect = db_session.scalar(select(Scan).where(Scan.kind == "inspect"))
    assert (inspect.result, inspect.review_code) == ("accepted", None)


def test_scrapping_twice_is_refused(client: FlaskClient, world: World, make_cylinder) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-000005")
    url = "/api/v1/cylinders/CQDZ-000005/scrap"
    assert (
        client.post(url, json={"reason": "漏气"}, headers=world.auth("a_admin")).status_code == 200
    )
    assert_error(
        client.post(url, json={"reason": "again"}, headers=world.auth("a_admin")),
        422,
        "cylinder_scrapped",
    )


def payload_of(client: FlaskClient, world: World, code: str) -> str:
    return client.get(f"/api/v1/cylinders/{code}", headers=world.auth("a_admin")).get_json()[
        "label_payload"
    ]


def test_genuine_label_verifies_publicly(client: FlaskClient, world: World, make_cylinder) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-000006")
    payload = payload_of(client, world, "CQDZ-000006")
    response = client.get("/api/v1/labels/verify", query_string={"payload": payload})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["code"], body["model"], body["owner_name"]) == (
        "CQDZ-000006",
        "YSP35.5",
        "大足燃气",
    )
    assert body["inspection_overdue"] is False
    # Scanners and people may lower-case the scheme and host; the label stays genuine.
    lowered = payload.replace("HTTP://127.0.0.1:5000", "http://127.0.0.1:5000")
    assert client.get("/api/v1/labels/verify", query_string={"payload": lowered}).status_code == 200


def test_forged_altered_and_unissued_labels_are_invalid(
    app: Flask, client: FlaskClient, world: World, make_cylinder
) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-000007")
    make_cylinder("CQDZ-000008")
    genuine = payload_of(client, world, "CQDZ-000007")
    settings = app.config["CT_SETTINGS"]
    forger = LabelSigner(settings.label_base_url, {"1": b"f" * 32}, "1")
    cases = {
        "bad_signature": forger.sign("CQDZ-000007"),
        "altered": genuine.replace("CQDZ-000007", "CQDZ-000008"),
        "unknown_key": genuine.replace(".1", ".9", 1),
        "wrong_base": genuine.replace("127.0.0.1:5000", "evil.example"),
        "unissued": signer_for(settings).sign("CQDZ-999999"),
        "garbage": "hello",
    }
    for name, payload in cases.items():
        response = client.get("/api/v1/labels/verify", query_string={"payload": payload})
        assert response.status_code == 422, name
        assert response.get_json()["code"] == "label_invalid", name


def test_labels_still_verify_after_key_rotation(
    app: Flask, world: World, make_cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-000011")
    base = app.config["CT_SETTINGS"].label_base_url
    old = LabelSigner(base, {"1": b"o" * 32}, "1")
    printed = old.sign("CQDZ-000011")
    rotated = LabelSigner(base, {"1": b"o" * 32, "2": b"n" * 32}, "2")
    assert rotated.sign("CQDZ-000011") != printed
    assert resolve_scanned_cylinder(db_session, rotated, printed).code == "CQDZ-000011"
    retired = LabelSigner(base, {"2": b"n" * 32}, "2")
    with pytest.raises(DomainError) as refused:
        resolve_scanned_cylinder(db_session, retired, printed)
    assert refused.value.code == "label_invalid"


def test_scrapped_cylinder_scan_is_refused(
    client: FlaskClient, world: World, make_cylinder
) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-000012")
    payload = payload_of(client, world, "CQDZ-000012")
    client.post(
        "/api/v1/cylinders/CQDZ-000012/scrap",
        json={"reason": "锈蚀"},
        headers=world.auth("a_admin"),
    )
    response = client.get("/api/v1/labels/verify", query_string={"payload": payload})
    assert_error(response, 422, "cylinder_scrapped")
