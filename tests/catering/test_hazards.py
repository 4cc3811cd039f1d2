"""Hazards: a failed item opens one with a deadline; only a later check that verifies the fix
closes it; past-deadline hazards show in the lists and the summary."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cylinder_trace.catering.models import CateringHazard
from cylinder_trace.domain.rules import load_rules, parse_rules
from tests.assertions import assert_error
from tests.catering.helpers import (
    URL,
    catering_user,
    check_body,
    checked,
    cst,
    items,
    listed,
    post_check,
)
from tests.world import World


def _row(client: FlaskClient, world: World, user_id: int, who: str = "a_admin") -> dict:
    response = client.get(f"{URL}/{user_id}", headers=world.auth(who))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _hazards(client: FlaskClient, world: World, user_id: int, state: str = "") -> list[dict]:
    query = f"?state={state}" if state else ""
    response = client.get(f"{URL}/{user_id}/hazards{query}", headers=world.auth("a_admin"))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_a_hazard_opens_and_closes_only_when_a_later_check_verifies_the_fix(
    client: FlaskClient, world: World, now: Callable[[datetime], None]
) -> None:
    now(cst(2026, 3, 10, 12, 0))
    user = catering_user(client, world)
    found = checked(client, world, user["id"], cst(2026, 3, 2, 10, 0), metal_hose="fail")
    assert len(found["hazards_opened"]) == 1
    [hazard] = _hazards(client, world, user["id"], "open")
    assert hazard["id"] == found["hazards_opened"][0]
    assert hazard["item_code"] == "metal_hose"
    assert hazard["item_zh"] == "使用燃气专用金属软管"
    assert hazard["deadline"] == "2026-03-09"  # the check's date in China + 7 days
    assert hazard["opened_by_check_id"] == found["id"]
    assert (hazard["state"], hazard["past_deadline"]) == ("open", True)  # today is 03-10
    row = _row(client, world, user["id"])
    assert (row["open_hazards"], row["past_deadline_hazards"]) == (1, 1)
    assert row["next_hazard_deadline"] == "2026-03-09"

    # Failing again keeps the one hazard, with its first deadline.
    again = checked(client, world, user["id"], cst(2026, 3, 9, 10, 0), metal_hose="fail")
    assert again["hazards_opened"] == again["hazards_closed"] == []
    assert [h["id"] for h in _hazards(client, world, user["id"])] == [hazard["id"]]

    # not_applicable neither opens nor closes anything.
    na = checked(client, world, user["id"], cst(2026, 3, 10, 9, 0), metal_hose="not_applicable")
    assert na["hazards_closed"] == []

    fixed = checked(client, world, user["id"], cst(2026, 3, 10, 11, 0))
    assert fixed["hazards_closed"] == [hazard["id"]]
    [closed] = _hazards(client, world, user["id"], "closed")
    assert closed["closed_by_check_id"] == fixed["id"]
    assert closed["closed_at"] == "2026-03-10T03:00:00+00:00"
    assert (closed["state"], closed["past_deadline"]) == ("closed", False)
    assert _hazards(client, world, user["id"], "open") == []
    row = _row(client, world, user["id"])
    assert (row["open_hazards"], row["past_deadline_hazards"]) == (0, 0)
    assert row["next_hazard_deadline"] is None


def test_a_pass_recorded_for_an_earlier_time_does_not_close_a_later_hazard(
    client: FlaskClient, world: World, now: Callable[[datetime], None]
) -> None:
    now(cst(2026, 3, 10, 12, 0))
    user = catering_user(client, world)
    found = checked(client, world, user["id"], cst(2026, 3, 9, 10, 0), self_closing_valve="fail")
    # An offline handheld uploads last week's visit, where the valve was fine.
    older = checked(client, world, user["id"], cst(2026, 3, 3, 10, 0))
    assert older["hazards_closed"] == []
    assert _row(client, world, user["id"])["open_hazards"] == 1
    assert _row(client, world, user["id"])["last_check_at"] == "2026-03-09T02:00:00+00:00"
    assert _hazards(client, world, user["id"], "open")[0]["opened_by_check_id"] == found["id"]


def test_a_late_failure_already_fixed_by_a_later_visit_is_born_closed(
    client: FlaskClient, world: World, now: Callable[[datetime], None]
) -> None:
    now(cst(2026, 3, 10, 12, 0))
    user = catering_user(client, world)
    later = checked(client, world, user["id"], cst(2026, 3, 9, 10, 0))
    late = checked(client, world, user["id"], cst(2026, 3, 2, 10, 0), metal_hose="fail")
    [hazard] = _hazards(client, world, user["id"])
    assert hazard["id"] in late["hazards_opened"]
    assert (hazard["state"], hazard["closed_by_check_id"]) == ("closed", later["id"])
    assert _row(client, world, user["id"])["open_hazards"] == 0


def test_the_checker_may_set_the_deadline(
    client: FlaskClient, world: World, now: Callable[[datetime], None]
) -> None:
    now(cst(2026, 3, 4, 12, 0))
    user = catering_user(client, world)
    body = check_body(cst(2026, 3, 4, 10, 0))
    body["items"] = [
        {**item, "result": "fail", "deadline": "2026-03-05", "note": "报警器无电"}
        if item["code"] == "leak_alarm_working"
        else item
        for item in body["items"]
    ]
    response = post_check(client, world, user["id"], **body)
    assert response.status_code == 201, response.get_data(as_text=True)
    [hazard] = _hazards(client, world, user["id"])
    assert (hazard["deadline"], hazard["note"]) == ("2026-03-05", "报警器无电")


@pytest.mark.parametrize(
    ("result", "deadline", "code"),
    [
        ("fail", "2026-03-03", "deadline_before_check"),
        ("fail", "2027-06-01", "deadline_too_far"),
        ("pass", "2026-03-10", "deadline_without_hazard"),
    ],
)
def test_deadlines_are_checked(
    client: FlaskClient,
    world: World,
    now: Callable[[datetime], None],
    result: str,
    deadline: str,
    code: str,
) -> None:
    now(cst(2026, 3, 4, 12, 0))
    user = catering_user(client, world)
    body = {"items": [{**items()[0], "result": result, "deadline": deadline}, *items()[1:]]}
    assert_error(post_check(client, world, user["id"], **body), 422, code)


def test_per_item_deadlines_come_from_the_rules(
    app: Flask,
    client: FlaskClient,
    world: World,
    now: Callable[[datetime], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = app.config["CT_SETTINGS"]
    rules = dataclasses.replace(
        settings.rules,
        hazard_deadline_days=10,
        catering_hazard_deadlines={"no_cylinder_in_basement": 1},
    )
    monkeypatch.setitem(app.config, "CT_SETTINGS", dataclasses.replace(settings, rules=rules))
    now(cst(2026, 3, 4, 12, 0))
    user = catering_user(client, world)
    checked(
        client,
        world,
        user["id"],
        cst(2026, 3, 4, 10, 0),
        no_cylinder_in_basement="fail",
        metal_hose="fail",
    )
    deadlines = {h["item_code"]: h["deadline"] for h in _hazards(client, world, user["id"])}
    assert deadlines == {"no_cylinder_in_basement": "2026-03-05", "metal_hose": "2026-03-14"}
    checklist = client.get("/api/v1/catering-checklist", headers=world.auth("a_admin")).get_json()
    days = {item["code"]: item["deadline_days"] for item in checklist["items"]}
    assert days["no_cylinder_in_basement"] == 1 and days["metal_hose"] == 10


def test_the_rules_file_sets_hazard_deadlines() -> None:
    data = {
        "inspection_interval_months": 48,
        "design_life_years": 8,
        "check_interval_days": 7,
        "hazard_deadline_days": 5,
        "cylinder_models": {"YSP12": {"nominal_net_kg": "5.0", "fill_tolerance_kg": "0.2"}},
        "catering_checklist": [
            {"code": "a", "zh": "甲", "en": "A", "deadline_days": 2},
            {"code": "b", "zh": "乙", "en": "B"},
        ],
    }
    rules = parse_rules(data)
    assert (rules.hazard_deadline_for("a"), rules.hazard_deadline_for("b")) == (2, 5)
    assert load_rules().hazard_deadline_days == 7


def test_past_deadline_hazards_in_lists_and_summary(
    client: FlaskClient, world: World, now: Callable[[datetime], None]
) -> None:
    now(cst(2026, 3, 4, 12, 0))
    late, on_time, clean = (catering_user(client, world) for _ in range(3))
    checked(client, world, late["id"], cst(2026, 2, 20, 10, 0), metal_hose="fail")
    checked(client, world, on_time["id"], cst(2026, 3, 2, 10, 0), metal_hose="fail")
    checked(client, world, clean["id"], cst(2026, 3, 2, 11, 0))
    # Deadlines: late 02-27 (past on 03-04), on_time 03-09.
    ids = {name: user["id"] for name, user in (("late", late), ("on", on_time), ("ok", clean))}

    def listed_ids(query: str) -> set[int]:
        return {row["id"] for row in listed(client, world, "dazu_reviewer", query)}

    assert listed_ids("hazard=past_deadline") == {ids["late"]}
    assert listed_ids("hazard=open") == {ids["late"], ids["on"]}
    assert listed_ids("hazard=none") == {ids["ok"]}
    hazards = client.get(
        "/api/v1/catering-hazards?state=past_deadline", headers=world.auth("dazu_reviewer")
    ).get_json()
    assert [h["customer_id"] for h in hazards] == [ids["late"]]
    total = client.get(f"{URL}/summary", headers=world.auth("dazu_reviewer")).get_json()["total"]
    assert (total["open_hazards"], total["overdue_hazards"]) == (2, 1)
    assert total["users_with_open_hazards"] == 2

    # On the deadline day the hazard is not yet past it (China date).
    now(cst(2026, 3, 9, 23, 59))
    assert listed_ids("hazard=past_deadline") == {ids["late"]}
    now(cst(2026, 3, 10, 0, 0))
    assert listed_ids("hazard=past_deadline") == {ids["late"], ids["on"]}


def test_the_database_refuses_what_no_check_could_do(
    client: FlaskClient, world: World, db_session: Session, now: Callable[[datetime], None]
) -> None:
    now(cst(2026, 3, 4, 12, 0))
    user = catering_user(client, world)
    first = checked(client, world, user["id"], cst(2026, 3, 2, 10, 0), metal_hose="fail")
    second = checked(client, world, user["id"], cst(2026, 3, 3, 10, 0))
    hazard = db_session.scalar(select(CateringHazard))
    assert hazard is not None and not hazard.is_open
    db_session.expire_all()

    def refused(statement) -> None:  # type: ignore[no-untyped-def]
        savepoint = db_session.begin_nested()
        with pytest.raises(IntegrityError):
            db_session.execute(statement)
            db_session.flush()
        savepoint.rollback()

    where = CateringHazard.id == hazard.id
    refused(update(CateringHazard).where(where).values(closed_at=hazard.opened_at))
    refused(update(CateringHazard).where(where).values(closed_by_check_id=None))
    refused(update(CateringHazard).where(where).values(closed_by_check_id=first["id"]))
    # A second open hazard for the same item of the same user.
    db_session.add(
        CateringHazard(
            customer_id=user["id"],
            item_code="leak_alarm_working",
            deadline=hazard.deadline,
            opened_by_check_id=second["id"],
            opened_at=hazard.opened_at,
        )
    )
    db_session.flush()
    savepoint = db_session.begin_nested()
    db_session.add(
        CateringHazard(
            customer_id=user["id"],
            item_code="leak_alarm_working",
            deadline=hazard.deadline,
            opened_by_check_id=first["id"],
            opened_at=hazard.opened_at,
        )
    )
    with pytest.raises(IntegrityError):
        db_session.flush()
    savepoint.rollback()
