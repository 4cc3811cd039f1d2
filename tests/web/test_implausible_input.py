"""The issue-13 findings one by one: values no column holds, dates no record has, names of
spaces, endless lists, hostile CSV cells and page forms. Each is refused with a 4xx and a
code, and what was stored before is still there, unchanged."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import marshmallow as ma
import pytest
from flask.testing import FlaskClient
from sqlalchemy import String, func, select
from sqlalchemy.orm import Session

from cylinder_trace import create_app
from cylinder_trace.auth.models import ApiToken
from cylinder_trace.auth.schemas import TokenCreateSchema
from cylinder_trace.catering.models import CateringCheck
from cylinder_trace.catering.schemas import CheckCreateSchema, EquipmentUpdateSchema
from cylinder_trace.columns import numeric_limit
from cylinder_trace.config import ConfigError, load_settings
from cylinder_trace.customers.models import Customer
from cylinder_trace.customers.schemas import CustomerCreateSchema, CustomerUpdateSchema
from cylinder_trace.cylinders.models import Cylinder, CylinderInspection
from cylinder_trace.cylinders.schemas import CylinderCreateSchema, InspectionCreateSchema
from cylinder_trace.devices.models import Device
from cylinder_trace.devices.schemas import DeviceCreateSchema, DeviceUpdateSchema
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.organisations.schemas import (
    OrganisationCreateSchema,
    OrganisationUpdateSchema,
)
from cylinder_trace.scans.api import fast_scan_reader
from cylinder_trace.scans.models import Scan
from cylinder_trace.scans.schemas import ScanCreateSchema
from cylinder_trace.users.models import User
from cylinder_trace.users.schemas import UserCreateSchema, UserUpdateSchema
from cylinder_trace.web.api import Blueprint
from tests.catering.helpers import catering_user, check_body, cst, post_check, post_multipart
from tests.conftest import TEST_SECRET
from tests.cylinders.conftest import cylinder_json
from tests.hostile import error_code, row_counts
from tests.pages.helpers import login, page_token, sign_in
from tests.scans.conftest import at, scan
from tests.world import World

CYLINDERS = "/api/v1/cylinders"


def refused(response: Any, *field: str, location: str = "json") -> None:
    assert (response.status_code, error_code(response)) == (422, "validation_error"), (
        response.get_data(as_text=True)
    )
    node = response.get_json()["details"]["fields"][location]
    for key in field:
        node = node[key]


# --- decimals and whole numbers within their columns --------------------------------------


@pytest.mark.parametrize("tare", [1e10, "1e10", "10000", "9999.995", "1e100000", "-0.01"])
def test_a_tare_no_column_holds_is_refused(
    client: FlaskClient, world: World, db_session: Session, tare: Any
) -> None:
    response = client.post(
        CYLINDERS, json=cylinder_json(tare_kg=tare), headers=world.auth("a_operator")
    )
    refused(response, "tare_kg")
    assert db_session.scalar(select(func.count()).select_from(Cylinder)) == 0


def test_the_largest_tare_the_column_holds_is_kept(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    assert numeric_limit(Cylinder.tare_kg) == Decimal("9999.99")
    response = client.post(
        CYLINDERS, json=cylinder_json(tare_kg="9999.99"), headers=world.auth("a_operator")
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert db_session.scalar(select(Cylinder.tare_kg)) == Decimal("9999.99")


def test_a_floor_with_a_fraction_is_refused_not_truncated(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    user = catering_user(client, world, premises_floor=2)
    url = f"/api/v1/customers/{user['id']}"
    refused(client.patch(url, json={"premises_floor": 1.5}, headers=world.auth("a_admin")),
            "premises_floor")  # fmt: skip
    refused(
        client.post("/api/v1/customers", json={**_business(), "premises_floor": 1.5},
                    headers=world.auth("a_admin")),
        "premises_floor",
    )  # fmt: skip
    assert db_session.get(Customer, user["id"]).premises_floor == 2
    # A whole number written as 3.0 is the number 3.
    response = client.patch(url, json={"premises_floor": 3.0}, headers=world.auth("a_admin"))
    assert response.status_code == 200 and response.get_json()["premises_floor"] == 3


def _business() -> dict[str, Any]:
    from tests.customers.helpers import business, credit_code

    return business(credit_code=credit_code("MA5U99999"), name="新开餐馆")


# --- dates and instants in a plausible window ---------------------------------------------


@pytest.mark.parametrize(
    "checked_at",
    [
        "1970-01-01T10:00:00+08:00",
        "0210-06-01T10:00:00+08:00",
        "1999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-12:00",
        "0001-01-01T00:00:00+14:00",
    ],
)
def test_a_catering_check_dated_before_the_service_or_out_of_time_is_refused(
    client: FlaskClient, world: World, db_session: Session, checked_at: str
) -> None:
    user = catering_user(client, world)
    body = {**check_body(), "checked_at": checked_at}
    refused(post_check(client, world, user["id"], **body), "checked_at")
    refused(post_multipart(client, world, user["id"], body), "checked_at", location="form")
    assert db_session.scalar(select(func.count()).select_from(CateringCheck)) == 0


def test_the_window_is_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from cylinder_trace.web import bounds

    testing = {"CT_ENV": "testing"}
    settings = load_settings(
        {**testing, "CT_EARLIEST_DATE": "2020-01-01", "CT_MAX_DAYS_AHEAD": "1"}
    )
    monkeypatch.setattr(bounds, "input_limits", lambda: settings.input_limits)
    schema = ScanCreateSchema()
    base = scan("collect", "CQDZ-000001", 0)
    assert schema.load(base)["occurred_at"]
    for moment in ("2019-12-31T23:00:00Z", "2999-01-01T00:00:00Z"):
        with pytest.raises(ma.ValidationError) as error:
            schema.load({**base, "occurred_at": moment})
        assert "occurred_at" in error.value.messages
    with pytest.raises(ConfigError, match="CT_EARLIEST_DATE"):
        load_settings({**testing, "CT_EARLIEST_DATE": "someday"})
    with pytest.raises(ConfigError, match="CT_MAX_JSON_DEPTH"):
        load_settings({**testing, "CT_MAX_JSON_DEPTH": "0"})


def test_the_json_limits_are_settings(tmp_path: Any) -> None:
    app = create_app(
        {
            "DATABASE_URL": "sqlite://",
            "CT_ENV": "testing",
            "SECRET_KEY": TEST_SECRET,
            "CT_INSTANCE_PATH": str(tmp_path),
            "CT_MAX_JSON_DEPTH": "3",
            "CT_MAX_JSON_BYTES": "100",
        }
    )
    client = app.test_client()
    response = client.post("/api/v1/scans", data="[[[[]]]]", content_type="application/json")
    assert (response.status_code, error_code(response)) == (400, "json_too_deep")
    response = client.post("/api/v1/scans", json={"note": "x" * 100})
    assert (response.status_code, error_code(response)) == (413, "payload_too_large")


# --- names of spaces only -----------------------------------------------------------------


def test_names_of_spaces_only_are_refused_and_nothing_changes(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    admin = world.auth("sysadmin")
    blank = " \t　 "  # an ideographic space among them
    user, device, org = world.users["a_operator"], world.devices["a_handheld"], world.orgs["a"]
    cases = [
        (client.post("/api/v1/users", headers=admin, json={
            "organisation_id": org.id, "username": "new.user", "full_name": blank,
            "role": "company_admin"}), "full_name"),
        (client.patch(f"/api/v1/users/{user.id}", headers=admin, json={"full_name": blank}),
         "full_name"),
        (client.post("/api/v1/devices", headers=admin, json={
            "organisation_id": org.id, "serial_no": "HH-9", "kind": "handheld", "name": blank}),
         "name"),
        (client.patch(f"/api/v1/devices/{device.id}", headers=admin, json={"name": blank}), "name"),
        (client.post("/api/v1/tokens", headers=admin, json={"name": blank, "user_id": user.id}),
         "name"),
    ]  # fmt: skip
    for response, field in cases:
        refused(response, field)
    response = client.patch(f"/api/v1/organisations/{org.id}", headers=admin, json={"name": blank})
    assert (response.status_code, error_code(response)) == (422, "organisation_name_missing")
    db_session.expire_all()
    assert (user.full_name, device.name, org.name) == ("a_operator", "handheld", "大足燃气")
    assert db_session.scalar(select(func.count()).select_from(ApiToken)) == len(world.tokens)
    assert db_session.scalar(select(func.count()).select_from(User)) == len(world.users)
    assert db_session.scalar(select(func.count()).select_from(Device)) == len(world.devices)


def test_a_customer_named_with_spaces_only_is_refused(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    customer = catering_user(client, world, name="老字号")
    response = client.patch(
        f"/api/v1/customers/{customer['id']}", json={"name": "   "}, headers=world.auth("a_admin")
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    response = client.post(
        "/api/v1/customers", json={**_business(), "name": "   "}, headers=world.auth("a_admin")
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert db_session.get(Customer, customer["id"]).name == "老字号"


# --- lists of bounded length --------------------------------------------------------------


def test_a_scan_with_a_hundred_thousand_staff_is_refused(
    client: FlaskClient, world: World, db_session: Session, make_cylinder: Any
) -> None:
    make_cylinder("CQDZ-000001")
    crowd = ["张三"] * 100_000
    dispatch = scan("dispatch", "CQDZ-000001", 1, vehicle_plate="渝A12345")
    before = db_session.scalar(select(func.count()).select_from(Scan))
    response = client.post(
        "/api/v1/scans", json={**dispatch, "staff": crowd}, headers=world.auth("a_operator")
    )
    refused(response, "staff")
    # In a batch it is that item that is rejected; the others are judged as ever.
    response = client.post(
        "/api/v1/scans/batch",
        json={"scans": [{**dispatch, "staff": crowd}, scan("collect", "CQDZ-000001", 2)]},
        headers=world.auth("a_handheld"),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    first, second = response.get_json()["results"]
    assert (first["status"], first["code"]) == ("rejected", "validation_error")
    assert "staff" in first["details"]["fields"]
    assert second["code"] != "validation_error"
    assert db_session.scalar(select(func.count()).select_from(Scan)) >= before


# --- the cylinder import: NUL, endless cells, masses past the column ----------------------

HEADER = "code,model,manufacturer,serial_no,manufactured_on,tare_kg\n"


def _import(client: FlaskClient, world: World, text: str) -> Any:
    return client.post(
        f"{CYLINDERS}/import",
        data={"file": (io.BytesIO(text.encode("utf-8")), "cylinders.csv")},
        headers=world.auth("a_operator"),
        content_type="multipart/form-data",
    )


def test_an_import_names_rows_with_nul_or_a_mass_past_the_column(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    rows = [
        "CQDZ-000001,YSP35.5,重庆钢瓶厂,SN-1,2024-03-15,16.40",
        "CQDZ-000002,YSP35.5,重庆\x00钢瓶厂,SN-2,2024-03-15,16.40",
        "CQDZ-000003,YSP35.5,重庆钢瓶厂,SN-3,2024-03-15,9999.999",
        f"CQDZ-000004,YSP35.5,重庆钢瓶厂,SN-4,2024-03-15,{'9' * 2000}",
    ]
    response = _import(client, world, HEADER + "\n".join(rows) + "\n")
    assert response.status_code == 200, response.get_data(as_text=True)
    report = response.get_json()
    assert (report["created"], report["rejected"]) == (1, 3)
    assert [(e["row"], e["code"]) for e in report["errors"]] == [
        (3, "invalid_text"),
        (4, "row_number_invalid"),
        (5, "row_field_too_long"),
    ]
    assert db_session.scalars(select(Cylinder.code)).all() == ["CQDZ-000001"]


def test_an_import_with_a_cell_past_the_csv_limit_stores_nothing(
    client: FlaskClient, world: World, db_session: Session, make_cylinder: Any
) -> None:
    make_cylinder("CQDZ-000009")
    before = row_counts(db_session)
    long_cell = "x" * 131_073
    text = HEADER + "CQDZ-000001,YSP35.5,重庆钢瓶厂,SN-1,2024-03-15,16.40\n"
    text += f'CQDZ-000002,YSP35.5,"{long_cell}",SN-2,2024-03-15,16.40\n'
    response = _import(client, world, text)
    assert (response.status_code, error_code(response)) == (422, "import_file_invalid")
    assert row_counts(db_session) == before


# --- the pages' forms ---------------------------------------------------------------------


def test_page_forms_refuse_nul(client: FlaskClient, world: World, db_session: Session) -> None:
    assert sign_in(client, "a\x00operator").status_code == 422
    token = login(client, db_session, world.users["a_operator"])
    before = row_counts(db_session)
    response = client.post("/station", data={"scan": "CQDZ\x00-000001", "csrf_token": token})
    assert response.status_code == 422
    assert "<html" in response.get_data(as_text=True).lower()
    response = client.post(
        "/station/check",
        data=json.dumps({"scan": "CQDZ\u0000"}),
        content_type="application/json",
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 422
    assert row_counts(db_session) == before
    assert page_token(client, "/station")  # the session still works


def test_a_visit_sent_as_a_form_is_checked_like_json(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    user = catering_user(client, world)
    body = {**check_body(cst(2026, 11, 30, 10, 0)), "notes": "门口\u0000"}
    response = post_multipart(client, world, user["id"], body)
    assert (response.status_code, error_code(response)) == (422, "invalid_text")
    assert response.get_json()["details"] == {"location": "form", "field": "/notes"}
    deep = {**check_body(), "notes": json.loads("[" * 40 + "]" * 40)}
    response = post_multipart(client, world, user["id"], deep)
    assert (response.status_code, error_code(response)) == (400, "json_too_deep")
    assert db_session.scalar(select(func.count()).select_from(CateringCheck)) == 0


# --- one place: the schemas, their columns, and the scans' quick reader -------------------

# Request schemas and the model whose columns their same-named fields fill.
FILLS = [
    (CylinderCreateSchema, Cylinder),
    (InspectionCreateSchema, CylinderInspection),
    (CustomerCreateSchema, Customer),
    (CustomerUpdateSchema, Customer),
    (EquipmentUpdateSchema, Customer),
    (OrganisationCreateSchema, Organisation),
    (OrganisationUpdateSchema, Organisation),
    (UserCreateSchema, User),
    (UserUpdateSchema, User),
    (DeviceCreateSchema, Device),
    (DeviceUpdateSchema, Device),
    (TokenCreateSchema, ApiToken),
    (CheckCreateSchema, CateringCheck),
]


@pytest.mark.parametrize(("schema_class", "model"), FILLS, ids=[s.__name__ for s, _ in FILLS])
def test_every_field_refuses_what_its_column_cannot_hold(schema_class: Any, model: Any) -> None:
    schema = schema_class()
    columns = model.__table__.columns
    checked = 0
    for name, field in schema.load_fields.items():
        if name not in columns:
            continue
        column_type = columns[name].type
        if isinstance(field, ma.fields.String) and isinstance(column_type, String):
            if column_type.length is None or name in {"division_code", "credit_code"}:
                continue  # the services check these codes digit by digit, with their own codes
            value = "9" * (column_type.length + 1)
        elif isinstance(field, ma.fields.Decimal):
            value = str(numeric_limit(columns[name]) + Decimal("0.01"))
        elif isinstance(field, ma.fields.Integer):
            value = 2**31
        else:
            continue
        checked += 1
        with pytest.raises(ma.ValidationError) as error:
            schema.load({name: value}, partial=True)
        assert name in error.value.messages, (name, error.value.messages)
    assert checked


def test_a_request_schema_must_be_bounded() -> None:
    class Loose(ma.Schema):
        name = ma.fields.String()

    with pytest.raises(TypeError, match="InputSchema"):
        Blueprint("loose", __name__).arguments(Loose)


HOSTILE_SCANS = [
    {"occurred_at": "1970-01-01T00:00:00Z"},
    {"occurred_at": "9999-12-31T23:59:59-12:00"},
    {"occurred_at": "0001-01-01T00:00:00+14:00"},
    {"site_id": 2**31},
    {"site_id": 1.5},
    {"staff": ["张三"] * 101},
    {"code": "   "},
    {"operator": "x" * 1001},
    {"pre_fill_check": {f"item{n}": True for n in range(101)}},
    {"buyer": {"customer_id": 2**31}},
]


@pytest.mark.parametrize("change", HOSTILE_SCANS, ids=[str(c)[:30] for c in HOSTILE_SCANS])
def test_the_quick_reader_applies_the_same_bounds(change: dict[str, Any]) -> None:
    item = {**scan("collect", "CQDZ-000001", 0), **change}
    assert fast_scan_reader.quick(item) is None  # it cannot vouch for it...
    with pytest.raises(ma.ValidationError):  # ...and the schema refuses it
        ma.Schema.load(ScanCreateSchema(), item)
    assert fast_scan_reader.quick(scan("collect", "CQDZ-000001", 0)) is not None
    assert at(0)
