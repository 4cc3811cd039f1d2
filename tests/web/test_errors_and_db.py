"""One JSON error shape for everything; invariants held by the database itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from cylinder_trace.domain.roles import OrganisationKind
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.web.errors import handle_error
from tests.assertions import assert_error
from tests.world import World


def test_unknown_route_is_json_404(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_wrong_method_is_json_405(client: FlaskClient) -> None:
    assert_error(client.put("/api/v1/health"), 405, "method_not_allowed")


def test_malformed_json_is_a_clear_error(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/api/v1/organisations",
        data="{not json",
        content_type="application/json",
        headers=world.auth("sysadmin"),
    )
    assert response.status_code in (400, 422)
    assert list(response.get_json()) == ["code", "status", "message", "details"]


def test_unexpected_errors_are_json_500_without_internals(app: Flask) -> None:
    with app.test_request_context():
        response = handle_error(RuntimeError("secret internals"))
    assert response.status_code == 500
    assert response.get_json()["code"] == "internal_error"
    assert "secret" not in response.get_data(as_text=True)


def _insert(session: Session, **values: object) -> None:
    session.add(Organisation(**values))
    session.flush()


def test_database_backstops_uniqueness_with_a_named_error(
    app: Flask, world: World, db_session: Session
) -> None:
    nested = db_session.begin_nested()
    with pytest.raises(IntegrityError) as caught:
        _insert(
            db_session, kind=OrganisationKind.GAS_COMPANY, name="大足燃气", division_code="500111"
        )
    nested.rollback()
    with app.test_request_context():
        response = handle_error(caught.value)
    assert response.status_code == 409
    assert response.get_json()["code"] == "organisation_name_taken"


@pytest.mark.parametrize(
    "values",
    [
        {"kind": OrganisationKind.FILLING_STATION, "name": "orphan", "division_code": "500111"},
        {"kind": OrganisationKind.GAS_COMPANY, "name": "bad code", "division_code": "50O111"},
    ],
)
def test_check_constraints_hold_in_the_database(db_session: Session, values: dict) -> None:
    nested = db_session.begin_nested()
    with pytest.raises(IntegrityError):
        _insert(db_session, **values)
    nested.rollback()


def test_foreign_keys_are_enforced(db_session: Session) -> None:
    nested = db_session.begin_nested()
    with pytest.raises(IntegrityError):
        db_session.execute(
            text(
                "INSERT INTO users (organisation_id, username, full_name, role, active, created_at)"
                " VALUES (987654, 'ghost', 'Ghost', 'regulator', true, CURRENT_TIMESTAMP)"
            )
        )
    nested.rollback()


def test_instants_come_back_aware_in_utc(db_session: Session, world: World) -> None:
    org = world.orgs["a"]
    china = timezone(timedelta(hours=8))
    org.created_at = datetime(2026, 3, 1, 23, 30, tzinfo=china)
    db_session.flush()
    db_session.expire_all()
    stored = db_session.get(Organisation, org.id).created_at
    assert stored == datetime(2026, 3, 1, 15, 30, tzinfo=UTC)
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)


def test_naive_instants_are_refused(db_session: Session, world: World) -> None:
    world.orgs["a"].created_at = datetime(2026, 3, 1, 12, 0)
    with pytest.raises(StatementError, match="naive datetime"):
        db_session.flush()
    db_session.rollback()


def test_sqlite_runs_with_wal_and_foreign_keys(db_session: Session, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite pragmas")
    assert db_session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert db_session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
