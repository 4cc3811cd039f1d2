"""One true history: scans judged when they happened, late scans re-judging what they follow.

Each test names an item of the history issue: verdicts that a late scan raises or clears
(and the log of it), dates judged on the day a scan happened, flags for what already
happened (over- and underfills, tares, places, scans before registration), one code per
rule, messages in both languages, labels read in lower case, and the review list.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.scans.chain import verify_chains
from cylinder_trace.scans.models import Scan
from tests.conftest import REGISTERED_AT, business_today
from tests.pages.helpers import login, text
from tests.scans.conftest import at, fill, scan
from tests.world import World

CODE = "CQDZ-500001"


def post(client: FlaskClient, world: World, body: dict, who: str = "a_operator", **headers: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/scans", json=body, headers={**world.auth(who), **headers})


def upload(client: FlaskClient, world: World, scans: list, who: str = "a_handheld") -> list[dict]:
    response = client.post("/api/v1/scans/batch", json={"scans": scans}, headers=world.auth(who))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]


def stored(session: Session, body: dict) -> Scan:
    session.expire_all()
    return session.scalar(select(Scan).where(Scan.event_id == uuid.UUID(body["event_id"])))


def review_list(client: FlaskClient, world: World, **filters: Any) -> list[str]:
    query = {"needs_review": "true", "page_size": 1000, **filters}
    response = client.get("/api/v1/scans", query_string=query, headers=world.auth("a_admin"))
    assert response.status_code == 200, response.get_json()
    return [item["event_id"] for item in response.get_json()]


def loaded(client: FlaskClient, world: World) -> tuple[dict, dict]:
    """Filled at the station and dispatched from it, both interactively."""
    filled = fill(CODE, 1)
    dispatched = scan("dispatch", CODE, 2, vehicle_plate="渝A12345")
    assert post(client, world, filled).status_code == 201
    assert post(client, world, dispatched).status_code == 201
    return filled, dispatched


def test_a_late_scan_clears_a_flag_and_the_change_is_kept(
    client: FlaskClient, world: World, cylinder, customer_id: int, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    loaded(client, world)
    collect = scan("collect", CODE, 5)
    first = upload(client, world, [collect])[0]
    assert (first["status"], first["code"]) == ("accepted_with_violation", "transition_not_allowed")
    assert collect["event_id"] in review_list(client, world)
    deliver = scan("deliver", CODE, 4, buyer={"customer_id": customer_id})
    assert upload(client, world, [deliver])[0]["status"] == "accepted"

    kept = stored(db_session, collect)
    # The answer given on arrival stays; the verdict of the complete history is clean.
    assert (kept.result, kept.result_code, kept.review_code) == (
        "accepted_with_violation",
        "transition_not_allowed",
        None,
    )
    assert collect["event_id"] not in review_list(client, world)
    changes = client.get(
        f"/api/v1/scans/{kept.id}/verdict-changes", headers=world.auth("a_admin")
    ).get_json()
    assert [(c["previous_code"], c["new_code"], c["caused_by_event_id"]) for c in changes] == [
        ("transition_not_allowed", None, deliver["event_id"])
    ]
    # Company B's admin may not read company A's history.
    other = client.get(f"/api/v1/scans/{kept.id}/verdict-changes", headers=world.auth("b_admin"))
    assert other.status_code == 404


def test_a_late_scan_raises_a_flag_on_a_scan_it_now_precedes(
    client: FlaskClient, world: World, cylinder, customer_id: int, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    loaded(client, world)
    second = scan("deliver", CODE, 4, buyer={"customer_id": customer_id})
    assert upload(client, world, [second])[0]["status"] == "accepted"
    first = scan("deliver", CODE, 3, buyer={"customer_id": customer_id})
    assert upload(client, world, [first])[0]["status"] == "accepted"
    # Delivered at minute 3, the cylinder was with the customer when minute 4 delivered it.
    assert stored(db_session, second).review_code == "transition_not_allowed"
    assert review_list(client, world) == [second["event_id"]]
    changes = client.get(
        f"/api/v1/scans/{stored(db_session, second).id}/verdict-changes",
        headers=world.auth("a_admin"),
    ).get_json()
    assert [(c["previous_code"], c["new_code"]) for c in changes] == [
        (None, "transition_not_allowed")
    ]


def test_an_offline_fill_is_judged_on_the_day_it_happened(
    client: FlaskClient, world: World, make_cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    due = date.today() - timedelta(days=2)
    make_cylinder(CODE, inspection_due_override=due)
    made_while_valid = fill(CODE, 0)
    made_while_valid["occurred_at"] = (datetime.now(UTC) - timedelta(days=5)).isoformat()
    result = upload(client, world, [made_while_valid], who="a_operator")[0]
    assert (result["status"], result["code"]) == ("accepted", None)
    # The same fill at the station today is refused before the act.
    now = fill(CODE, 0)
    now["occurred_at"] = datetime.now(UTC).isoformat()
    refused = post(client, world, now)
    assert refused.status_code == 422 and refused.get_json()["code"] == "inspection_overdue"
    # And made offline after the due date, it is kept and flagged.
    late = fill(CODE, 0)
    late["occurred_at"] = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    result = upload(client, world, [late], who="a_operator")[0]
    assert (result["status"], result["code"]) == ("accepted_with_violation", "inspection_overdue")


def test_a_scan_dated_before_registration_is_flagged(
    client: FlaskClient, world: World, cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    early = fill(CODE, 0)
    early["occurred_at"] = (REGISTERED_AT - timedelta(days=1)).isoformat()
    result = upload(client, world, [early], who="a_operator")[0]
    assert (result["status"], result["code"]) == (
        "accepted_with_violation",
        "scanned_before_registration",
    )
    assert early["event_id"] in review_list(
        client, world, review_code="scanned_before_registration"
    )


def test_a_tare_unlike_the_registered_one_is_flagged(
    client: FlaskClient, world: World, make_cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    make_cylinder(CODE)
    make_cylinder("CQDZ-500002")
    # Registered tare 16.40; the default tolerance is 0.20 kg.
    off = fill(CODE, 1, gross="31.50", tare_kg="17.00")
    response = post(client, world, off)
    assert response.status_code == 201
    assert (response.get_json()["result"], response.get_json()["review_code"]) == (
        "accepted_with_violation",
        "tare_mismatch",
    )
    within = post(client, world, fill("CQDZ-500002", 1, gross="31.05", tare_kg="16.55"))
    assert within.get_json()["result"] == "accepted", within.get_json()
    assert review_list(client, world, review_code="tare_mismatch") == [off["event_id"]]


def test_over_and_underfills_go_on_the_review_list_with_their_codes(
    client: FlaskClient, world: World, make_cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    for code in ("CQDZ-500001", "CQDZ-500002", "CQDZ-500003"):
        make_cylinder(code)
    over = fill("CQDZ-500001", 1, gross="31.50")  # net 15.10 > 14.5 + 0.5
    under = fill("CQDZ-500002", 1, gross="30.00")  # net 13.60 < 14.5 - 0.5
    right = fill("CQDZ-500003", 1)
    answers = [post(client, world, body).get_json() for body in (over, under, right)]
    assert [(a["result"], a["result_code"]) for a in answers] == [
        ("accepted_with_violation", "overfilled"),
        ("accepted_with_violation", "underfilled"),
        ("accepted", None),
    ]
    assert review_list(client, world) == [over["event_id"], under["event_id"]]
    assert review_list(client, world, result_code="overfilled") == [over["event_id"]]
    assert review_list(client, world, review_code="underfilled") == [under["event_id"]]
    flagged = client.get(
        "/api/v1/scans",
        query_string={"result": "accepted_with_violation"},
        headers=world.auth("a_admin"),
    ).get_json()
    assert {item["event_id"] for item in flagged} == {over["event_id"], under["event_id"]}


def test_the_station_page_marks_over_and_underfills(
    client: FlaskClient, world: World, make_cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-500001")
    make_cylinder("CQDZ-500002")
    now = datetime.now(UTC)  # today's fills are the business day's: not a minute before
    over = {**fill("CQDZ-500001", 0, gross="31.50"), "occurred_at": now.isoformat()}
    right = {**fill("CQDZ-500002", 0), "occurred_at": now.isoformat()}
    assert post(client, world, over).status_code == 201
    assert post(client, world, right).status_code == 201
    login(client, db_session, world.users["a_operator"])
    fills = text(client.get("/station")).split('data-testid="fills"')[1]
    rows = {row.split("</tr>")[0] for row in fills.split("<tr")[2:]}
    overfilled = next(row for row in rows if "CQDZ-500001" in row)
    assert 'data-verdict="overfilled"' in overfilled
    assert "违规待审" in overfilled and "超装：净重超过允许范围。" in overfilled
    assert "通过" not in overfilled
    good = next(row for row in rows if "CQDZ-500002" in row)
    assert "通过" in good and 'data-verdict="accepted"' in good


def test_a_dispatch_is_judged_where_the_scanner_is(
    client: FlaskClient, world: World, make_cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    make_cylinder(CODE)
    make_cylinder("CQDZ-500002")
    for code in (CODE, "CQDZ-500002"):
        assert post(client, world, fill(code, 1)).status_code == 201
    # The courier's handheld names no site: it is at its own supply point, where the
    # cylinder is not. The scan is kept and flagged, not silently moved.
    away = scan("dispatch", CODE, 2, vehicle_plate="渝A12345")
    result = upload(client, world, [away])[0]
    assert (result["status"], result["code"]) == ("accepted_with_violation", "location_mismatch")
    assert stored(db_session, away).site_id == world.orgs["a_supply"].id
    # Naming the station, where the cylinder is, is clean.
    here = scan(
        "dispatch", "CQDZ-500002", 2, vehicle_plate="渝A12345", site_id=world.orgs["a_station"].id
    )
    assert upload(client, world, [here])[0]["status"] == "accepted"


def test_one_code_for_an_unregistered_buyer_on_every_path(
    client: FlaskClient, world: World, make_cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    make_cylinder(CODE)
    make_cylinder("CQDZ-500002")
    for code in (CODE, "CQDZ-500002"):
        assert post(client, world, fill(code, 1)).status_code == 201
        dispatched = scan(
            "dispatch", code, 2, vehicle_plate="渝A12345", site_id=world.orgs["a_station"].id
        )
        assert post(client, world, dispatched).status_code == 201
    nobody = {"customer_id": 987654}
    interactive = post(client, world, scan("deliver", CODE, 3, buyer=nobody), who="a_courier")
    assert interactive.status_code == 422
    assert interactive.get_json()["code"] == "buyer_not_registered"
    offline = upload(client, world, [scan("deliver", "CQDZ-500002", 3, buyer=nobody)])[0]
    assert (offline["status"], offline["code"]) == (
        "accepted_with_violation",
        "buyer_not_registered",
    )


# The words of the rule (the catalogs, cylinder_trace/translations, hold them).
INSPECTION_OVERDUE_ZH = "超过定期检验日期，请送检"
INSPECTION_OVERDUE_EN = "The periodic inspection is overdue: send it for inspection."


def test_messages_follow_accept_language(client: FlaskClient, world: World, make_cylinder) -> None:  # type: ignore[no-untyped-def]
    make_cylinder(CODE, manufactured_on=date.today() - timedelta(days=5 * 365))
    body = fill(CODE, 1)
    body["occurred_at"] = datetime.now(UTC).isoformat()
    chinese = post(client, world, body, **{"Accept-Language": "zh-CN,zh;q=0.9"})
    assert chinese.status_code == 422
    assert chinese.get_json()["message"] == INSPECTION_OVERDUE_ZH
    english = post(client, world, {**body, "event_id": str(uuid.uuid4())})
    assert english.get_json()["message"] == INSPECTION_OVERDUE_EN
    batch = client.post(
        "/api/v1/scans/batch",
        json={"scans": [{**body, "event_id": str(uuid.uuid4())}]},
        headers={**world.auth("a_operator"), "Accept-Language": "zh"},
    ).get_json()["results"][0]
    assert batch["message"] == INSPECTION_OVERDUE_ZH
    check = client.post(
        "/api/v1/scans/fill-check",
        json={"code": CODE},
        headers={**world.auth("a_operator"), "Accept-Language": "zh"},
    ).get_json()
    assert check["reasons"][0]["message"] == INSPECTION_OVERDUE_ZH


def test_a_label_read_in_lower_case_is_the_same_label(
    client: FlaskClient, world: World, cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    payload = client.get(f"/api/v1/cylinders/{CODE}", headers=world.auth("a_admin")).get_json()[
        "label_payload"
    ]
    read = payload.lower()  # a keyboard-wedge scanner with Caps Lock on
    check = client.post(
        "/api/v1/scans/fill-check", json={"qr": read}, headers=world.auth("a_operator")
    )
    assert check.get_json()["allowed"] is True
    body = fill(CODE, 1)
    del body["code"]
    body["qr"] = read
    response = post(client, world, body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["cylinder_code"] == CODE
    assert stored(db_session, body).scanned == read  # what was read is kept as read
    assert review_list(client, world) == []


def test_rest_scrap_and_inspection_are_scans_in_the_chain(
    client: FlaskClient, world: World, make_cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    make_cylinder(CODE)
    make_cylinder("CQDZ-500002")
    inspected = client.post(
        f"/api/v1/cylinders/{CODE}/inspections",
        json={"inspected_on": business_today().isoformat(), "passed": True, "inspection_body": "x"},
        headers=world.auth("a_admin"),
    )
    assert inspected.status_code == 201, inspected.get_json()
    scrapped = client.post(
        "/api/v1/cylinders/CQDZ-500002/scrap",
        json={"reason": "漏气"},
        headers=world.auth("a_admin"),
    )
    assert scrapped.status_code == 200
    timeline = client.get(
        "/api/v1/cylinders/CQDZ-500002/events", headers=world.auth("a_admin")
    ).get_json()
    assert [event["kind"] for event in timeline] == ["register", "scrap"]
    assert timeline[-1]["data"]["reason"] == "漏气"
    kinds = db_session.scalars(select(Scan.kind).where(Scan.chain_key == CODE).order_by(Scan.seq))
    assert list(kinds) == ["register", "inspect"]
    assert verify_chains(db_session)[1] == []


def test_a_history_uploaded_in_order_and_shuffled_ends_alike(
    app: Flask,
    client: FlaskClient,
    world: World,
    make_cylinder,
    customer_id: int,
    db_session: Session,
) -> None:  # type: ignore[no-untyped-def]
    """A small version of the acceptance test: two cylinders, the same life, two uploads."""
    import random

    def life(code: str) -> list[dict]:
        station = world.orgs["a_station"].id
        return [
            fill(code, 10, site_id=station),
            scan("dispatch", code, 11, vehicle_plate="渝A12345", site_id=station),
            scan("store", code, 12),
            scan("deliver", code, 13, buyer={"customer_id": customer_id}),
            scan("collect", code, 14),
            scan("receive_empty", code, 15, site_id=station),
            fill(code, 16, site_id=station),
            scan("dispatch", code, 17, vehicle_plate="渝A12345", site_id=station),
            scan("deliver", code, 18, buyer={"customer_id": customer_id}),
        ]

    make_cylinder("CQDZ-500011")
    make_cylinder("CQDZ-500012")
    in_order = life("CQDZ-500011")
    shuffled = life("CQDZ-500012")
    random.Random(12).shuffle(shuffled)
    assert all(r["status"] == "accepted" for r in upload(client, world, in_order))
    for start in range(0, len(shuffled), 2):
        upload(client, world, shuffled[start : start + 2])
    upload(client, world, shuffled[:3])  # re-sent: duplicates, nothing changes
    ordered = sorted(shuffled, key=lambda body: body["occurred_at"])
    verdicts = [(stored(db_session, b).kind, stored(db_session, b).review_code) for b in ordered]
    assert verdicts == [(stored(db_session, b).kind, None) for b in in_order]
    assert review_list(client, world) == []
    db_session.expire_all()
    a, b = (
        db_session.scalar(select(Cylinder).where(Cylinder.code == code))
        for code in ("CQDZ-500011", "CQDZ-500012")
    )
    assert (a.state, a.holder_customer_id, a.last_scan_at) == (
        b.state,
        b.holder_customer_id,
        b.last_scan_at,
    )
    assert at(18) == a.last_scan_at.isoformat()


def test_a_buyer_deactivated_later_does_not_flag_an_earlier_delivery_on_replay(
    client: FlaskClient, world: World, cylinder, customer_id: int, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    loaded(client, world)
    delivered = scan("deliver", CODE, 4, buyer={"customer_id": customer_id})
    assert upload(client, world, [delivered])[0]["status"] == "accepted"
    collected = scan("collect", CODE, 6)
    assert upload(client, world, [collected])[0]["status"] == "accepted"
    deactivated = client.patch(
        f"/api/v1/customers/{customer_id}", json={"active": False}, headers=world.auth("a_admin")
    )
    assert deactivated.status_code == 200, deactivated.get_json()
    # A late scan replays the history: the delivery happened while the buyer was active.
    late = scan("store", CODE, 3)
    assert upload(client, world, [late])[0]["status"] == "accepted"
    assert stored(db_session, delivered).review_code is None
    # A delivery made now, after the deactivation, is refused for it.
    refill = [
        scan("receive_empty", CODE, 0, site_id=world.orgs["a_station"].id),
        fill(CODE, 0),
        scan("dispatch", CODE, 0, vehicle_plate="渝A12345"),
    ]
    now = datetime.now(UTC)
    for offset, body in enumerate(refill):
        body["occurred_at"] = (now - timedelta(seconds=30 - offset)).isoformat()
        assert post(client, world, body).status_code == 201, body
    after = {**scan("deliver", CODE, 0, buyer={"customer_id": customer_id})}
    after["occurred_at"] = now.isoformat()
    refused = post(client, world, after, who="a_courier")
    assert refused.status_code == 422 and refused.get_json()["code"] == "buyer_inactive"
