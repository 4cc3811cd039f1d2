"""Offline batches: per-item results, idempotency, late scans, never losing what was seen."""

from __future__ import annotations

import uuid

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.scans.models import Scan
from cylinder_trace.scans.schemas import BatchResultSchema
from tests.assertions import assert_error
from tests.scans.conftest import fill, scan
from tests.world import World

CODE = "CQDZ-500001"


def upload(client: FlaskClient, world: World, scans: list, who: str = "a_handheld"):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/scans/batch", json={"scans": scans}, headers=world.auth(who))


def rows(session: Session) -> list[tuple]:
    session.expire_all()
    return list(
        session.execute(
            select(Scan.event_id, Scan.result, Scan.result_code, Scan.seq, Scan.record_hash)
            .where(Scan.kind != "register")
            .order_by(Scan.id)
        )
    )


def cylinder_state(session: Session, code: str = CODE) -> Cylinder:
    session.expire_all()
    return session.scalar(select(Cylinder).where(Cylinder.code == code))


def test_mixed_batch_each_item_gets_its_own_result(
    client: FlaskClient, world: World, cylinder, customer_id: int, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    filled = fill(CODE, 1)
    client.post("/api/v1/scans", json=filled, headers=world.auth("a_operator"))
    items = [
        # The courier loads at the station: the scan names it (the courier's own site is
        # the supply point, where the cylinder is not).
        scan("dispatch", CODE, 2, vehicle_plate="渝A12345", site_id=world.orgs["a_station"].id),
        {"kind": "store"},  # malformed: rejected, not stored
        scan("deliver", CODE, 3, buyer={"customer_id": 424242}),  # unknown buyer: flagged
        scan("collect", "CQDZ-999999", 4),  # unknown cylinder: rejected, stored
        filled,  # already stored: duplicate
        scan("collect", CODE, 5),  # accepted
    ]
    response = upload(client, world, items)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [(r["status"], r["code"]) for r in results] == [
        ("accepted", None),
        ("rejected", "validation_error"),
        ("accepted_with_violation", "buyer_not_registered"),
        ("rejected", "cylinder_unknown"),
        ("duplicate", None),
        ("accepted", None),
    ]
    assert results[4]["original_status"] == "accepted"
    # Answered without the schema's dump: it must still be exactly what the schema gives.
    assert BatchResultSchema().dump(response.get_json()) == response.get_json()
    assert response.get_json()["counts"] == {
        "accepted": 2,
        "rejected": 2,
        "accepted_with_violation": 1,
        "duplicate": 1,
    }
    assert cylinder_state(db_session).state.value == "in_transit"
    assert (
        db_session.scalar(
            select(func.count()).select_from(Scan).where(Scan.scanned == "CQDZ-999999")
        )
        == 1
    )


def test_a_batch_replayed_three_times_leaves_the_same_rows(
    client: FlaskClient, world: World, cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    client.post("/api/v1/scans", json=fill(CODE, 1), headers=world.auth("a_operator"))
    items = [
        scan("dispatch", CODE, 2, vehicle_plate="渝A12345"),
        scan("store", CODE, 3),
        scan("stop", CODE, 4, reason="召回"),
        scan("dispatch", CODE, 5, vehicle_plate="渝A12345"),  # stopped: flagged
    ]
    first = upload(client, world, items).get_json()["results"]
    after_first = rows(db_session)
    state_after_first = cylinder_state(db_session).state
    for _ in range(2):
        again = upload(client, world, items).get_json()["results"]
        assert [r["status"] for r in again] == ["duplicate"] * 4
        assert [r["original_status"] for r in again] == [r["status"] for r in first]
        assert [r["code"] for r in again] == [r["code"] for r in first]
        assert rows(db_session) == after_first
        assert cylinder_state(db_session).state == state_after_first


def test_conflicting_duplicates_are_never_overwritten(
    client: FlaskClient, world: World, cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    item = fill(CODE, 1)
    assert upload(client, world, [item], who="a_operator").get_json()["results"][0]["status"] == (
        "accepted"
    )
    changed = {**item, "gross_kg": "31.20"}
    same_id_twice = scan("dispatch", CODE, 2, vehicle_plate="渝A12345")
    other = {**same_id_twice, "vehicle_plate": "渝B99999"}
    results = upload(
        client, world, [changed, same_id_twice, other, same_id_twice], who="a_operator"
    ).get_json()["results"]
    assert [(r["status"], r["code"]) for r in results] == [
        ("rejected", "event_id_conflict"),
        ("accepted", None),
        ("rejected", "event_id_conflict"),
        ("duplicate", None),
    ]
    stored = db_session.scalar(select(Scan).where(Scan.event_id == uuid.UUID(item["event_id"])))
    assert stored.data["gross_kg"] == "30.90"


def test_late_scans_replay_in_occurred_order(
    client: FlaskClient, world: World, cylinder, customer_id: int, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    # The station fills and dispatches; the handheld, offline, uploads later and out of
    # order: its deliver (minute 4) arrives after its collect (minute 5).
    for body in (fill(CODE, 1), scan("dispatch", CODE, 2, vehicle_plate="渝A12345")):
        client.post("/api/v1/scans", json=body, headers=world.auth("a_operator"))
    collect = scan("collect", CODE, 5)
    deliver = scan("deliver", CODE, 4, buyer={"customer_id": customer_id})
    first = upload(client, world, [collect]).get_json()["results"][0]
    assert (first["status"], first["code"]) == ("accepted_with_violation", "transition_not_allowed")
    second = upload(client, world, [deliver]).get_json()["results"][0]
    assert (second["status"], second["code"]) == ("accepted", None)
    # Replayed in occurred_at order, fill, dispatch, deliver, collect is a valid history.
    assert cylinder_state(db_session).state.value == "in_transit"
    assert (
        db_session.scalar(
            select(func.count()).select_from(Scan).where(Scan.kind.in_(["deliver", "collect"]))
        )
        == 2
    )


def test_a_late_scan_that_conflicts_is_kept_and_flagged(
    client: FlaskClient, world: World, cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    for body in (fill(CODE, 10), scan("dispatch", CODE, 11, vehicle_plate="渝A12345")):
        client.post("/api/v1/scans", json=body, headers=world.auth("a_operator"))
    late = scan("receive_empty", CODE, 5)  # before the fill: the cylinder was registered then
    result = upload(client, world, [late]).get_json()["results"][0]
    assert result["status"] == "accepted_with_violation"
    stored = db_session.scalar(select(Scan).where(Scan.event_id == uuid.UUID(late["event_id"])))
    assert stored is not None and stored.result_code == result["code"]
    review = client.get("/api/v1/scans?needs_review=true", headers=world.auth("a_admin"))
    assert late["event_id"] in [s["event_id"] for s in review.get_json()]


def test_a_late_scan_sent_again_alone_is_a_duplicate_and_changes_nothing(
    client: FlaskClient, world: World, cylinder, customer_id: int, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    for body in (fill(CODE, 10), scan("dispatch", CODE, 11, vehicle_plate="渝A12345")):
        client.post("/api/v1/scans", json=body, headers=world.auth("a_operator"))
    deliver = scan("deliver", CODE, 12, buyer={"customer_id": customer_id})
    upload(client, world, [deliver])
    late = scan("deliver", CODE, 11.5, buyer={"customer_id": customer_id})
    first = upload(client, world, [late]).get_json()["results"][0]

    def flags() -> list[tuple]:
        db_session.expire_all()
        return list(db_session.execute(select(Scan.event_id, Scan.review_code).order_by(Scan.id)))

    before = flags()
    again = upload(client, world, [late]).get_json()["results"][0]
    assert again["status"] == "duplicate"
    assert again["original_status"] == first["status"]
    assert flags() == before


def test_more_than_1000_scans_is_a_clear_error(
    client: FlaskClient, world: World, cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    items = [scan("collect", CODE, i) for i in range(1001)]
    response = upload(client, world, items)
    assert_error(response, 422, "batch_too_large")
    assert response.get_json()["details"] == {"max": 1000, "given": 1001}
    assert rows(db_session) == []


def test_bureau_sees_flagged_and_refused_deliveries_per_company(
    client: FlaskClient, world: World, cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    for body in (fill(CODE, 1), scan("dispatch", CODE, 2, vehicle_plate="渝A12345")):
        client.post("/api/v1/scans", json=body, headers=world.auth("a_operator"))
    refused = scan("deliver", CODE, 3, buyer={"customer_id": 777})
    client.post("/api/v1/scans", json=refused, headers=world.auth("a_courier"))
    flagged = scan("deliver", CODE, 4, buyer={"customer_id": 778})
    upload(client, world, [flagged])
    query = f"/api/v1/scans?kind=deliver&needs_review=true&company_id={world.orgs['a'].id}"
    seen = client.get(query, headers=world.auth("dazu_reviewer")).get_json()
    assert [(s["event_id"], s["result"], s["result_code"]) for s in seen] == [
        (refused["event_id"], "rejected", "buyer_not_registered"),
        (flagged["event_id"], "accepted_with_violation", "buyer_not_registered"),
    ]
    assert client.get(query, headers=world.auth("yubei_reviewer")).get_json() == []
    other = f"/api/v1/scans?kind=deliver&needs_review=true&company_id={world.orgs['b'].id}"
    assert client.get(other, headers=world.auth("city_regulator")).get_json() == []


def test_a_large_batch_is_stored_whole_and_chained(
    client: FlaskClient, world: World, make_cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    # Large enough for the bulk path (COPY on PostgreSQL), with mixed NULL columns.
    codes = [f"CQDZ-8{i:05d}" for i in range(60)]
    for code in codes:
        make_cylinder(code)
    items = [fill(code, 1) for code in codes] + [scan("collect", "CQDZ-999998", 2)]
    results = upload(client, world, items, who="a_operator").get_json()["results"]
    assert [r["status"] for r in results] == ["accepted"] * 60 + ["rejected"]
    assert all(isinstance(r["scan_id"], int) for r in results)
    stored = db_session.scalars(select(Scan).where(Scan.kind == "fill")).all()
    assert {s.id for s in stored} == {r["scan_id"] for r in results[:60]}
    assert all(s.data["net_kg"] == "14.50" for s in stored)
    from cylinder_trace.scans.chain import verify_chains

    assert verify_chains(db_session)[1] == []
    again = upload(client, world, items, who="a_operator").get_json()["results"]
    assert [r["status"] for r in again] == ["duplicate"] * 61
