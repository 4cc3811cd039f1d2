"""The commerce bureau's review: scoped to the premises' district, read-only; summaries per
supplier company and per district; safety equipment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from cylinder_trace.auth.tokens import authenticate
from cylinder_trace.catering.lookup import get_visible_catering_user
from cylinder_trace.catering.review import list_catering_users
from cylinder_trace.catering.rows import catering_user_row, count_past_deadline, row_of
from cylinder_trace.catering.status import period_now
from cylinder_trace.web.current import settings
from tests.assertions import assert_error
from tests.catering.helpers import URL, by_id, catering_user, checked, cst, listed
from tests.customers.helpers import person, registered
from tests.world import DAZU, YUBEI, World


@pytest.fixture
def users(client: FlaskClient, world: World, now: Callable[[datetime], None]) -> dict[str, int]:
    """Four catering users: each company supplies one in Dazu and one in Yubei."""
    now(cst(2026, 3, 11, 12, 0))  # W11
    made = {
        "a_dazu": catering_user(client, world, "a_admin", division_code=DAZU),
        "a_yubei": catering_user(client, world, "a_admin", division_code=YUBEI),
        "b_dazu": catering_user(client, world, "b_admin", division_code=DAZU),
        "b_yubei": catering_user(client, world, "b_admin", division_code=YUBEI),
    }
    registered(client, world, **person())  # a household: never a catering user
    ids = {key: user["id"] for key, user in made.items()}
    checked(client, world, ids["a_dazu"], cst(2026, 3, 10, 9, 0), metal_hose="fail")
    checked(client, world, ids["a_yubei"], cst(2026, 3, 3, 9, 0))
    checked(client, world, ids["b_dazu"], cst(2026, 2, 18, 9, 0), "b_admin", metal_hose="fail")
    return ids


def _ids(client: FlaskClient, world: World, who: str, query: str = "") -> set[int]:
    return {row["id"] for row in listed(client, world, who, query)}


def test_each_caller_sees_its_own_catering_users(
    client: FlaskClient, world: World, users: dict[str, int]
) -> None:
    u = users
    expected = {
        "dazu_reviewer": {u["a_dazu"], u["b_dazu"]},
        "yubei_reviewer": {u["a_yubei"], u["b_yubei"]},
        "city_regulator": set(u.values()),
        "sysadmin": set(u.values()),
        "a_admin": {u["a_dazu"], u["a_yubei"]},
        "a_courier": {u["a_dazu"], u["a_yubei"]},
        "b_operator": {u["b_dazu"], u["b_yubei"]},
    }
    for who, ids in expected.items():
        assert _ids(client, world, who) == ids, who


def test_a_bureau_never_sees_another_districts_users(
    client: FlaskClient, world: World, users: dict[str, int]
) -> None:
    u = users
    headers = world.auth("dazu_reviewer")
    # Supplied by a Dazu company, but the restaurant is in Yubei: not Dazu's to review.
    for other in (u["a_yubei"], u["b_yubei"]):
        for path in ("", "/checks", "/hazards"):
            response = client.get(f"{URL}/{other}{path}", headers=headers)
            assert_error(response, 404, "catering_user_not_found")
    # Asking for another district, or the whole city, does not widen the scope.
    assert _ids(client, world, "dazu_reviewer", f"district={YUBEI}") == set()
    assert _ids(client, world, "dazu_reviewer", "district=500000") == {u["a_dazu"], u["b_dazu"]}
    summary = client.get(f"{URL}/summary?district=500000", headers=headers).get_json()
    assert [d["division_code"] for d in summary["by_district"]] == [DAZU]
    assert summary["total"]["catering_users"] == 2
    hazards = client.get("/api/v1/catering-hazards", headers=headers).get_json()
    assert {h["customer_id"] for h in hazards} == {u["a_dazu"], u["b_dazu"]}
    export = client.get(f"{URL}/export.csv", headers=headers).get_data(as_text=True)
    exported_ids = {int(line.split(",")[0]) for line in export.splitlines()[1:]}
    assert exported_ids == {u["a_dazu"], u["b_dazu"]}
    for user_id in (u["a_dazu"], u["b_dazu"]):
        assert client.get(f"{URL}/{user_id}/checks", headers=headers).status_code == 200


def test_a_bad_district_filter_is_422(client: FlaskClient, world: World) -> None:
    response = client.get(f"{URL}?district=5001", headers=world.auth("city_regulator"))
    assert_error(response, 422, "division_code_invalid")


def test_bureaus_and_regulators_only_read(
    client: FlaskClient, world: World, users: dict[str, int]
) -> None:
    for who in ("dazu_reviewer", "city_regulator"):
        target = f"{URL}/{users['a_dazu']}"
        response = client.patch(target, json={"hose_metal": True}, headers=world.auth(who))
        assert_error(response, 403, "forbidden")
        response = client.post(f"{target}/checks", json={"items": []}, headers=world.auth(who))
        assert_error(response, 403, "forbidden")


def test_filters_by_supplier_company(
    client: FlaskClient, world: World, users: dict[str, int]
) -> None:
    b = world.orgs["b"].id
    assert _ids(client, world, "city_regulator", f"company_id={b}") == {
        users["b_dazu"],
        users["b_yubei"],
    }
    assert _ids(client, world, "dazu_reviewer", f"company_id={b}") == {users["b_dazu"]}
    assert _ids(client, world, "a_admin", f"company_id={b}") == set()


def test_summary_per_company_and_per_district(
    client: FlaskClient, world: World, users: dict[str, int]
) -> None:
    body = client.get(f"{URL}/summary", headers=world.auth("city_regulator")).get_json()
    a, b = world.orgs["a"].id, world.orgs["b"].id
    companies = {row["company_id"]: row for row in body["by_company"]}
    assert companies[a]["company_name"] == "大足燃气"
    keys = ("catering_users", "checked_this_period", "due", "overdue", "never_checked")
    assert tuple(companies[a][k] for k in keys) == (2, 1, 1, 0, 0)
    assert tuple(companies[b][k] for k in keys) == (2, 0, 0, 1, 1)
    assert (companies[a]["check_rate"], companies[b]["check_rate"]) == (0.5, 0.0)
    assert (companies[a]["open_hazards"], companies[a]["overdue_hazards"]) == (1, 0)
    # b's hazard was found on 02-18 with 7 days to fix: long past.
    assert (companies[b]["open_hazards"], companies[b]["overdue_hazards"]) == (1, 1)
    districts = {row["division_code"]: row for row in body["by_district"]}
    assert tuple(districts[DAZU][k] for k in keys) == (2, 1, 0, 1, 0)
    assert tuple(districts[YUBEI][k] for k in keys) == (2, 0, 1, 0, 1)
    assert (districts[DAZU]["open_hazards"], districts[DAZU]["overdue_hazards"]) == (2, 1)
    assert districts[DAZU]["users_with_open_hazards"] == 2
    total = body["total"]
    assert tuple(total[k] for k in keys) == (4, 1, 1, 1, 1)
    assert total["check_rate"] == 0.25

    only_b = client.get(f"{URL}/summary?company_id={b}", headers=world.auth("dazu_reviewer"))
    assert [row["company_id"] for row in only_b.get_json()["by_company"]] == [b]
    assert only_b.get_json()["total"]["catering_users"] == 1


def test_an_empty_summary(client: FlaskClient, world: World) -> None:
    body = client.get(f"{URL}/summary", headers=world.auth("yubei_reviewer")).get_json()
    assert body["by_company"] == body["by_district"] == []
    assert body["total"]["catering_users"] == 0
    assert body["total"]["check_rate"] is None


# --- safety equipment -------------------------------------------------------------------


def test_company_staff_record_the_safety_equipment(
    client: FlaskClient, world: World, users: dict[str, int], now: Callable[[datetime], None]
) -> None:
    url = f"{URL}/{users['a_dazu']}"
    equipment = {
        "leak_alarm_installed": True,
        "leak_alarm_working": True,
        "leak_alarm_tested_on": "2026-03-01",
        "hose_metal": False,
        "self_closing_valve": True,
        "cylinder_storage": "dedicated_room",
        "cylinders_on_site": 4,
        "kg_on_site": "58.0",
    }
    response = client.patch(url, json=equipment, headers=world.auth("a_courier"))
    assert response.status_code == 200, response.get_data(as_text=True)
    row = client.get(url, headers=world.auth("dazu_reviewer")).get_json()
    assert {k: row[k] for k in equipment} == equipment
    # Fields left out keep their value; null means "not known".
    client.patch(url, json={"hose_metal": None}, headers=world.auth("sysadmin"))
    row = client.get(url, headers=world.auth("a_admin")).get_json()
    assert row["hose_metal"] is None and row["self_closing_valve"] is True


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        (
            {"leak_alarm_installed": False, "leak_alarm_working": True},
            422,
            "leak_alarm_not_installed",
        ),
        ({"leak_alarm_tested_on": "2026-03-01"}, 422, "leak_alarm_not_installed"),
        (
            {"leak_alarm_installed": True, "leak_alarm_tested_on": "2026-03-12"},
            422,
            "date_in_future",
        ),
        ({"cylinders_on_site": -1}, 422, "validation_error"),
        ({"cylinder_storage": "garage"}, 422, "validation_error"),
    ],
)
def test_equipment_that_cannot_be(
    client: FlaskClient, world: World, users: dict[str, int], changes: dict, status: int, code: str
) -> None:
    response = client.patch(f"{URL}/{users['a_dazu']}", json=changes, headers=world.auth("a_admin"))
    assert_error(response, status, code)


def test_another_company_cannot_record_equipment(
    client: FlaskClient, world: World, users: dict[str, int]
) -> None:
    response = client.patch(
        f"{URL}/{users['a_dazu']}", json={"hose_metal": True}, headers=world.auth("b_admin")
    )
    assert_error(response, 404, "catering_user_not_found")
    row = client.get(f"{URL}/{users['a_dazu']}", headers=world.auth("a_admin")).get_json()
    assert row["hose_metal"] is None


def test_list_rows_show_the_customer_and_its_supplier(
    client: FlaskClient, world: World, users: dict[str, int]
) -> None:
    row = by_id(listed(client, world, "dazu_reviewer"))[users["b_dazu"]]
    assert row["company_id"] == world.orgs["b"].id
    assert row["company_name"] == "渝北燃气"
    assert row["division_code"] == DAZU
    assert row["responsible_person"] == "王五"
    assert row["premises_type"] == "restaurant"
    assert (row["status"], row["missed_periods"]) == ("overdue", 2)


def test_a_row_from_a_customer_equals_the_list_row(
    app: Flask,
    client: FlaskClient,
    world: World,
    db_session: Session,
    users: dict[str, int],
) -> None:
    """Pages build one user's row from the Customer; the list from selected columns."""
    with app.test_request_context():
        period = period_now(settings())
        principal = authenticate(db_session, world.tokens["city_regulator"])
        rows = list_catering_users(db_session, principal, {}, period)
        listed_rows = {row["id"]: row for row in rows}
        for user_id in users.values():
            customer = get_visible_catering_user(db_session, principal, user_id)
            past = count_past_deadline(db_session, customer, period)
            assert catering_user_row(customer, past, period) == listed_rows[user_id]
            assert row_of(db_session, customer, period) == listed_rows[user_id]
