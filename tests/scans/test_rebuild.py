"""The cylinder row is a projection of its scans: replaying them rebuilds it exactly."""

from __future__ import annotations

import random
from datetime import date, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.domain.lifecycle import CylinderState
from cylinder_trace.scans.rebuild import rebuild_projections
from tests.scans.conftest import fill, scan
from tests.world import World


def _step(step: int, code: str, minute: int, station: int, customer_id: int) -> dict:
    if step == 0:
        return fill(code, minute, site_id=station)
    if step == 1:
        return scan("dispatch", code, minute, vehicle_plate="渝A12345", site_id=station)
    if step == 3:
        return scan("deliver", code, minute, buyer={"customer_id": customer_id})
    if step == 5:
        return scan("receive_empty", code, minute, site_id=station)
    return scan("store" if step == 2 else "collect", code, minute)


def _lives(world: World, customer_id: int, codes: list[str], rng: random.Random) -> list[dict]:
    """Varied offline histories: rounds of fill, delivery and return, stopping anywhere."""
    station = world.orgs["a_station"].id
    scans: list[dict] = []
    for code in codes:
        minute = rng.randint(0, 30)
        for step in range(rng.randint(0, 14)):
            minute += rng.randint(1, 20)
            scans.append(_step(step % 6, code, minute, station, customer_id))
        if rng.random() < 0.2:  # an overfill or a stray scan: the row must follow the flags too
            scans.append(fill(code, minute + 1, gross="31.60", site_id=station))
    return scans


def _check(app: Flask, session: Session) -> list:
    settings = app.config["CT_SETTINGS"]
    return rebuild_projections(session, settings.rules, settings.time_zone, write=False)[1]


def test_replaying_every_history_rebuilds_the_live_rows(
    app: Flask,
    client: FlaskClient,
    world: World,
    make_cylinder,
    customer_id: int,
    db_session: Session,
) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(7)
    codes = [f"CQDZ-7{n:05d}" for n in range(40)]
    for code in codes:
        make_cylinder(code, manufactured_on=date(2024, 3, 15))
    history = _lives(world, customer_id, codes, rng)
    rng.shuffle(history)  # uploaded out of order: late scans re-judge and re-project
    for start in range(0, len(history), 37):
        response = client.post(
            "/api/v1/scans/batch",
            json={"scans": history[start : start + 37]},
            headers=world.auth("a_handheld"),
        )
        assert response.status_code == 200
    # Office steps are scans too: an inspection result and a scrap.
    inspected = client.post(
        f"/api/v1/cylinders/{codes[0]}/inspections",
        json={
            "inspected_on": (date.today() - timedelta(days=3)).isoformat(),
            "passed": True,
            "inspection_body": "重庆特检院",
        },
        headers=world.auth("a_admin"),
    )
    assert inspected.status_code == 201, inspected.get_json()
    scrapped = client.post(
        f"/api/v1/cylinders/{codes[1]}/scrap",
        json={"reason": "漏气"},
        headers=world.auth("a_admin"),
    )
    assert scrapped.status_code == 200
    db_session.expire_all()
    assert _check(app, db_session) == []


def test_the_command_names_and_repairs_a_row_changed_behind_the_history(
    app: Flask, world: World, make_cylinder, db_session: Session, client: FlaskClient
) -> None:  # type: ignore[no-untyped-def]
    make_cylinder("CQDZ-710001")
    make_cylinder("CQDZ-710002")
    assert (
        client.post(
            "/api/v1/scans", json=fill("CQDZ-710001", 1), headers=world.auth("a_operator")
        ).status_code
        == 201
    )
    db_session.execute(
        update(Cylinder)
        .where(Cylinder.code == "CQDZ-710001")
        .values(state=CylinderState.WITH_CUSTOMER, next_inspection_due=date(2031, 1, 1))
    )
    db_session.flush()
    runner = app.test_cli_runner()
    checked = runner.invoke(args=["scans", "rebuild-projections", "--check"])
    assert checked.exit_code == 1, checked.output
    assert "CQDZ-710001: state is" in checked.output
    assert "CQDZ-710001: next_inspection_due is" in checked.output
    assert "2 cylinders replayed, 1 rows differ" in checked.output
    db_session.expire_all()
    still = db_session.scalar(select(Cylinder).where(Cylinder.code == "CQDZ-710001"))
    assert still.state is CylinderState.WITH_CUSTOMER  # --check writes nothing

    repaired = runner.invoke(args=["scans", "rebuild-projections"])
    assert repaired.exit_code == 0, repaired.output
    assert "1 rows rewritten" in repaired.output
    db_session.expire_all()
    row = db_session.scalar(select(Cylinder).where(Cylinder.code == "CQDZ-710001"))
    assert row.state is CylinderState.FULL_AT_STATION
    assert row.next_inspection_due != date(2031, 1, 1)
    again = runner.invoke(args=["scans", "rebuild-projections", "--check"])
    assert again.exit_code == 0 and "0 rows differ" in again.output
