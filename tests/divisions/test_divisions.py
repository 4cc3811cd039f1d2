"""Division names (GB/T 2260): the shipped data, the loader, and names in the answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cylinder_trace.divisions.files import DivisionFileInvalid, packaged_divisions, read_divisions
from cylinder_trace.divisions.models import Division
from cylinder_trace.domain.jurisdiction import division_level
from tests.assertions import assert_error
from tests.customers.helpers import business, person
from tests.pages.helpers import login
from tests.world import World


def test_the_package_ships_every_province_and_chongqing_in_full() -> None:
    rows = packaged_divisions()
    codes = {row.code: row for row in rows}
    assert len(codes) == len(rows)
    provinces = [row for row in rows if row.level == "province"]
    assert len(provinces) == 34  # 31 on the mainland, Taiwan, Hong Kong, Macao
    chongqing = [code for code in codes if code[:4] in ("5001", "5002") and code[4:] != "00"]
    assert len(chongqing) == 38  # 26 districts and 12 counties
    assert codes["500111"].name == "大足区" and codes["500156"].name == "武隆区"
    assert codes["500243"].name == "彭水苗族土家族自治县"
    assert all(str(division_level(row.code)) == row.level and row.name for row in rows)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("500111,大足区\n50011,短\n", "line 2: An administrative division code is 6 digits"),
        ("500111,大足区\n990000,没有这个省\n", "line 2: 990000 does not start with a province"),
        ("500011,结构不对\n", "line 1: 500011 has a county part but no city part"),
        ("500111,\n", "line 1: a name of 1 to 100 characters is needed"),
        ("500111,大足区\n500111,又一个\n", "line 2: 500111 repeats line 1"),
        ("500111,大足区,多余\n", "line 1: expected code,name, got 3 fields"),
    ],
)
def test_a_bad_row_is_named_and_refuses_the_file(text: str, problem: str) -> None:
    with pytest.raises(DivisionFileInvalid) as caught:
        read_divisions(text)
    assert caught.value.problems[0].startswith(problem)


def test_a_header_and_blank_lines_are_allowed() -> None:
    rows = read_divisions("code,name\n\n510000,四川省\n 510100 , 成都市 \n")
    assert [(r.code, r.name, r.level) for r in rows] == [
        ("510000", "四川省", "province"),
        ("510100", "成都市", "city"),
    ]


def test_the_api_lists_divisions_under_a_jurisdiction(client: FlaskClient) -> None:
    answer = client.get("/api/v1/divisions?under=500000")  # public reference data
    assert answer.status_code == 200
    rows = answer.get_json()
    assert len(rows) == 41 and rows[0] == {"code": "500000", "name": "重庆市", "level": "province"}
    dazu = client.get("/api/v1/divisions?under=500111").get_json()
    assert dazu == [{"code": "500111", "name": "大足区", "level": "county"}]
    assert len(client.get("/api/v1/divisions").get_json()) == len(packaged_divisions())
    assert_error(client.get("/api/v1/divisions?under=5001"), 422, "division_code_format")


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Division))


def test_the_loader_adds_and_renames_and_refuses_a_bad_file_whole(
    app: Flask, db_session: Session, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    before = _count(db_session)
    good = tmp_path / "sichuan.csv"
    good.write_text("code,name\n510100,成都市\n510104,锦江区\n500111,大足区（改）\n", "utf-8")
    loaded = runner.invoke(args=["divisions", "load", str(good)])
    assert loaded.exit_code == 0, loaded.output
    assert "2 added, 1 renamed, 0 unchanged" in loaded.output
    listed = runner.invoke(args=["divisions", "list", "--under", "510000"])
    assert listed.output.splitlines() == ["510000 四川省", "510100 成都市", "510104 锦江区"]

    bad = tmp_path / "bad.csv"
    bad.write_text("510105,青羊区\n51010,坏\n", "utf-8")
    refused = runner.invoke(args=["divisions", "load", str(bad)])
    assert refused.exit_code == 1
    assert "line 2" in refused.output and "nothing was loaded" in refused.output
    db_session.expire_all()
    assert _count(db_session) == before + 2  # 510105 was not loaded either


def test_answers_name_the_division_where_it_is_known(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    dazu = client.get(f"/api/v1/organisations/{world.orgs['a'].id}", headers=world.auth("a_admin"))
    assert dazu.get_json()["division_name"] == "大足区"
    # A valid code the table does not know yet (Chengdu's Jinjiang) has no name.
    far = client.post(
        "/api/v1/customers",
        json=person(division_code="510104", address="成都市锦江区春熙路1号"),
        headers=world.auth("a_admin"),
    )
    assert far.status_code == 201, far.get_json()
    assert (far.get_json()["division_code"], far.get_json()["division_name"]) == ("510104", None)

    created = client.post("/api/v1/customers", json=business(), headers=world.auth("a_admin"))
    assert created.get_json()["division_name"] == "大足区"
    users = client.get("/api/v1/catering-users", headers=world.auth("dazu_reviewer")).get_json()
    assert [(u["division_code"], u["division_name"]) for u in users] == [("500111", "大足区")]
    summary = client.get("/api/v1/catering-users/summary", headers=world.auth("dazu_reviewer"))
    by_district = summary.get_json()["by_district"]
    assert [(d["division_code"], d["division_name"]) for d in by_district] == [("500111", "大足区")]

    login(client, db_session, world.users["dazu_reviewer"])
    page = client.get("/bureau").get_data(as_text=True)
    assert "大足区" in page
