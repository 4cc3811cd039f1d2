"""Check status in China time with Monday-first ISO weeks: across week and year boundaries,
as filters and sort orders of the list, and with another interval."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.catering.helpers import URL, by_id, catering_user, checked, cst, listed, utc
from tests.world import World


def _status(client: FlaskClient, world: World, user_id: int) -> tuple[str, int | None]:
    row = client.get(f"{URL}/{user_id}", headers=world.auth("dazu_reviewer")).get_json()
    return row["status"], row["missed_periods"]


def test_sunday_2330_in_china_counts_for_that_week(
    client: FlaskClient, world: World, now: Callable[[datetime], None]
) -> None:
    now(cst(2026, 3, 1, 23, 45))  # Sunday of 2026-W09
    user = catering_user(client, world)
    # Sunday 23:30 in Chongqing is Sunday 15:30 UTC: the same (ISO) week W09.
    check = checked(client, world, user["id"], utc(2026, 3, 1, 15, 30))
    assert check["week"] == "2026-W09"
    assert _status(client, world, user["id"]) == ("checked_this_period", 0)
    now(cst(2026, 3, 2, 0, 5))  # Monday 00:05 China (still Sunday 16:05 UTC): W10 began
    assert _status(client, world, user["id"]) == ("due", 0)
    now(cst(2026, 3, 8, 23, 59))
    assert _status(client, world, user["id"]) == ("due", 0)
    now(cst(2026, 3, 9, 0, 0))  # W11: all of W10 was missed
    assert _status(client, world, user["id"]) == ("overdue", 1)
    now(cst(2026, 3, 23, 12, 0))  # W13: W10, W11, W12 missed
    assert _status(client, world, user["id"]) == ("overdue", 3)


def test_monday_morning_in_china_is_the_new_week_although_sunday_in_utc(
    client: FlaskClient, world: World, now: Callable[[datetime], None]
) -> None:
    user = catering_user(client, world)
    now(cst(2026, 3, 2, 9, 0))
    # Monday 07:30 China is Sunday 23:30 UTC; a UTC week would call it last week's.
    check = checked(client, world, user["id"], utc(2026, 3, 1, 23, 30))
    assert check["week"] == "2026-W10"
    assert _status(client, world, user["id"]) == ("checked_this_period", 0)


def test_overdue_weeks_are_counted_across_the_year_boundary(
    client: FlaskClient, world: World, now: Callable[[datetime], None]
) -> None:
    user = catering_user(client, world)
    now(cst(2026, 12, 24, 12, 0))
    checked(client, world, user["id"], cst(2026, 12, 24, 10, 0))  # Thursday of 2026-W52
    for instant, expected in [
        (cst(2026, 12, 27, 23, 59), ("checked_this_period", 0)),
        (cst(2026, 12, 28, 0, 0), ("due", 0)),  # 2026 has 53 ISO weeks: W53 starts
        (cst(2027, 1, 3, 23, 59), ("due", 0)),
        (cst(2027, 1, 4, 0, 0), ("overdue", 1)),  # 2027-W01: W53 missed
        (cst(2027, 1, 12, 10, 0), ("overdue", 2)),  # 2027-W02: W53 and 2027-W01 missed
        (cst(2027, 3, 1, 10, 0), ("overdue", 9)),  # 2027-W09
    ]:
        now(instant)
        assert _status(client, world, user["id"]) == expected, instant
    row = client.get(f"{URL}/{user['id']}", headers=world.auth("a_admin")).get_json()
    assert row["last_check_week"] == "2026-W52"

    # A check on Saturday 2027-01-02 belongs to 2026-W53.
    other = catering_user(client, world)
    now(cst(2027, 1, 2, 18, 0))
    assert checked(client, world, other["id"], cst(2027, 1, 2, 17, 0))["week"] == "2026-W53"
    now(cst(2027, 1, 4, 8, 0))
    assert _status(client, world, other["id"]) == ("due", 0)


@pytest.fixture
def four_users(
    client: FlaskClient, world: World, now: Callable[[datetime], None]
) -> dict[str, int]:
    """One user in each state, seen on Wednesday 2026-03-11 (W11)."""
    now(cst(2026, 3, 11, 12, 0))
    users = {name: catering_user(client, world, name=name)["id"] for name in "dcbaz"}
    checked(client, world, users["a"], cst(2026, 3, 10, 9, 0))  # this week
    checked(client, world, users["b"], cst(2026, 3, 4, 9, 0))  # last week: due
    checked(client, world, users["c"], cst(2026, 2, 20, 9, 0))  # W08: overdue, 2 missed
    checked(client, world, users["z"], cst(2026, 2, 27, 9, 0))  # W09: overdue, 1 missed
    # "d" was never checked.
    return users


def test_status_filters_and_counts(
    client: FlaskClient, world: World, four_users: dict[str, int]
) -> None:
    u = four_users
    rows = by_id(listed(client, world, "dazu_reviewer"))
    assert {rows[u[n]]["status"] for n in "dcbaz"} == {
        "checked_this_period",
        "due",
        "overdue",
        "never_checked",
    }
    assert (rows[u["c"]]["missed_periods"], rows[u["z"]]["missed_periods"]) == (2, 1)
    assert rows[u["d"]]["missed_periods"] is None
    assert rows[u["d"]]["last_check_week"] is None

    def ids(query: str) -> list[int]:
        return [row["id"] for row in listed(client, world, "dazu_reviewer", query)]

    assert ids("status=due&status=overdue") == [u["c"], u["z"], u["b"]]
    assert ids("status=overdue") == [u["c"], u["z"]]
    assert ids("status=never_checked") == [u["d"]]
    assert ids("status=checked_this_period") == [u["a"]]
    assert ids("status=due&status=never_checked") == [u["d"], u["b"]]

    summary = client.get(f"{URL}/summary", headers=world.auth("dazu_reviewer")).get_json()
    assert summary["week"] == "2026-W11"
    assert summary["period_start"] == "2026-03-08T16:00:00+00:00"
    assert summary["today"] == "2026-03-11"
    total = summary["total"]
    assert (total["catering_users"], total["checked_this_period"]) == (5, 1)
    assert (total["due"], total["overdue"], total["never_checked"]) == (1, 2, 1)
    assert total["check_rate"] == 0.2


def test_sort_orders(client: FlaskClient, world: World, four_users: dict[str, int]) -> None:
    u = four_users

    def ids(query: str) -> list[int]:
        return [row["id"] for row in listed(client, world, "dazu_reviewer", query)]

    # Default: by last check, never-checked first (the most neglected first).
    assert ids("") == [u["d"], u["c"], u["z"], u["b"], u["a"]]
    assert ids("sort=-last_check_at") == [u["a"], u["b"], u["z"], u["c"], u["d"]]
    assert ids("sort=name") == [u["a"], u["b"], u["c"], u["d"], u["z"]]
    assert ids("sort=-name") == [u["z"], u["d"], u["c"], u["b"], u["a"]]
    assert ids("sort=id") == sorted(u.values())
    response = client.get(f"{URL}?sort=status", headers=world.auth("dazu_reviewer"))
    assert response.status_code == 422


def test_the_list_is_paginated(
    client: FlaskClient, world: World, four_users: dict[str, int]
) -> None:
    headers = world.auth("dazu_reviewer")
    first = client.get(f"{URL}?page_size=2&status=due&status=overdue", headers=headers)
    second = client.get(f"{URL}?page_size=2&page=2&status=due&status=overdue", headers=headers)
    assert json.loads(first.headers["X-Pagination"])["total"] == 3
    assert [r["id"] for r in first.get_json() + second.get_json()] == [
        four_users["c"],
        four_users["z"],
        four_users["b"],
    ]


def test_deactivated_users_are_left_out_unless_asked_for(
    client: FlaskClient, world: World, four_users: dict[str, int]
) -> None:
    client.patch(
        f"/api/v1/customers/{four_users['d']}",
        json={"active": False},
        headers=world.auth("a_admin"),
    )
    assert four_users["d"] not in by_id(listed(client, world, "dazu_reviewer"))
    inactive = listed(client, world, "dazu_reviewer", "active=false")
    assert [row["id"] for row in inactive] == [four_users["d"]]
    total = client.get(f"{URL}/summary", headers=world.auth("dazu_reviewer")).get_json()["total"]
    assert (total["catering_users"], total["never_checked"]) == (4, 0)


def test_another_interval_uses_periods_of_that_length(
    app: Flask,
    client: FlaskClient,
    world: World,
    now: Callable[[datetime], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = app.config["CT_SETTINGS"]
    rules = dataclasses.replace(settings.rules, check_interval_days=14)
    monkeypatch.setitem(app.config, "CT_SETTINGS", dataclasses.replace(settings, rules=rules))
    user = catering_user(client, world)
    # 14-day periods counted from Monday 2001-01-01: one starts on Monday 2026-03-09.
    now(cst(2026, 3, 20, 12, 0))
    checked(client, world, user["id"], cst(2026, 3, 10, 9, 0))
    assert _status(client, world, user["id"]) == ("checked_this_period", 0)
    now(cst(2026, 3, 23, 0, 0))
    assert _status(client, world, user["id"]) == ("due", 0)
    now(cst(2026, 4, 6, 0, 0))
    assert _status(client, world, user["id"]) == ("overdue", 1)
    summary = client.get(f"{URL}/summary", headers=world.auth("a_admin")).get_json()
    assert summary["interval_days"] == 14
    assert summary["period_start"] == "2026-04-05T16:00:00+00:00"


@pytest.mark.parametrize(
    "states",
    [
        combo
        for size in range(1, 5)
        for combo in itertools.combinations(
            ["checked_this_period", "due", "overdue", "never_checked"], size
        )
    ],
)
def test_every_combination_of_status_filters(
    client: FlaskClient, world: World, four_users: dict[str, int], states: tuple[str, ...]
) -> None:
    everyone = listed(client, world, "dazu_reviewer")
    expected = [row["id"] for row in everyone if row["status"] in states]
    query = "&".join(f"status={state}" for state in states)
    assert [row["id"] for row in listed(client, world, "dazu_reviewer", query)] == expected
    response = client.get(f"{URL}?{query}", headers=world.auth("dazu_reviewer"))
    assert json.loads(response.headers["X-Pagination"])["total"] == len(expected)


def test_the_configured_zone_is_the_one_used(
    app: Flask,
    client: FlaskClient,
    world: World,
    now: Callable[[datetime], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No zone is hard-coded in catering: CT_TIME_ZONE (settings.time_zone) decides."""
    now(cst(2026, 3, 2, 10, 0))  # Monday of W10 in China; Sunday 21:00 (W09) in New York
    user = catering_user(client, world)
    visit = checked(client, world, user["id"], utc(2026, 3, 1, 14, 0))  # Sunday in both zones
    assert visit["week"] == "2026-W09"
    assert _status(client, world, user["id"]) == ("due", 0)

    settings = app.config["CT_SETTINGS"]
    new_york = dataclasses.replace(settings, time_zone=ZoneInfo("America/New_York"))
    monkeypatch.setitem(app.config, "CT_SETTINGS", new_york)
    assert _status(client, world, user["id"]) == ("checked_this_period", 0)
    summary = client.get(f"{URL}/summary", headers=world.auth("dazu_reviewer")).get_json()
    assert summary["week"] == "2026-W09"
    assert summary["today"] == "2026-03-01"
