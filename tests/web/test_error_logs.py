"""A database error never puts a customer's details in the log.

The drivers repeat the offending values in their messages ("Failing row contains (...)",
"invalid input syntax for type integer: ..."), and SQLAlchemy adds the statement's
parameters: both must stay out of every log record. Each test makes the database fail while
it holds a real customer's details, in each way an error is logged.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from cylinder_trace.customers import services
from cylinder_trace.customers.models import Customer
from cylinder_trace.web.current import registry
from tests.customers.helpers import id_number, person
from tests.world import World

NAME, PHONE, ADDRESS = "欧阳娜娜", "13987654321", "大足区棠香街道五星大道88号"
ID_NUMBER = id_number(region="500111", born="19900307", seq="456")


def _failing_after_registration(statement: str) -> Any:
    """register_customer_as, then a statement that fails with the customer's details bound."""
    original = services.register_customer_as

    def register(session: Session, vault: Any, principal: Any, data: dict) -> Customer:
        customer = original(session, vault, principal, data)
        session.execute(
            text(statement),
            {
                "name": customer.name,
                "phone": customer.phone,
                "address": customer.address,
                "hash": customer.id_number_hash,
                "secret": customer.id_number_encrypted,
                "number": data["id_number"],
            },
        )
        return customer

    return register


# A CHECK violation without a registered meaning (logged as a warning, answered 409) and a
# type error (unhandled: 500). PostgreSQL's messages quote the row or the value; SQLite's
# type error is the CHECK one (it casts nothing).
FAILURES = {
    "unregistered_constraint": (
        "INSERT INTO scan_chains (chain_key, length, head_hash) "
        "VALUES (:name || :phone || :address || :number, 0, :hash)",
        409,
    ),
    "unhandled_type_error": (
        "SELECT CAST(:name || :phone || :address || :number || :hash AS INTEGER) "
        "FROM scan_chains WHERE length < 0 OR CAST(:secret AS INTEGER) > 0",
        None,
    ),
}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_database_errors_log_no_personal_data(
    client: FlaskClient,
    world: World,
    db_session: Session,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    failure: str,
) -> None:
    statement, status = FAILURES[failure]
    monkeypatch.setattr(services, "register_customer_as", _failing_after_registration(statement))
    caplog.set_level(logging.DEBUG)
    body = person(name=NAME, phone=PHONE, address=ADDRESS, id_number=ID_NUMBER)
    with db_session.begin_nested():
        response = client.post("/api/v1/customers", json=body, headers=world.auth("a_admin"))
    if status is not None:
        assert response.status_code == status, response.get_json()
    else:
        # SQLite runs the type "error" happily; PostgreSQL refuses it: 500 then.
        assert response.status_code in (201, 500), response.get_json()
    answer = response.get_data(as_text=True)
    vault = pii_vault_for(client)
    secrets = {
        NAME,
        PHONE,
        ADDRESS,
        ID_NUMBER,
        services.id_number_hash(vault, ID_NUMBER),
    }
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    for secret in secrets:
        assert secret not in logged, (secret, caplog.text[:2000])
        if response.status_code >= 400:
            assert secret not in answer
    if response.status_code >= 400:
        # The failure itself is logged, with where it happened.
        assert any(record.levelno >= logging.WARNING for record in caplog.records)
        assert "scan_chains" in caplog.text


def pii_vault_for(client: FlaskClient) -> Any:
    with client.application.app_context():
        return registry().pii_vault
