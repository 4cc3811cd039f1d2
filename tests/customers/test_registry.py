"""Registering, finding and changing customers; who may do what; duplicates."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cylinder_trace.customers.models import Customer, CustomerKind
from cylinder_trace.customers.services import register_customer
from cylinder_trace.db import Base
from cylinder_trace.web.current import registry
from tests.assertions import assert_error
from tests.customers.helpers import (
    BRIEF_CREDIT_CODE,
    BRIEF_ID,
    business,
    credit_code,
    id_number,
    person,
    register,
    registered,
)
from tests.world import World

URL = "/api/v1/customers"


def ids(response) -> set[int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item["id"] for item in response.get_json()}


@pytest.mark.parametrize("who", ["a_admin", "a_operator", "a_courier"])
def test_company_staff_register_for_their_company(
    client: FlaskClient, world: World, who: str
) -> None:
    body = registered(client, world, who, **person())
    assert body["company_id"] == world.orgs["a"].id
    assert body["created_by_id"] == world.users[who].id
    assert body["active"] is True


@pytest.mark.parametrize("who", ["dazu_reviewer", "city_regulator", "a_handheld"])
def test_authorities_and_bare_devices_cannot_register(
    client: FlaskClient, world: World, db_session: Session, who: str
) -> None:
    assert_error(register(client, world, who, **person()), 403, "forbidden")
    assert db_session.scalar(select(func.count()).select_from(Customer)) == 0


def test_system_admin_must_name_a_gas_company(client: FlaskClient, world: World) -> None:
    response = register(client, world, "sysadmin", **person())
    assert_error(response, 422, "company_id_required")
    assert response.get_json()["details"]["field"] == "company_id"
    station = world.orgs["b_station"].id
    response = register(client, world, "sysadmin", **person(company_id=station))
    assert_error(response, 404, "organisation_not_found")
    body = registered(client, world, "sysadmin", **person(company_id=world.orgs["b"].id))
    assert body["company_id"] == world.orgs["b"].id


def test_company_staff_cannot_register_for_another_company(
    client: FlaskClient, world: World
) -> None:
    response = register(client, world, "a_admin", **person(company_id=world.orgs["b"].id))
    assert_error(response, 404, "organisation_not_found")
    own = registered(client, world, "a_admin", **person(company_id=world.orgs["a"].id))
    assert own["company_id"] == world.orgs["a"].id


def test_duplicate_person_is_409_with_the_existing_id(client: FlaskClient, world: World) -> None:
    first = registered(client, world, **person())
    for again in (BRIEF_ID, BRIEF_ID.lower(), f" {BRIEF_ID} "):
        response = register(client, world, "a_courier", **person(id_number=again, name="张叁"))
        assert_error(response, 409, "customer_already_registered")
        assert response.get_json()["details"] == {"existing_id": first["id"]}


def test_duplicate_business_is_409(client: FlaskClient, world: World) -> None:
    first = registered(client, world, **business())
    other_person = id_number(seq="999")
    for code in (BRIEF_CREDIT_CODE, BRIEF_CREDIT_CODE.lower()):
        response = register(client, world, **business(credit_code=code, id_number=other_person))
        assert_error(response, 409, "customer_already_registered")
        assert response.get_json()["details"]["existing_id"] == first["id"]


def test_same_person_or_business_at_another_company_is_fine(
    client: FlaskClient, world: World
) -> None:
    a = registered(client, world, "a_admin", **person())
    b = registered(client, world, "b_admin", **person(division_code="500112"))
    assert a["id"] != b["id"]
    registered(client, world, "a_admin", **business())
    registered(client, world, "b_admin", **business())


def test_a_person_may_also_be_a_businesss_responsible_person(
    client: FlaskClient, world: World
) -> None:
    registered(client, world, **person())
    registered(client, world, **business(id_number=BRIEF_ID))
    registered(client, world, **business(id_number=BRIEF_ID, credit_code=credit_code()))


def test_the_database_backstops_duplicates(app: Flask, world: World, db_session: Session) -> None:
    with app.app_context():
        vault = registry().pii_vault
    first = register_customer(db_session, vault, company=world.orgs["a"], **person())
    twin = {
        column.name: getattr(first, column.name)
        for column in Base.metadata.tables["customers"].columns
        if column.name not in ("id", "card_code")
    }
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(Customer(**twin, card_code="KDUPLICATEPERSON1"))
        db_session.flush()
    biz = register_customer(db_session, vault, company=world.orgs["a"], **business())
    twin = {
        column.name: getattr(biz, column.name)
        for column in Base.metadata.tables["customers"].columns
        if column.name not in ("id", "card_code", "id_number_hash")
    }
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(Customer(**twin, id_number_hash="0" * 64, card_code="KDUPLICATEBIZ001"))
        db_session.flush()


@pytest.mark.parametrize(
    "sql",
    [
        # A person with a credit code, a business without one, a catering person.
        f"UPDATE customers SET credit_code = '{credit_code('MA5U99999')}' WHERE kind = 'person'",
        "UPDATE customers SET credit_code = NULL WHERE kind = 'business'",
        "UPDATE customers SET is_catering = true WHERE kind = 'person'",
        # The plain number in the masked column.
        "UPDATE customers SET id_number_masked = '11010519491231002X'",
        "UPDATE customers SET division_code = '5001a1'",
        "UPDATE customers SET kind = 'alien'",
    ],
)
def test_invariants_hold_in_the_database(
    client: FlaskClient, world: World, db_session: Session, sql: str
) -> None:
    registered(client, world, **person())
    registered(client, world, **business())
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.execute(text(sql))


def test_scoping_company_sees_its_own_customers_only(client: FlaskClient, world: World) -> None:
    a = registered(client, world, "a_admin", **person())
    b = registered(client, world, "b_admin", **person(division_code="500112"))
    assert ids(client.get(URL, headers=world.auth("a_courier"))) == {a["id"]}
    assert ids(client.get(URL, headers=world.auth("b_operator"))) == {b["id"]}
    for method, suffix, body in (
        ("get", "", None),
        ("patch", "", {"phone": "13900000000"}),
        ("get", "/card.png", None),
        ("get", "/reveals", None),
        ("post", "/reveal-id-number", {"reason": "核对身份"}),
    ):
        response = getattr(client, method)(
            f"{URL}/{b['id']}{suffix}", json=body, headers=world.auth("a_admin")
        )
        assert_error(response, 404, "customer_not_found")


def test_bureau_reads_its_district_only_and_changes_nothing(
    client: FlaskClient, world: World
) -> None:
    a = registered(client, world, "a_admin", **person())
    b = registered(client, world, "b_admin", **person(division_code="500112"))
    dazu = world.auth("dazu_reviewer")
    assert ids(client.get(URL, headers=dazu)) == {a["id"]}
    assert ids(client.get(URL, headers=world.auth("yubei_reviewer"))) == {b["id"]}
    assert ids(client.get(URL, headers=world.auth("city_regulator"))) == {a["id"], b["id"]}
    assert client.get(f"{URL}/{a['id']}", headers=dazu).status_code == 200
    assert_error(client.get(f"{URL}/{b['id']}", headers=dazu), 404, "customer_not_found")
    response = client.patch(f"{URL}/{a['id']}", json={"active": False}, headers=dazu)
    assert_error(response, 403, "forbidden")
    assert_error(client.get(f"{URL}/{a['id']}/card.png", headers=dazu), 403, "forbidden")


def test_patch_changes_contact_and_premises(client: FlaskClient, world: World) -> None:
    created = registered(client, world, **business())
    response = client.patch(
        f"{URL}/{created['id']}",
        json={
            "phone": "+86 139 0000 1111",
            "address": "新地址",
            "premises_floor": 2,
            "has_outdoor_cylinder_area": True,
            "active": False,
        },
        headers=world.auth("a_courier"),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["phone"] == "13900001111"
    assert (body["premises_floor"], body["has_outdoor_cylinder_area"]) == (2, True)
    assert body["active"] is False
    assert body["credit_code"] == created["credit_code"]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"phone": "12345"}, 422, "phone_format"),
        ({"is_catering": True}, 422, "catering_needs_business"),
        ({"responsible_person": "王五"}, 422, "responsible_person_not_for_person"),
        ({"name": " "}, 422, "name_missing"),
        ({"id_number": BRIEF_ID}, 422, "validation_error"),
        ({"kind": "business"}, 422, "validation_error"),
        ({"credit_code": BRIEF_CREDIT_CODE}, 422, "validation_error"),
    ],
)
def test_refused_changes_store_nothing(
    client: FlaskClient, world: World, db_session: Session, change: dict, status: int, code: str
) -> None:
    created = registered(client, world, **person(id_number=id_number(seq="777")))
    before = _snapshot(db_session)
    response = client.patch(f"{URL}/{created['id']}", json=change, headers=world.auth("a_admin"))
    assert_error(response, status, code)
    assert _snapshot(db_session) == before


def _snapshot(session: Session) -> list[tuple]:
    session.expire_all()
    rows = []
    for table in ("customers", "id_number_reveals"):
        rows += [tuple(row) for row in session.execute(text(f"SELECT * FROM {table} ORDER BY id"))]
    return rows


def test_refused_requests_store_nothing(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    a = registered(client, world, **person())
    b = registered(client, world, "b_admin", **person(division_code="500112"))
    before = _snapshot(db_session)
    refused = [
        register(client, world, **person()),  # duplicate
        register(client, world, **person(id_number=id_number(seq="555"), phone="1")),  # invalid
        register(client, world, "dazu_reviewer", **person(id_number=id_number(seq="556"))),
        client.patch(f"{URL}/{b['id']}", json={"active": False}, headers=world.auth("a_admin")),
        client.post(
            f"{URL}/{a['id']}/reveal-id-number", json={"reason": " "}, headers=world.auth("a_admin")
        ),
        client.post(
            f"{URL}/{a['id']}/reveal-id-number",
            json={"reason": "核对"},
            headers=world.auth("a_courier"),
        ),
    ]
    assert [r.status_code for r in refused] == [409, 422, 403, 404, 422, 403]
    assert _snapshot(db_session) == before


def test_list_filters(client: FlaskClient, world: World) -> None:
    home = registered(client, world, **person(name="张三"))
    shop = registered(client, world, **business(name="老王火锅店"))
    other = registered(
        client,
        world,
        **person(name="李四", id_number=id_number(seq="888"), division_code="500112"),
    )
    client.patch(f"{URL}/{other['id']}", json={"active": False}, headers=world.auth("a_admin"))
    headers = world.auth("a_admin")

    def found(query: str) -> set[int]:
        return ids(client.get(f"{URL}?{query}", headers=headers))

    assert found("kind=business") == {shop["id"]}
    assert found("catering=true") == {shop["id"]}
    assert found("catering=false") == {home["id"], other["id"]}
    assert found("active=false") == {other["id"]}
    assert found("district=500111") == {home["id"], shop["id"]}
    assert found("district=500000") == {home["id"], shop["id"], other["id"]}
    assert found("q=火锅") == {shop["id"]}
    assert found("q=%25") == set()  # LIKE wildcards are literal
    assert found(f"credit_code={BRIEF_CREDIT_CODE.lower()}") == {shop["id"]}
    response = client.get(f"{URL}?credit_code=91350100M000100Y44", headers=headers)
    assert_error(response, 422, "credit_code_checksum")
    assert_error(client.get(f"{URL}?district=99", headers=headers), 422, "division_code_invalid")


def test_lookup_by_id_number_uses_the_body(client: FlaskClient, world: World) -> None:
    home = registered(client, world, **person())
    shop = registered(client, world, **business(id_number=BRIEF_ID))
    registered(client, world, **person(id_number=id_number(seq="321")))
    b = registered(client, world, "b_admin", **person(division_code="500112"))
    lookup = f"{URL}/lookup"
    response = client.post(
        lookup, json={"id_number": BRIEF_ID.lower()}, headers=world.auth("a_courier")
    )
    assert ids(response) == {home["id"], shop["id"]}
    response = client.post(
        lookup, json={"id_number": BRIEF_ID, "active": True}, headers=world.auth("b_admin")
    )
    assert ids(response) == {b["id"]}
    response = client.post(
        lookup, json={"credit_code": BRIEF_CREDIT_CODE}, headers=world.auth("dazu_reviewer")
    )
    assert ids(response) == {shop["id"]}
    response = client.post(
        lookup, json={"id_number": "110105194912310021"}, headers=world.auth("a_admin")
    )
    assert_error(response, 422, "id_number_checksum")
    for body in ({}, {"id_number": BRIEF_ID, "credit_code": BRIEF_CREDIT_CODE}):
        response = client.post(lookup, json=body, headers=world.auth("a_admin"))
        assert_error(response, 422, "validation_error")


def test_id_numbers_are_refused_in_urls(client: FlaskClient, world: World) -> None:
    registered(client, world, **person())
    for path in (URL, f"{URL}/export.csv"):
        response = client.get(f"{path}?id_number={BRIEF_ID}", headers=world.auth("a_admin"))
        assert_error(response, 422, "validation_error")
        message = response.get_json()["details"]["fields"]["query"]["id_number"][0]
        assert "POST /customers/lookup" in message
        assert BRIEF_ID not in response.get_data(as_text=True)


def test_customer_kinds_round_trip(app: Flask, world: World, db_session: Session) -> None:
    with app.app_context():
        customer = register_customer(
            db_session, registry().pii_vault, company=world.orgs["a"], **business()
        )
    db_session.expire_all()
    again = db_session.get(Customer, customer.id)
    assert again.kind is CustomerKind.BUSINESS
    assert again.company.name == "大足燃气"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ""),
        ("post", ""),
        ("post", "/lookup"),
        ("get", "/export.csv"),
        ("get", "/1"),
        ("patch", "/1"),
        ("post", "/1/reveal-id-number"),
        ("get", "/1/reveals"),
        ("get", "/1/card.png"),
    ],
)
def test_every_endpoint_needs_a_token(
    client: FlaskClient, world: World, method: str, path: str
) -> None:
    assert_error(getattr(client, method)(f"{URL}{path}", json={}), 401, "unauthenticated")
