"""Tamper evidence, and the trace queries built on the scan records."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cylinder_trace.scans.chain import verify_chains
from cylinder_trace.scans.models import Scan
from tests.scans.conftest import BASE_TIME, fill, scan
from tests.world import World

CODE = "CQDZ-500001"


def _history(client: FlaskClient, world: World, customer_id: int) -> None:
    steps = [
        ("a_operator", fill(CODE, 1)),
        ("a_operator", scan("dispatch", CODE, 2, vehicle_plate="渝A12345")),
        ("a_courier", scan("deliver", CODE, 30, buyer={"customer_id": customer_id})),
        ("a_courier", scan("collect", CODE, 90)),
        ("a_operator", scan("receive_empty", CODE, 120)),
    ]
    for who, body in steps:
        assert client.post("/api/v1/scans", json=body, headers=world.auth(who)).status_code == 201


def test_verifier_passes_an_untouched_history(
    client: FlaskClient, world: World, cylinder, customer_id: int, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    _history(client, world, customer_id)
    checked, problems = verify_chains(db_session)
    assert checked >= 6 and problems == []


def test_verifier_names_an_edited_record(
    client: FlaskClient, world: World, cylinder, customer_id: int, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    _history(client, world, customer_id)
    target = db_session.scalar(select(Scan).where(Scan.kind == "deliver"))
    db_session.execute(
        update(Scan).where(Scan.id == target.id).values(occurred_at=BASE_TIME + timedelta(hours=5))
    )
    _, problems = verify_chains(db_session)
    assert [(p.scan_id, p.problem) for p in problems] == [(target.id, "altered")]


def test_verifier_names_a_deleted_record_and_a_removed_tail(
    app: Flask, client: FlaskClient, world: World, cylinder, customer_id: int, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    _history(client, world, customer_id)
    middle = db_session.scalar(select(Scan).where(Scan.kind == "dispatch"))
    last = db_session.scalar(select(Scan).where(Scan.kind == "receive_empty"))
    db_session.execute(delete(Scan).where(Scan.id.in_([middle.id, last.id])))
    _, problems = verify_chains(db_session)
    assert sorted((p.chain_key, p.seq, p.problem) for p in problems) == [
        (CODE, middle.seq, "removed"),
        (CODE, last.seq, "removed"),
    ]
    result = app.test_cli_runner().invoke(args=["scans", "verify-chains"])
    assert result.exit_code == 1
    assert f"{CODE} #{middle.seq}: a record removed" in result.output


def test_timeline_whereabouts_and_holdings(
    client: FlaskClient, world: World, cylinder, customer_id: int
) -> None:  # type: ignore[no-untyped-def]
    _history(client, world, customer_id)
    headers = world.auth("a_admin")
    events = client.get(f"/api/v1/cylinders/{CODE}/events", headers=headers).get_json()
    # The fixture registers the cylinder now and the scans happened yesterday.
    assert [e["kind"] for e in events if e["kind"] != "register"] == [
        "fill",
        "dispatch",
        "deliver",
        "collect",
        "receive_empty",
    ]
    assert [e["kind"] for e in events].count("register") == 1
    at_45 = (BASE_TIME + timedelta(minutes=45)).isoformat()
    then = client.get(
        f"/api/v1/cylinders/{CODE}/whereabouts", query_string={"at": at_45}, headers=headers
    ).get_json()
    assert (then["state"], then["holder_customer_id"]) == ("with_customer", customer_id)
    now = client.get(f"/api/v1/cylinders/{CODE}/whereabouts", headers=headers).get_json()
    assert (now["state"], now["holder_customer_id"]) == ("empty_at_station", None)
    assert now["location_id"] == world.orgs["a_station"].id
    assert client.get(f"/api/v1/customers/{customer_id}/holdings", headers=headers).get_json() == []


def test_holdings_follow_deliver_and_collect(
    client: FlaskClient, world: World, make_cylinder, customer_id: int
) -> None:  # type: ignore[no-untyped-def]
    codes = ["CQDZ-600001", "CQDZ-600002"]
    for code in codes:
        make_cylinder(code)
        for who, body in (
            ("a_operator", fill(code, 1)),
            ("a_operator", scan("dispatch", code, 2, vehicle_plate="渝A12345")),
            ("a_courier", scan("deliver", code, 3, buyer={"customer_id": customer_id})),
        ):
            client.post("/api/v1/scans", json=body, headers=world.auth(who))
    url = f"/api/v1/customers/{customer_id}/holdings"
    held = client.get(url, headers=world.auth("a_admin")).get_json()
    assert [c["code"] for c in held] == codes and all(c["held_since"] for c in held)
    client.post("/api/v1/scans", json=scan("collect", codes[0], 4), headers=world.auth("a_courier"))
    assert [c["code"] for c in client.get(url, headers=world.auth("a_admin")).get_json()] == [
        codes[1]
    ]


def test_station_day_and_regulator_review(
    client: FlaskClient, world: World, cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    client.post("/api/v1/scans", json=fill(CODE, 1), headers=world.auth("a_operator"))
    client.post("/api/v1/scans", json=fill("CQDZ-999999", 2), headers=world.auth("a_operator"))
    # The day of the fill (minute 1), which may be the day after BASE_TIME's.
    day = (BASE_TIME + timedelta(minutes=1)).astimezone(ZoneInfo("Asia/Shanghai")).date()
    station = world.orgs["a_station"].id
    fills = client.get(
        f"/api/v1/scans?site_id={station}&kind=fill&day={day}&result=accepted",
        headers=world.auth("a_admin"),
    ).get_json()
    assert [f["cylinder_code"] for f in fills] == [CODE]
    refused = client.get("/api/v1/scans?result=rejected", headers=world.auth("city_regulator"))
    assert [r["scanned"] for r in refused.get_json()] == ["CQDZ-999999"]
    elsewhere = client.get("/api/v1/scans?result=rejected", headers=world.auth("yubei_reviewer"))
    assert elsewhere.get_json() == []
