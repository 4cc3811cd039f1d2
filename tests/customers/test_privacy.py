"""PIPL: ID numbers encrypted at rest, masked in every response and export, revealed only
with a recorded reason, and never written to a log line."""

from __future__ import annotations

import csv
import io
import logging
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cylinder_trace.customers.models import IdNumberReveal
from cylinder_trace.db import utcnow
from cylinder_trace.models import Base
from tests.assertions import assert_error
from tests.customers.helpers import (
    BRIEF_ID,
    BRIEF_ID_WRONG_CHECK,
    business,
    id_number,
    person,
    register,
    registered,
)
from tests.world import World

URL = "/api/v1/customers"
MASKED = "110105********002X"


def _plain_forms(number: str) -> list[str]:
    # The number, its lower-case-x spelling, its 17-digit body and its birth date.
    return [number, number.lower(), number[:17], number[6:14]]


def test_every_response_and_the_export_show_the_number_masked(
    client: FlaskClient, world: World
) -> None:
    headers = world.auth("a_admin")
    created = register(client, world, **person(id_number=BRIEF_ID.lower()))
    customer_id = created.get_json()["id"]
    responses = {
        "register": created,
        "duplicate": register(client, world, **person()),
        "list": client.get(URL, headers=headers),
        "one": client.get(f"{URL}/{customer_id}", headers=headers),
        "patch": client.patch(f"{URL}/{customer_id}", json={"address": "新址"}, headers=headers),
        "lookup": client.post(f"{URL}/lookup", json={"id_number": BRIEF_ID}, headers=headers),
        "export": client.get(f"{URL}/export.csv", headers=headers),
        "bureau_list": client.get(URL, headers=world.auth("dazu_reviewer")),
        "bureau_export": client.get(f"{URL}/export.csv", headers=world.auth("city_regulator")),
        "reveals": client.get(f"{URL}/{customer_id}/reveals", headers=headers),
        "invalid": register(client, world, **person(id_number=BRIEF_ID_WRONG_CHECK)),
    }
    assert responses["duplicate"].status_code == 409
    assert responses["invalid"].status_code == 422
    for name, response in responses.items():
        body = response.get_data(as_text=True)
        assert response.status_code < 500, name
        for plain in [*_plain_forms(BRIEF_ID), BRIEF_ID_WRONG_CHECK]:
            assert plain not in body, f"{name} leaks the ID number"
        if name not in ("duplicate", "invalid", "reveals"):
            assert MASKED in body, name


def test_csv_export(client: FlaskClient, world: World) -> None:
    registered(client, world, **person(name='=HYPERLINK("http://evil")'))
    registered(client, world, **business())
    registered(client, world, "b_admin", **person(division_code="500112", name="渝北客户"))
    response = client.get(f"{URL}/export.csv?kind=person", headers=world.auth("a_admin"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [title.split()[-1] for title in rows[0]] == [
        "id",
        "kind",
        "name",
        "id_number",
        "credit_code",
        "responsible_person",
        "phone",
        "address",
        "division_code",
        "is_catering",
        "premises_type",
        "active",
        "created_at",
    ]
    assert BRIEF_ID not in raw.decode("utf-8-sig")
    assert len(rows) == 1  # filtered, and only company A's
    row = rows[0]
    assert row["身份证号码 id_number"] == MASKED
    assert row["名称 name"] == '\'=HYPERLINK("http://evil")'  # not run as a formula
    assert row["类型 kind"] == "person"
    both = client.get(f"{URL}/export.csv", headers=world.auth("city_regulator"))
    assert len(list(csv.reader(io.StringIO(both.get_data(as_text=True))))) == 1 + 3


def _reveal(  # type: ignore[no-untyped-def]
    client: FlaskClient, world: World, who: str, customer_id: int, reason: str | None = "核对身份"
):
    return client.post(
        f"{URL}/{customer_id}/reveal-id-number",
        json={"reason": reason} if reason is not None else {},
        headers=world.auth(who),
    )


def test_reveal_returns_the_number_and_records_who_when_why(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    customer = registered(client, world, **person(id_number=BRIEF_ID.lower()))
    before = utcnow()
    response = _reveal(client, world, "a_admin", customer["id"], "  客户补办发票需核对身份  ")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["id_number"] == BRIEF_ID  # normalised: upper-case X
    assert body["customer_id"] == customer["id"]
    assert body["revealed_at"].endswith("+00:00")

    assert _reveal(client, world, "sysadmin", customer["id"], "监管抽查").status_code == 200
    audit = client.get(f"{URL}/{customer['id']}/reveals", headers=world.auth("a_admin"))
    assert audit.status_code == 200
    records = audit.get_json()
    assert [r["username"] for r in records] == ["sysadmin", "a.admin"]  # newest first
    first = records[1]
    assert first["id"] == body["reveal_id"]
    assert first["user_id"] == world.users["a_admin"].id
    assert first["reason"] == "客户补办发票需核对身份"
    assert first["request_ip"] == "127.0.0.1"
    stored = db_session.get(IdNumberReveal, first["id"])
    assert before - timedelta(seconds=1) <= stored.revealed_at <= utcnow()
    regulator = client.get(f"{URL}/{customer['id']}/reveals", headers=world.auth("city_regulator"))
    assert len(regulator.get_json()) == 2


@pytest.mark.parametrize(
    "who", ["a_operator", "a_courier", "dazu_reviewer", "city_regulator", "a_handheld"]
)
def test_other_roles_may_not_reveal(
    client: FlaskClient, world: World, db_session: Session, who: str
) -> None:
    customer = registered(client, world, **person())
    response = _reveal(client, world, who, customer["id"])
    assert_error(response, 403, "forbidden")
    assert BRIEF_ID not in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(IdNumberReveal)) == 0


def test_another_companys_admin_gets_404(client: FlaskClient, world: World) -> None:
    customer = registered(client, world, **person())
    assert_error(_reveal(client, world, "b_admin", customer["id"]), 404, "customer_not_found")
    response = client.get(f"{URL}/{customer['id']}/reveals", headers=world.auth("b_admin"))
    assert_error(response, 404, "customer_not_found")


@pytest.mark.parametrize("who", ["a_operator", "a_courier", "dazu_reviewer"])
def test_the_audit_is_for_admins_and_regulators(
    client: FlaskClient, world: World, who: str
) -> None:
    customer = registered(client, world, **person())
    response = client.get(f"{URL}/{customer['id']}/reveals", headers=world.auth(who))
    assert_error(response, 403, "forbidden")


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        (None, "validation_error"),
        ("", "reveal_reason_required"),
        ("  x ", "reveal_reason_required"),
    ],
)
def test_a_reveal_needs_a_reason(
    client: FlaskClient, world: World, db_session: Session, reason: str | None, code: str
) -> None:
    customer = registered(client, world, **person())
    response = _reveal(client, world, "a_admin", customer["id"], reason)
    assert_error(response, 422, code)
    assert BRIEF_ID not in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(IdNumberReveal)) == 0


