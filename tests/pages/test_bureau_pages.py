"""/bureau: the same numbers as /api/v1/catering-users/summary, drill-down, exports."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from tests.catering.helpers import catering_user, checked, cst
from tests.pages.helpers import login, text
from tests.world import World

NOW = cst(2026, 11, 26, 15, 0)  # a Thursday, China time


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    from cylinder_trace.catering import api
    from cylinder_trace.web import bounds

    def set_now(instant: datetime) -> None:
        monkeypatch.setattr(api, "clock", lambda: instant)
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
