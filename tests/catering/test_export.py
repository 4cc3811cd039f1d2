"""Exports: CSV (UTF-8 with BOM) and XLSX with the same rows, in the same order, as the API."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from tests.catering.helpers import CST, URL, catering_user, checked, cst
from tests.world import YUBEI, World

FILTERS = [
    "",
    "status=due&status=overdue&status=never_checked",
    "hazard=open&sort=-name",
    f"district={YUBEI}",
]


@pytest.fixture
def scene(client: FlaskClient, world: World, now: Callable[[datetime], None]) -> None:
    now(cst(2026, 3, 11, 12, 0))
    made = [
        catering_user(client, world, name="老王火锅"),
        catering_user(client, world, name='=HYPERLINK("http://evil","点我")'),
        catering_user(client, world, name="-1+2 串串香", division_code=YUBEI),
        catering_user(client, world, name="重庆小面"),
        catering_user(client, world, "b_admin", name="渝北烤鱼"),
        catering_user(client, world, name="豆花饭"),
    ]
    ids = [user["id"] for user in made]
    checked(client, world, ids[0], cst(2026, 3, 10, 9, 0), metal_hose="fail")
    checked(client, world, ids[1], cst(2026, 3, 2, 9, 0))
    checked(client, world, ids[2], cst(2026, 2, 10, 9, 0), self_closing_valve="fail")
    checked(client, world, ids[3], cst(2026, 3, 1, 23, 30), "a_admin")
    checked(client, world, ids[4], cst(2026, 3, 9, 8, 0), "b_admin", metal_hose="fail")
    client.patch(
        f"{URL}/{ids[0]}",
        json={"leak_alarm_installed": True, "kg_on_site": "45.5", "cylinder_storage": "floor"},
        headers=world.auth("a_admin"),
    )


def _api_rows(client: FlaskClient, world: World, who: str, query: str) -> list[dict[str, Any]]:
    """Every page of the list, two rows at a time."""
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        response = client.get(f"{URL}?page_size=2&page={page}&{query}", headers=world.auth(who))
        assert response.status_code == 200, response.get_data(as_text=True)
        rows.extend(response.get_json())
        if page >= json.loads(response.headers["X-Pagination"]).get("last_page", 1):
            return rows
        page += 1


def _csv_rows(client: FlaskClient, world: World, who: str, query: str) -> list[dict[str, str]]:
    response = client.get(f"{URL}/export.csv?{query}", headers=world.auth(who))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert 'filename="catering-users.csv"' in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    text = response.data.decode("utf-8-sig")
    assert "\r\n" in text
    reader = csv.reader(io.StringIO(text))
    header = [title.split(" ")[-1] for title in next(reader)]
    return [dict(zip(header, row, strict=True)) for row in reader]


def _xlsx_rows(client: FlaskClient, world: World, who: str, query: str) -> list[dict[str, Any]]:
    response = client.get(f"{URL}/export.xlsx?{query}", headers=world.auth(who))
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename="catering-users.xlsx"' in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook.worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    header = [str(title).split(" ")[-1] for title in values[0]]
    return [dict(zip(header, row, strict=True)) for row in values[1:]]


def _china(instant: str | None) -> datetime | None:
    if instant is None:
        return None
    return datetime.fromisoformat(instant).astimezone(CST)


@pytest.mark.parametrize("query", FILTERS)
@pytest.mark.parametrize("who", ["a_admin", "city_regulator"])
def test_exports_have_the_same_rows_as_the_api(
    client: FlaskClient, world: World, scene: None, who: str, query: str
) -> None:
    api = _api_rows(client, world, who, query)
    assert api, "the scene gives every filter some rows"
    from_csv = _csv_rows(client, world, who, query)
    from_xlsx = _xlsx_rows(client, world, who, query)
    assert [int(row["id"]) for row in from_csv] == [row["id"] for row in api]
    assert [row["id"] for row in from_xlsx] == [row["id"] for row in api]
    for expected, row_csv, row_xlsx in zip(api, from_csv, from_xlsx, strict=True):
        assert row_xlsx["name"] == expected["name"]
        assert row_csv["name"].lstrip("'") == expected["name"]
        for name in ("status", "division_code", "company_name", "last_check_week"):
            assert row_xlsx[name] == expected[name]
            assert row_csv[name] == (expected[name] or "")
        for name in ("open_hazards", "past_deadline_hazards", "company_id"):
            assert row_xlsx[name] == expected[name]
            assert int(row_csv[name]) == expected[name]
        assert row_xlsx["missed_periods"] == expected["missed_periods"]
        last = _china(expected["last_check_at"])
        assert row_xlsx["last_check_at"] == (last.replace(tzinfo=None) if last else None)
        assert row_csv["last_check_at"] == (last.isoformat() if last else "")
        deadline = expected["next_hazard_deadline"]
        assert row_csv["next_hazard_deadline"] == (deadline or "")
        assert row_xlsx["next_hazard_deadline"] == (
            datetime.combine(date.fromisoformat(deadline), datetime.min.time())
            if deadline
            else None
        )
        kg = expected["kg_on_site"]
        assert row_xlsx["kg_on_site"] == (float(Decimal(kg)) if kg else None)
        assert row_xlsx["leak_alarm_installed"] == expected["leak_alarm_installed"]


def test_no_cell_runs_as_a_formula(client: FlaskClient, world: World, scene: None) -> None:
    from_csv = _csv_rows(client, world, "a_admin", "")
    names = {row["name"] for row in from_csv}
    assert '\'=HYPERLINK("http://evil","点我")' in names
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)
    response = client.get(f"{URL}/export.xlsx", headers=world.auth("a_admin"))
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in cells)
    assert '=HYPERLINK("http://evil","点我")' in {cell.value for cell in cells}


def test_the_export_shows_china_time_and_chinese_status(
    client: FlaskClient, world: World, scene: None
) -> None:
    rows = {row["name"]: row for row in _csv_rows(client, world, "a_admin", "")}
    # Checked at Sunday 23:30 in China: shown as such, in W09, not as 15:30 UTC.
    assert rows["重庆小面"]["last_check_at"] == "2026-03-01T23:30:00+08:00"
    assert rows["重庆小面"]["last_check_week"] == "2026-W09"
    assert rows["重庆小面"]["status_zh"] == "逾期未检查"
    assert rows["豆花饭"]["status_zh"] == "从未检查"
    assert rows["老王火锅"]["status_zh"] == "本周期已检查"


def test_a_refused_filter_leaves_no_workbook_half_written(
    client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # openpyxl's writer left open on its temporary file shows as an unraisable exception
    # when collected.
    import gc
    import sys

    left: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", left.append)
    response = client.get(f"{URL}/export.xlsx?district=99", headers=world.auth("a_admin"))
    assert response.status_code == 422
    gc.collect()
    assert not left, [str(item.exc_value) for item in left]
