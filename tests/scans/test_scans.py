"""Single interactive scans: the lifecycle, the filling rules, real-name delivery."""

from __future__ import annotations

from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.domain.lifecycle import CylinderState
from cylinder_trace.scans.models import Scan
from cylinder_trace.scans.schemas import ScanSchema
from tests.assertions import assert_error
from tests.scans.conftest import BRIEF_ID, PRE_OK, fill, scan
from tests.world import World

CODE = "CQDZ-500001"


def post(client: FlaskClient, world: World, body: dict, who: str = "a_operator"):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/scans", json=body, headers=world.auth(who))


def state(session: Session) -> Cylinder:
    session.expire_all()
    return session.scalar(select(Cylinder).where(Cylinder.code == CODE))


def test_a_whole_life(
    client: FlaskClient, world: World, cylinder, customer_id: int, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    supply = world.orgs["a_supply"].id
    steps = [
        ("a_operator", fill(CODE, 1), "full_at_station"),
        ("a_operator", scan("dispatch", CODE, 2, vehicle_plate="渝A12345"), "in_transit"),
        ("a_courier", scan("store", CODE, 3, site_id=supply), "at_supply_point"),
        (
            "a_courier",
            scan("deliver", CODE, 4, buyer={"customer_id": customer_id}),
            "with_customer",
        ),
        ("a_courier", scan("collect", CODE, 5), "in_transit"),
        ("a_operator", scan("receive_empty", CODE, 6), "empty_at_station"),
        ("a_operator", scan("send_for_inspection", CODE, 7), "in_inspection"),
        ("a_operator", scan("inspect", CODE, 8, inspection_result="pass"), "empty_at_station"),
        ("a_operator", fill(CODE, 9), "full_at_station"),
        ("a_admin", scan("stop", CODE, 10, reason="召回批次"), "full_at_station"),
        ("a_admin", scan("release", CODE, 11), "full_at_station"),
        ("a_admin", scan("scrap", CODE, 12, reason="报废"), "scrapped"),
    ]
    for who, body, expected in steps:
        response = post(client, world, body, who)
        assert response.status_code == 201, (body["kind"], response.get_json())
        answer = response.get_json()
        assert answer["result"] == "accepted"
        # Built from the written fields without the schema: the same as the stored row's dump.
        assert answer == ScanSchema().dump(db_session.get(Scan, answer["id"]))
        assert state(db_session).state.value == expected, body["kind"]
    # The registration record plus one record per scan, all in one chain.
    seqs = db_session.scalars(select(Scan.seq).where(Scan.chain_key == CODE).order_by(Scan.seq))
    assert list(seqs) == list(range(1, len(steps) + 2))
    response = post(client, world, scan("receive_empty", CODE, 13))
    assert_error(response, 422, "cylinder_scrapped")


@pytest.mark.parametrize(
    ("setup", "body", "code"),
    [
        (
            {},
            scan("fill", "CQDZ-999999", 1, gross_kg="30.9", pre_fill_check=PRE_OK),
            "cylinder_unknown",
        ),
        ({}, fill(CODE, 1, pre_fill_check=None), "pre_fill_check_missing"),
        ({}, fill(CODE, 1, pre_fill_check={**PRE_OK, "valve": False}), "pre_fill_check_failed"),
        ({"stopped": True}, fill(CODE, 1), "cylinder_stopped"),
        ({"next_inspection_due": date(2020, 1, 1)}, fill(CODE, 1), "inspection_overdue"),
        (
            {"scrap_date": date(2020, 1, 1), "next_inspection_due": date(2099, 1, 1)},
            fill(CODE, 1),
            "past_scrap_date",
        ),
        ({"state": CylinderState.IN_TRANSIT}, fill(CODE, 1), "transition_not_allowed"),
    ],
)
def test_each_filling_rule_refuses_and_records_the_refusal(
    client: FlaskClient,
    world: World,
    cylinder,
    db_session: Session,
    setup: dict,
    body: dict,
    code: str,
) -> None:  # type: ignore[no-untyped-def]
    if body.get("pre_fill_check") is None:
        body.pop("pre_fill_check", None)
    for name, value in setup.items():
        setattr(cylinder, name, value)
    db_session.flush()
    before = state(db_session).state
    response = post(client, world, body)
    assert_error(response, 422, code)
    assert state(db_session).state == before
    stored = db_session.scalar(select(Scan).where(Scan.event_id == _uuid(body["event_id"])))
    assert (stored.result.value, stored.result_code) == ("rejected", code)


def _uuid(text: str):  # type: ignore[no-untyped-def]
    import uuid

    return uuid.UUID(text)


def test_scrapped_cylinder_fill_is_refused(client: FlaskClient, world: World, cylinder) -> None:  # type: ignore[no-untyped-def]
    client.post(
        f"/api/v1/cylinders/{CODE}/scrap", json={"reason": "锈蚀"}, headers=world.auth("a_admin")
    )
    assert_error(post(client, world, fill(CODE, 1)), 422, "cylinder_scrapped")


def test_another_companys_cylinder_is_refused(
    client: FlaskClient, world: World, cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    response = post(client, world, fill(CODE, 1), who="b_operator")
    assert_error(response, 422, "not_own_cylinder")
    assert state(db_session).state == CylinderState.REGISTERED


def test_forged_label_is_refused(client: FlaskClient, world: World, cylinder) -> None:  # type: ignore[no-untyped-def]
    body = fill(CODE, 1)
    del body["code"]
    body["qr"] = "HTTP://127.0.0.1:5000/C/CQDZ-500001.1AAAAAAAAAAAA"
    assert_error(post(client, world, body), 422, "label_invalid")


def test_genuine_label_payload_works(client: FlaskClient, world: World, cylinder) -> None:  # type: ignore[no-untyped-def]
    payload = client.get(f"/api/v1/cylinders/{CODE}", headers=world.auth("a_admin")).get_json()[
        "label_payload"
    ]
    body = fill(CODE, 1)
    del body["code"]
    body["qr"] = payload
    assert post(client, world, body).status_code == 201


def test_overfilled_cylinder_cannot_leave_until_reweighed(
    client: FlaskClient, world: World, cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    response = post(client, world, fill(CODE, 1, gross="31.50"))  # net 15.10 > 14.5 + 0.5
    assert response.status_code == 201
    assert response.get_json()["outcome"] == "overfilled"
    assert state(db_session).overfilled is True
    refused = post(client, world, scan("dispatch", CODE, 2, vehicle_plate="渝A12345"))
    assert_error(refused, 422, "overfilled_cannot_dispatch")
    reweigh = post(client, world, scan("reweigh", CODE, 3, gross_kg="30.80"))
    assert reweigh.get_json()["outcome"] == "ok"
    assert state(db_session).overfilled is False
    assert (
        post(client, world, scan("dispatch", CODE, 4, vehicle_plate="渝A12345")).status_code == 201
    )


def test_underfilled_is_flagged(
    client: FlaskClient, world: World, cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    response = post(client, world, fill(CODE, 1, gross="30.30"))  # net 13.90 < 14.0
    assert response.get_json()["outcome"] == "underfilled"
    assert state(db_session).underfilled is True


def _ready_to_deliver(client: FlaskClient, world: World) -> None:
    post(client, world, fill(CODE, 1))
    post(client, world, scan("dispatch", CODE, 2, vehicle_plate="渝A12345"))


@pytest.mark.parametrize(
    ("buyer", "code"),
    [
        ({"customer_id": 999999}, "buyer_not_registered"),
        ({"id_number": "110105194912310021"}, "buyer_not_registered"),
        (
            {"card": "HTTP://127.0.0.1:5000/C/K/KAAAAAAAAAAAAAAAA.1AAAAAAAAAAAA"},
            "buyer_not_registered",
        ),
    ],
)
def test_delivery_to_an_unregistered_buyer_is_refused(
    client: FlaskClient, world: World, cylinder, db_session: Session, buyer: dict, code: str
) -> None:  # type: ignore[no-untyped-def]
    _ready_to_deliver(client, world)
    response = post(client, world, scan("deliver", CODE, 3, buyer=buyer), who="a_courier")
    assert_error(response, 422, code)
    assert state(db_session).state == CylinderState.IN_TRANSIT


def test_delivery_by_id_number_and_to_an_inactive_buyer(
    client: FlaskClient, world: World, cylinder, customer_id: int, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    _ready_to_deliver(client, world)
    client.patch(
        f"/api/v1/customers/{customer_id}", json={"active": False}, headers=world.auth("a_admin")
    )
    response = post(
        client, world, scan("deliver", CODE, 3, buyer={"id_number": BRIEF_ID}), who="a_courier"
    )
    assert_error(response, 422, "buyer_inactive")
    client.patch(
        f"/api/v1/customers/{customer_id}", json={"active": True}, headers=world.auth("a_admin")
    )
    response = post(
        client, world, scan("deliver", CODE, 4, buyer={"id_number": BRIEF_ID}), who="a_courier"
    )
    assert response.status_code == 201
    assert response.get_json()["customer_id"] == customer_id
    stored = db_session.scalar(select(Scan.data).where(Scan.customer_id == customer_id))
    assert BRIEF_ID not in str(stored)


def test_ysp118_is_not_delivered_into_a_household(
    client: FlaskClient, world: World, make_cylinder, customer_id: int
) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-118001", model="YSP118", tare_kg=60)
    post(client, world, scan("fill", "CQDZ-118001", 1, gross_kg="109.5", pre_fill_check=PRE_OK))
    post(client, world, scan("dispatch", "CQDZ-118001", 2, vehicle_plate="渝A12345"))
    response = post(
        client,
        world,
        scan("deliver", "CQDZ-118001", 3, buyer={"customer_id": customer_id}),
        who="a_courier",
    )
    assert_error(response, 422, "ysp118_indoor_forbidden")
    client.patch(
        f"/api/v1/customers/{customer_id}",
        json={"has_outdoor_cylinder_area": True},
        headers=world.auth("a_admin"),
    )
    response = post(
        client,
        world,
        scan("deliver", "CQDZ-118001", 4, buyer={"customer_id": customer_id}),
        who="a_courier",
    )
    assert response.status_code == 201, response.get_json()


def test_same_event_twice_answers_the_same_and_stores_once(
    client: FlaskClient, world: World, cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    body = fill(CODE, 1)
    first = post(client, world, body)
    again = post(client, world, body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert db_session.scalar(select(func.count()).select_from(Scan).where(Scan.kind == "fill")) == 1
    changed = {**body, "gross_kg": "31.00"}
    assert_error(post(client, world, changed), 409, "event_id_conflict")
    refused = fill(CODE, 2, pre_fill_check={**PRE_OK, "marking": False})
    # The cylinder is full already: that comes before the failed check.
    assert_error(post(client, world, refused), 422, "transition_not_allowed")
    assert_error(post(client, world, refused), 422, "transition_not_allowed")


def test_fill_check_answers_without_recording(
    client: FlaskClient, world: World, cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    before = db_session.scalar(select(func.count()).select_from(Scan))
    ok = client.post(
        "/api/v1/scans/fill-check", json={"code": CODE}, headers=world.auth("a_operator")
    ).get_json()
    assert ok["allowed"] is True and ok["reasons"] == []
    cylinder.next_inspection_due = date(2020, 1, 1)
    cylinder.stopped = True
    db_session.flush()
    refused = client.post(
        "/api/v1/scans/fill-check", json={"code": CODE}, headers=world.auth("a_operator")
    ).get_json()
    assert refused["allowed"] is False
    assert [r["code"] for r in refused["reasons"]] == ["cylinder_stopped", "inspection_overdue"]
    other = client.post(
        "/api/v1/scans/fill-check", json={"code": CODE}, headers=world.auth("b_operator")
    ).get_json()
    assert other["code"] == "not_own_cylinder" and other["cylinder"] is None
    assert db_session.scalar(select(func.count()).select_from(Scan)) == before


def test_bad_scans_get_clear_errors(client: FlaskClient, world: World, cylinder) -> None:  # type: ignore[no-untyped-def]
    assert_error(post(client, world, {"kind": "fill"}), 422, "validation_error")
    body = scan("dispatch", CODE, 1)
    assert_error(post(client, world, body), 422, "validation_error")  # vehicle_plate missing
    future = scan("receive_empty", CODE, 60 * 24 * 3)
    assert_error(post(client, world, future), 422, "occurred_at_in_future")
    naive = {**fill(CODE, 1), "occurred_at": "2026-01-01T10:00:00"}
    assert_error(post(client, world, naive), 422, "validation_error")
    assert_error(post(client, world, fill(CODE, 1), who="dazu_reviewer"), 403, "forbidden")


def test_single_scans_reuse_one_plan_for_the_cylinder_lock(
    client: FlaskClient, world: World, make_cylinder, db_session: Session, backend: str
) -> None:  # type: ignore[no-untyped-def]
    # A prepared statement with an array parameter is planned afresh on every execution
    # (PostgreSQL prefers the plan for the actual array): the lock took ~0.15 ms of server
    # CPU per scan that way. After five custom plans a plain "=" keeps the generic one.
    if backend != "postgresql":
        pytest.skip("PostgreSQL's plan cache")
    codes = [f"CQDZ-6000{n:02d}" for n in range(9)]
    for code in codes:
        make_cylinder(code)
    for minute, code in enumerate(codes):
        assert post(client, world, fill(code, minute)).status_code == 201
    plans = db_session.execute(
        text(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
            "WHERE statement LIKE 'SELECT cylinders.id%FOR UPDATE%' AND generic_plans > 0"
        )
    ).all()
    assert plans, "the cylinder lock is planned afresh on every scan"
    assert all(custom <= 5 for _generic, custom in plans)


def test_the_body_is_read_by_the_fast_reader_and_answers_as_the_schema(
    client: FlaskClient, world: World, cylinder, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from cylinder_trace.scans import api

    read: list[object] = []
    original = api.fast_scan_reader.load
    monkeypatch.setattr(
        api.fast_scan_reader, "load", lambda item: read.append(item) or original(item)
    )
    assert post(client, world, fill(CODE, 1)).status_code == 201
    assert len(read) == 1
    # A refusal of the shape is the schema's: the same fields, in the one error shape.
    response = post(client, world, {**fill(CODE, 2), "kind": "teleport"})
    assert_error(response, 422, "validation_error")
    assert list(response.get_json()["details"]["fields"]["json"]) == ["kind"]
