"""Registration refuses bad identifiers with a field-level message in Chinese and English."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cylinder_trace.customers.models import Customer
from tests.assertions import assert_error
from tests.customers.helpers import (
    BRIEF_CREDIT_CODE,
    BRIEF_ID,
    BRIEF_ID_WRONG_CHECK,
    business,
    credit_code,
    id_number,
    person,
    register,
    registered,
    with_credit_check,
    with_id_check,
)
from tests.world import World

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def assert_field_error(response, code: str, field: str) -> dict:  # type: ignore[no-untyped-def]
    assert_error(response, 422, code)
    details = response.get_json()["details"]
    assert details["field"] == field
    assert CHINESE.search(details["message_zh"]), details
    assert details["message_en"] and not CHINESE.search(details["message_en"])
    assert any(e["field"] == field and e["code"] == code for e in details["errors"])
    return details


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Customer))


@pytest.mark.parametrize(
    ("given", "masked"),
    [
        (BRIEF_ID, "110105********002X"),
        ("11010519491231002x", "110105********002X"),  # lower-case x is the same number
        (" 11010519491231002X ", "110105********002X"),
        (id_number("500111", "20000229", "001"), None),  # a real leap day
        (id_number("500111", "19000101", "001"), None),
    ],
)
def test_valid_id_numbers_are_accepted_and_masked(
    client: FlaskClient, world: World, given: str, masked: str | None
) -> None:
    body = registered(client, world, **person(id_number=given))
    normalised = given.strip().upper()
    assert body["id_number_masked"] == (masked or normalised[:6] + "********" + normalised[14:])
    assert "id_number" not in body


@pytest.mark.parametrize(
    ("given", "code"),
    [
        (BRIEF_ID_WRONG_CHECK, "id_number_checksum"),
        ("11010519491231002Y", "id_number_format"),
        ("1101051949123100", "id_number_length"),
        ("11010519491231002X1", "id_number_length"),
        ("", "id_number_length"),
        ("11010519491231００2X", "id_number_format"),  # full-width digits
        (with_id_check("01010519491231002"), "id_number_region"),
        # Right check characters, impossible dates: the date is what is wrong.
        (with_id_check("11010519490230002"), "id_number_birth_date"),
        (with_id_check("11010519491301002"), "id_number_birth_date"),
        (with_id_check("11010519000229002"), "id_number_birth_date"),  # 1900 no leap year
        (with_id_check("11010518991231002"), "id_number_birth_date"),
        (with_id_check("11010520991231002"), "id_number_birth_date"),  # in the future
    ],
)
def test_invalid_id_numbers_are_422_with_bilingual_field_messages(
    client: FlaskClient, world: World, db_session: Session, given: str, code: str
) -> None:
    assert_field_error(register(client, world, **person(id_number=given)), code, "id_number")
    assert _count(db_session) == 0


def test_a_business_responsible_persons_id_number_is_checked_too(
    client: FlaskClient, world: World
) -> None:
    response = register(client, world, **business(id_number=BRIEF_ID_WRONG_CHECK))
    assert_field_error(response, "id_number_checksum", "id_number")


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (BRIEF_CREDIT_CODE, BRIEF_CREDIT_CODE),
        (BRIEF_CREDIT_CODE.lower(), BRIEF_CREDIT_CODE),
        (credit_code("MA5U12345"), credit_code("MA5U12345")),
        (with_credit_check("Y1500111ABCDEFGHJ"), with_credit_check("Y1500111ABCDEFGHJ")),
    ],
)
def test_valid_credit_codes(client: FlaskClient, world: World, given: str, stored: str) -> None:
    assert registered(client, world, **business(credit_code=given))["credit_code"] == stored


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("91350100M000100Y44", "credit_code_checksum"),
        ("91350100M000100Y4", "credit_code_length"),
        ("91350100M000100I43", "credit_code_format"),  # I is not in the GB 32100 set
        ("Z1350100M000100Y43", "credit_code_format"),
        ("B1350100M000100Y43", "credit_code_authority"),
        ("90350100M000100Y43", "credit_code_entity_type"),
        ("9135A100M000100Y43", "credit_code_division"),
    ],
)
def test_invalid_credit_codes(
    client: FlaskClient, world: World, db_session: Session, given: str, code: str
) -> None:
    assert_field_error(register(client, world, **business(credit_code=given)), code, "credit_code")
    assert _count(db_session) == 0


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("(023) 4372 1234", "023-43721234"),
        ("023-43721234", "023-43721234"),
    ],
)
def test_phones_are_normalised(client: FlaskClient, world: World, given: str, stored: str) -> None:
    assert registered(client, world, **person(phone=given))["phone"] == stored


@pytest.mark.parametrize("given", ["12345678", "10812345678", "4372 1234", "abc", ""])
def test_invalid_phones(client: FlaskClient, world: World, given: str) -> None:
    assert_field_error(register(client, world, **person(phone=given)), "phone_format", "phone")


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        (business(credit_code=None), "credit_code_required", "credit_code"),
        (business(responsible_person="  "), "responsible_person_required", "responsible_person"),
        (person(credit_code=BRIEF_CREDIT_CODE), "credit_code_not_for_person", "credit_code"),
        (
            person(responsible_person="王五"),
            "responsible_person_not_for_person",
            "responsible_person",
        ),
        (person(is_catering=True), "catering_needs_business", "is_catering"),
        (person(name="  "), "name_missing", "name"),
        (person(address=""), "address_missing", "address"),
        (person(division_code="991111"), "division_code_invalid", "division_code"),
        (person(division_code="500011"), "division_code_invalid", "division_code"),
        (person(premises_floor=0), "premises_floor_zero", "premises_floor"),
    ],
)
def test_field_rules(client: FlaskClient, world: World, data: dict, code: str, field: str) -> None:
    assert_field_error(register(client, world, **data), code, field)


def test_every_wrong_field_is_reported_at_once(client: FlaskClient, world: World) -> None:
    response = register(
        client, world, **person(id_number=BRIEF_ID_WRONG_CHECK, phone="123", division_code="x")
    )
    details = assert_field_error(response, "id_number_checksum", "id_number")
    assert [e["field"] for e in details["errors"]] == ["id_number", "phone", "division_code"]
    assert all(CHINESE.search(e["message_zh"]) for e in details["errors"])


def test_missing_fields_are_422_in_the_usual_shape(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/api/v1/customers", json={"kind": "person"}, headers=world.auth("a_admin")
    )
    assert_error(response, 422, "validation_error")
    fields = response.get_json()["details"]["fields"]["json"]
    assert {"name", "id_number", "phone", "address", "division_code"} <= set(fields)


def test_catering_business_defaults_to_restaurant_premises(
    client: FlaskClient, world: World
) -> None:
    body = registered(client, world, **business())
    assert (body["is_catering"], body["premises_type"]) == (True, "restaurant")
    assert body["responsible_person"] == "王五"
    assert body["id_number_masked"].startswith("500111********")
    home = registered(client, world, **person())
    assert (home["is_catering"], home["premises_type"]) == (False, "household")