def test_the_database_refuses_a_reveal_without_reason(
    client: FlaskClient, world: World, db_session: Session
) -> None:
    customer = registered(client, world, **person())
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(
            IdNumberReveal(
                customer_id=customer["id"], user_id=world.users["a_admin"].id, reason=" "
            )
        )
        db_session.flush()


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Everything at DEBUG, SQL statements and their parameters included.

    Requested before ``client``: SQLAlchemy decides whether a connection logs when the
    connection opens, which ``db_session`` does.
    """
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    return caplog


def test_no_plain_id_number_in_any_table_or_log_line(
    debug_logs: pytest.LogCaptureFixture, client: FlaskClient, world: World, db_session: Session
) -> None:
    numbers = [BRIEF_ID, id_number(born="19700101", seq="456"), id_number("500112", seq="789")]
    headers = world.auth("a_admin")
    home = registered(client, world, **person(id_number=numbers[0].lower()))
    shop = registered(client, world, "a_courier", **business(id_number=numbers[1]))
    registered(client, world, "b_admin", **person(id_number=numbers[2], division_code="500112"))
    register(client, world, **person(id_number=numbers[0]))  # duplicate
    register(client, world, **person(id_number=BRIEF_ID_WRONG_CHECK))  # invalid
    client.post(f"{URL}/lookup", json={"id_number": numbers[1]}, headers=headers)
    client.patch(f"{URL}/{shop['id']}", json={"phone": "13700001111"}, headers=headers)
    client.get(f"{URL}/export.csv", headers=headers)
    revealed = _reveal(client, world, "a_admin", home["id"]).get_json()
    assert revealed["id_number"] == numbers[0]

    stored = []
    for table in Base.metadata.sorted_tables:
        stored += [repr(tuple(row)) for row in db_session.execute(table.select())]
    stored_text = "\n".join(stored)
    log_text = debug_logs.text + "\n".join(r.getMessage() for r in debug_logs.records)

    # The scan sees what it should: stored rows, and SQL with its parameters in the logs.
    assert MASKED in stored_text
    assert "INSERT INTO customers" in log_text
    assert home["id_number_masked"] in log_text
    for number in [*numbers, BRIEF_ID_WRONG_CHECK]:
        for plain in _plain_forms(number):
            assert plain not in stored_text, f"{plain} stored in plain text"
            assert plain not in log_text, f"{plain} in a log line"


def test_reprs_are_masked(client: FlaskClient, world: World, db_session: Session) -> None:
    from cylinder_trace.customers.models import Customer

    created = registered(client, world, **person())
    customer = db_session.get(Customer, created["id"])
    assert MASKED in repr(customer)
    assert BRIEF_ID not in repr(customer)
    row = db_session.execute(text("SELECT id_number_encrypted FROM customers")).scalar_one()
    assert row.startswith("v1:") and BRIEF_ID not in row
