"""Another company learns nothing of a cylinder that is not its own, and is still seen trying."""

from __future__ import annotations

from datetime import date, timedelta

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cylinder_trace.scans.chain import verify_chains
from cylinder_trace.scans.models import Scan
from tests.scans.conftest import fill
from tests.world import World

CODE = "CQDZ-500001"


def _chain_length(session: Session, key: str) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Scan).where(Scan.chain_key == key))


def test_fill_check_of_another_companys_cylinder_says_only_not_own(
    client: FlaskClient, world: World, make_cylinder, scrap
) -> None:  # type: ignore[no-untyped-def]
    states = {
        "CQDZ-500001": {},
        "CQDZ-500002": {"manufactured_on": date.today() - timedelta(days=5 * 365)},  # overdue
        "CQDZ-500003": {},
    }
    cylinders = {code: make_cylinder(code, **fields) for code, fields in states.items()}
    scrap(cylinders["CQDZ-500003"])
    answers = [
        client.post(
            "/api/v1/scans/fill-check", json={"code": code}, headers=world.auth("b_operator")
        ).get_json()
        for code in states
    ]
    # Overdue, scrapped or fine: company B hears the same, and nothing else.
    assert all(answer == answers[0] for answer in answers), answers
    assert answers[0]["allowed"] is False
    assert [reason["code"] for reason in answers[0]["reasons"]] == ["not_own_cylinder"]
    assert answers[0]["cylinder"] is None


def test_a_refused_scan_of_another_companys_cylinder_reveals_nothing_of_its_chain(
    client: FlaskClient, world: World, cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    filled = client.post("/api/v1/scans", json=fill(CODE, 1), headers=world.auth("a_operator"))
    assert filled.status_code == 201  # company A's chain: register, fill
    owned_before = _chain_length(db_session, CODE)
    seen = []
    for minute in (10, 11):
        refused = client.post(
            "/api/v1/scans", json=fill(CODE, minute), headers=world.auth("b_operator")
        )
        assert refused.status_code == 422
        assert refused.get_json()["code"] == "not_own_cylinder"
        seen.append(refused.get_json()["details"]["scan_id"])
    assert _chain_length(db_session, CODE) == owned_before  # A's chain is untouched
    mine = client.get("/api/v1/scans", headers=world.auth("b_admin")).get_json()
    attempts = [scan for scan in mine if scan["id"] in seen]
    # B's own record of its attempts: a chain of B's own, numbered from 1.
    assert [scan["seq"] for scan in attempts] == [1, 2]
    assert all(scan["cylinder_code"] is None and scan["scanned"] == CODE for scan in attempts)
    # The regulator sees the attempt, with what was scanned and why it was refused.
    review = client.get(
        "/api/v1/scans", query_string={"needs_review": "true"}, headers=world.auth("city_regulator")
    ).get_json()
    flagged = [scan for scan in review if scan["id"] in seen]
    assert [(s["scanned"], s["result_code"]) for s in flagged] == [(CODE, "not_own_cylinder")] * 2
    assert verify_chains(db_session)[1] == []


def test_a_batch_of_another_companys_cylinder_is_kept_apart_too(
    client: FlaskClient, world: World, cylinder, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    owned_before = _chain_length(db_session, CODE)
    response = client.post(
        "/api/v1/scans/batch",
        json={"scans": [fill(CODE, 1), fill(CODE, 2)]},
        headers=world.auth("b_operator"),
    )
    results = response.get_json()["results"]
    assert [(r["status"], r["code"]) for r in results] == [("rejected", "not_own_cylinder")] * 2
    assert _chain_length(db_session, CODE) == owned_before
    assert verify_chains(db_session)[1] == []
