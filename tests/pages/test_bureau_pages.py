"""/bureau: the same numbers as /api/v1/catering-users/summary, drill-down, exports."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from flask import Flask, template_rendered
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from cylinder_trace.auth.tokens import authenticate
from cylinder_trace.catering.export import catering_csv
from cylinder_trace.catering.lookup import get_visible_catering_user
from cylinder_trace.catering.review import iter_catering_users
from cylinder_trace.catering.rows import row_of
from cylinder_trace.catering.schemas import CateringUserSchema
from cylinder_trace.catering.status import period_now
from cylinder_trace.web.current import settings
from tests.catering.helpers import catering_user, checked, cst
from tests.pages.helpers import login, text
from tests.world import World

NOW = cst(2026, 11, 26, 15, 0)  # a Thursday, China time


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    from cylinder_trace.catering import status
    from cylinder_trace.web import bounds

    def set_now(instant: datetime) -> None:
        monkeypatch.setattr(status, "clock", lambda: instant)
        monkeypatch.setattr(bounds, "clock", instant.timestamp)

    return set_now


@pytest.fixture
def catering_world(client: FlaskClient, world: World, now: Callable[[datetime], None]) -> dict:
    now(NOW)
    users = {
        "checked": catering_user(client, world, name="本周已查餐馆"),
        "due": catering_user(client, world, name="上周查过餐馆"),
        "overdue": catering_user(client, world, name="很久没查餐馆"),
        "never": catering_user(client, world, name="从未检查餐馆"),
        "yubei": catering_user(client, world, who="b_admin", name="渝北供气餐馆"),
    }
    checked(client, world, users["checked"]["id"], cst(2026, 11, 24, 10, 0), metal_hose="fail")
    checked(client, world, users["due"]["id"], cst(2026, 11, 18, 10, 0))
    checked(
        client, world, users["overdue"]["id"], cst(2026, 10, 20, 10, 0), leak_alarm_working="fail"
    )
    checked(client, world, users["yubei"]["id"], cst(2026, 11, 25, 9, 0), who="b_admin")
    return users


def counts_on(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-count="([a-z_]+)">([^<]*)<', page))


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def test_dashboard_numbers_match_the_api(
    client: FlaskClient, db_session: Session, world: World, catering_world: dict
) -> None:
    login(client, db_session, world.users["city_regulator"])
    page = text(client.get("/bureau"))
    api = client.get("/api/v1/catering-users/summary", headers=world.auth("city_regulator"))
    summary = api.get_json()
    total = summary["total"]
    assert total["catering_users"] == 5
    shown = counts_on(page)
    for name in (
        "catering_users",
        "checked_this_period",
        "due",
        "overdue",
        "never_checked",
        "open_hazards",
        "overdue_hazards",
    ):
        assert shown[name] == str(total[name]), name
    assert shown["check_rate"] == percent(total["check_rate"]) == "40.0%"
    assert summary["week"] in page
    assert "第 1 / 1 页，共 5 条" in page
    companies = page.split('data-testid="by-company"')[1].split("</table>")[0]
    for row in summary["by_company"]:
        assert row["company_name"] in companies
        assert f"<td>{row['catering_users']}</td>" in companies
    for name in ("本周已查餐馆", "上周查过餐馆", "很久没查餐馆", "从未检查餐馆", "渝北供气餐馆"):
        assert name in page


def test_a_district_bureau_sees_its_district(
    client: FlaskClient, db_session: Session, world: World, catering_world: dict
) -> None:
    login(client, db_session, world.users["dazu_reviewer"])
    page = text(client.get("/bureau"))
    summary = client.get(
        "/api/v1/catering-users/summary", headers=world.auth("dazu_reviewer")
    ).get_json()
    assert counts_on(page)["catering_users"] == str(summary["total"]["catering_users"])
    filtered = text(client.get("/bureau?status=overdue&status=never_checked"))
    users = filtered.split('data-testid="users"')[1].split("</table>")[0]
    assert "很久没查餐馆" in users and "从未检查餐馆" in users
    assert "本周已查餐馆" not in users
    assert client.get("/bureau?status=bogus").status_code == 400


def test_drill_down_to_one_user(
    client: FlaskClient, db_session: Session, world: World, catering_world: dict
) -> None:
    login(client, db_session, world.users["dazu_reviewer"])
    user = catering_world["checked"]
    page = text(client.get(f"/bureau/users/{user['id']}"))
    assert "本周已查餐馆" in page
    assert "本周已检查" in page
    history = page.split('data-testid="checks"')[1]
    assert "使用燃气专用金属软管" in history  # the failed item, in words
    assert "2026-11-24 10:00" in history
    hazards = page.split('data-testid="user-hazards"')[1]
    assert "未整改" in hazards
    outside = client.get("/bureau/users/999999")
    assert outside.status_code == 404


def test_exports_are_the_api_exports(
    client: FlaskClient, db_session: Session, world: World, catering_world: dict
) -> None:
    login(client, db_session, world.users["dazu_reviewer"])
    for extension in ("csv", "xlsx"):
        page = client.get(f"/bureau/export.{extension}?status=overdue")
        api = client.get(
            f"/api/v1/catering-users/export.{extension}?status=overdue",
            headers=world.auth("dazu_reviewer"),
        )
        assert page.status_code == api.status_code == 200
        assert page.mimetype == api.mimetype
        assert page.headers["Content-Disposition"] == api.headers["Content-Disposition"]
        if extension == "csv":
            assert page.data == api.data
            assert "很久没查餐馆" in page.data.decode("utf-8-sig")


def test_english_dashboard(
    client: FlaskClient, db_session: Session, world: World, catering_world: dict
) -> None:
    login(client, db_session, world.users["dazu_reviewer"])
    page = text(client.get("/bureau?lang=en"))
    for words in ("Check rate this week", "Never checked", "By supplier company"):
        assert words in page


@contextmanager
def rendered_contexts(app: Flask) -> Iterator[list[dict[str, Any]]]:
    """The contexts of the templates rendered inside the block, in order."""
    contexts: list[dict[str, Any]] = []

    def record(_sender: Flask, template: Any, context: dict[str, Any], **_: Any) -> None:
        contexts.append(context)

    template_rendered.connect(record, app)
    try:
        yield contexts
    finally:
        template_rendered.disconnect(record, app)


def test_one_user_gives_one_row_to_the_api_the_exports_and_the_pages(
    app: Flask, client: FlaskClient, db_session: Session, world: World, catering_world: dict
) -> None:
    """rows.catering_user_row is the one builder: the same user, the same row everywhere."""
    login(client, db_session, world.users["dazu_reviewer"])
    user_id = catering_world["checked"]["id"]  # checked this week, one open hazard
    with app.test_request_context():
        principal = authenticate(db_session, world.tokens["dazu_reviewer"])
        period = period_now(settings())
        customer = get_visible_catering_user(db_session, principal, user_id)
        built = row_of(db_session, customer, period)
        exported = list(iter_catering_users(db_session, principal, {}, period))
        tz = settings().time_zone
    assert built["open_hazards"] == 1 and built["status"] == "checked_this_period"
    assert [row for row in exported if row["id"] == user_id] == [built]

    with rendered_contexts(app) as contexts:
        assert client.get(f"/bureau/users/{user_id}").status_code == 200
        assert client.get("/bureau").status_code == 200
    detail_page, list_page = contexts
    assert detail_page["row"] == built
    assert [row for row in list_page["rows"] if row["id"] == user_id] == [built]

    headers = world.auth("dazu_reviewer")
    detail = client.get(f"/api/v1/catering-users/{user_id}", headers=headers).get_json()
    assert detail == json.loads(json.dumps(CateringUserSchema().dump(built)))
    listed = client.get("/api/v1/catering-users?page_size=100", headers=headers).get_json()
    assert [row for row in listed if row["id"] == user_id] == [detail]

    expected = catering_csv([built], tz).decode("utf-8-sig").splitlines()
    for url in ("/api/v1/catering-users/export.csv", "/bureau/export.csv"):
        got = client.get(url, headers=headers).data.decode("utf-8-sig").splitlines()
        assert got[0] == expected[0], url
        assert expected[1] in got[1:], url
