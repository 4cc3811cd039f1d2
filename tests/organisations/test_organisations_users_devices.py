"""Registering organisations, users and devices: rules refuse bad input and keep old data."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cylinder_trace.devices.models import Device
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.users.models import User
from tests.assertions import assert_error
from tests.world import World


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_company_admin_adds_a_station(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/api/v1/organisations",
        json={
            "kind": "filling_station",
            "name": "二号充装站",
            "parent_id": world.orgs["a"].id,
            "division_code": "500111",
            "address": "大足区邮亭镇",
        },
        headers=world.auth("a_admin"),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["company_id"] == world.orgs["a"].id
    assert body["kind"] == "filling_station"
    got = client.get(f"/api/v1/organisations/{body['id']}", headers=world.auth("a_operator"))
    assert got.get_json()["name"] == "二号充装站"


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        (
            {"kind": "filling_station", "name": "x", "division_code": "500111"},
            422,
            "organisation_parent_required",
        ),
        ({"kind": "gas_company", "name": "x", "division_code": "50011"}, 422, "validation_error"),
        ({"kind": "gas_company", "name": "x", "division_code": "5001AB"}, 422, "validation_error"),
        ({"kind": "warehouse", "name": "x", "division_code": "500111"}, 422, "validation_error"),
        (
            {"kind": "gas_company", "name": "x", "division_code": "990111"},
            422,
            "division_code_province",
        ),
        ({"kind": "gas_company", "name": "", "division_code": "500111"}, 422, "validation_error"),
        (
            {"kind": "gas_company", "name": "   ", "division_code": "500111"},
            422,
            "organisation_name_missing",
        ),
        (
            {"kind": "gas_company", "name": "大足燃气", "division_code": "500111"},
            409,
            "organisation_name_taken",
        ),
        (
            {"kind": "regulator", "name": "x", "division_code": "500111", "parent_id": "PARENT"},
            422,
            "organisation_parent_invalid",
        ),
        (
            {"kind": "supply_point", "name": "x", "division_code": "500111", "parent_id": "BUREAU"},
            422,
            "organisation_parent_invalid",
        ),
    ],
)
def test_bad_organisations_are_refused_and_nothing_changes(
    client: FlaskClient, world: World, db_session: Session, payload: dict, status: int, code: str
) -> None:
    payload = dict(payload)
    if payload.get("parent_id") == "PARENT":
        payload["parent_id"] = world.orgs["a"].id
    if payload.get("parent_id") == "BUREAU":
        payload["parent_id"] = world.orgs["dazu_bureau"].id
    before = count(db_session, Organisation)
    response = client.post("/api/v1/organisations", json=payload, headers=world.auth("sysadmin"))
    assert_error(response, status, code)
    assert count(db_session, Organisation) == before


def test_validation_errors_name_the_fields(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/api/v1/organisations", json={"kind": "gas_company"}, headers=world.auth("sysadmin")
    )
    fields = response.get_json()["details"]["fields"]["json"]
    assert set(fields) == {"name", "division_code"}


def test_rename_to_a_taken_name_is_409_and_keeps_the_old_name(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    station = world.orgs["a_station"]
    response = client.patch(
        f"/api/v1/organisations/{station.id}",
        json={"name": "大足燃气供应站"},
        headers=world.auth("a_admin"),
    )
    assert_error(response, 409, "organisation_name_taken")
    db_session.expire_all()
    assert db_session.get(Organisation, station.id).name == "大足燃气充装站"


def test_company_admin_registers_staff(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/api/v1/users",
        json={
            "organisation_id": world.orgs["a_station"].id,
            "username": "Li.Na",
            "full_name": "李娜",
            "role": "station_operator",
            "phone": "13800000000",
        },
        headers=world.auth("a_admin"),
    )
    assert response.status_code == 201
    assert response.get_json()["username"] == "li.na"


@pytest.mark.parametrize(
    ("org_key", "username", "role", "status", "code"),
    [
        ("a_supply", "new.op", "station_operator", 422, "role_not_allowed_in_organisation"),
        ("a_station", "a.admin", "station_operator", 409, "username_taken"),
        ("a_station", "A.ADMIN", "station_operator", 409, "username_taken"),
        ("a_station", "x", "station_operator", 422, "validation_error"),
        ("a_station", "ok.name", "janitor", 422, "validation_error"),
        ("b_station", "ok.name", "station_operator", 404, "organisation_not_found"),
    ],
)
def test_bad_users_are_refused_and_nothing_changes(
    client: FlaskClient,
    world: World,
    db_session: Session,
    org_key: str,
    username: str,
    role: str,
    status: int,
    code: str,
) -> None:
    before = count(db_session, User)
    response = client.post(
        "/api/v1/users",
        json={
            "organisation_id": world.orgs[org_key].id,
            "username": username,
            "full_name": "某人",
            "role": role,
        },
        headers=world.auth("a_admin"),
    )
    assert_error(response, status, code)
    assert count(db_session, User) == before


def test_role_change_must_fit_the_organisation(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    user = world.users["a_operator"]
    response = client.patch(
        f"/api/v1/users/{user.id}", json={"role": "delivery_staff"}, headers=world.auth("a_admin")
    )
    assert_error(response, 422, "role_not_allowed_in_organisation")
    db_session.expire_all()
    assert db_session.get(User, user.id).role.value == "station_operator"


def test_devices_register_and_refuse_duplicates(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    headers = world.auth("a_admin")
    payload = {
        "organisation_id": world.orgs["a_station"].id,
        "serial_no": "scale-7",
        "kind": "filling_scale",
        "name": "秤 7",
    }
    created = client.post("/api/v1/devices", json=payload, headers=headers)
    assert created.status_code == 201
    assert created.get_json()["serial_no"] == "SCALE-7"
    before = count(db_session, Device)
    assert_error(
        client.post("/api/v1/devices", json=payload, headers=headers), 409, "device_serial_taken"
    )
    wrong_place = {**payload, "serial_no": "scale-8", "organisation_id": world.orgs["a_supply"].id}
    assert_error(
        client.post("/api/v1/devices", json=wrong_place, headers=headers),
        422,
        "device_not_allowed_in_organisation",
    )
    assert count(db_session, Device) == before


def test_deactivated_device_token_stops_working(client: FlaskClient, world: World) -> None:
    device = world.devices["a_handheld"]
    assert client.get("/api/v1/me", headers=world.auth("a_handheld")).status_code == 200
    response = client.patch(
        f"/api/v1/devices/{device.id}", json={"active": False}, headers=world.auth("a_admin")
    )
    assert response.status_code == 200
    assert_error(client.get("/api/v1/me", headers=world.auth("a_handheld")), 401, "invalid_token")


def test_lists_are_paginated(client: FlaskClient, world: World) -> None:
    response = client.get(
        "/api/v1/organisations?page=1&page_size=2", headers=world.auth("sysadmin")
    )
    assert len(response.get_json()) == 2
    assert '"total"' in response.headers["X-Pagination"]
    assert_error(
        client.get("/api/v1/organisations?page_size=1000", headers=world.auth("sysadmin")),
        422,
        "validation_error",
    )


def test_list_filters(client: FlaskClient, world: World) -> None:
    response = client.get(
        "/api/v1/organisations?kind=filling_station&page_size=100", headers=world.auth("sysadmin")
    )
    kinds = {item["kind"] for item in response.get_json()}
    assert kinds == {"filling_station"}
    response = client.get(
        f"/api/v1/users?role=station_operator&organisation_id={world.orgs['a_station'].id}",
        headers=world.auth("a_admin"),
    )
    assert [item["username"] for item in response.get_json()] == ["a.operator"]
