"""Test fixtures: a schema built by the migrations, and one rolled-back transaction per test.

The database is SQLite in a temporary file by default, or the PostgreSQL database named by
TEST_DATABASE_URL. That database is wiped at the start of the run: never point it at data
you want to keep.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.config import Config
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from cylinder_trace import create_app
from cylinder_trace.config import normalise_database_url
from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.cylinders.services import CylinderInput, register_cylinder
from cylinder_trace.db import Database, make_engine, utcnow
from cylinder_trace.domain.rules import RuleSettings
from cylinder_trace.models import Base
from cylinder_trace.principal import Principal
from cylinder_trace.scans.context import ScanContext
from cylinder_trace.scans.office import record_scrap
from cylinder_trace.web.current import registry
from tests.world import World, build_world

REPO = Path(__file__).resolve().parent.parent
# Test cylinders entered the register a month ago: the scans of a test happen after that.
REGISTERED_AT = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
# Tables the migrations fill, which no test empties.
REFERENCE_DATA = frozenset({"divisions"})


def alembic_config(url: str) -> Config:
    config = Config(str(REPO / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    return config


def reset_database(url: str) -> None:
    """Empty the test database so the migrations start from nothing."""
    if not url.startswith("postgresql"):
        return
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return normalise_database_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def backend(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture(scope="session")
def migrated_url(database_url: str) -> str:
    reset_database(database_url)
    command.upgrade(alembic_config(database_url), "head")
    return database_url


@pytest.fixture(scope="session")
def app(migrated_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    app = create_app(
        {
            "DATABASE_URL": migrated_url,
            "CT_ENV": "testing",
            "SECRET_KEY": TEST_SECRET,
            "CT_INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")),
        }
    )
    yield app
    app.extensions["cylinder_trace.db"].dispose()


@pytest.fixture
def database(app: Flask) -> Database:
    return app.extensions["cylinder_trace.db"]


@pytest.fixture
def db_session(database: Database) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test.

    Requests and CLI commands during the test get sessions on the same connection; their
    commits only release savepoints, so nothing outlives the test.
    """
    connection = database.engine.connect()
    outer = connection.begin()
    original = database.session_factory
    database.session_factory = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    session = database.new_session()
    try:
        yield session
    finally:
        session.close()
        database.session_factory = original
        outer.rollback()
        connection.close()


@pytest.fixture
def committed_database(app: Flask, backend: str) -> Iterator[Database]:
    """The app's database with real commits, for tests of concurrent requests; emptied after.

    PostgreSQL only: SQLite serialises all writers, so there is no race to test.
    """
    if backend != "postgresql":
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL): SQLite serialises all writers")
    database: Database = app.extensions["cylinder_trace.db"]
    try:
        yield database
    finally:
        # Reference data the migrations load stays: later tests read it.
        tables = ", ".join(
            table.name for table in Base.metadata.sorted_tables if table.name not in REFERENCE_DATA
        )
        with database.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} CASCADE"))


@pytest.fixture
def client(app: Flask, db_session: Session) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def world(db_session: Session) -> World:
    return build_world(db_session)


@pytest.fixture
def rules(app: Flask) -> RuleSettings:
    return app.config["CT_SETTINGS"].rules


@pytest.fixture
def make_cylinder(db_session: Session, world: World, rules: RuleSettings):  # type: ignore[no-untyped-def]
    """Register a cylinder of company A (or B) directly through the service."""

    def make(code: str, company: str = "a", today: date | None = None, **fields: Any) -> Cylinder:
        values: dict[str, Any] = {
            "code": code,
            "model": "YSP35.5",
            "manufacturer": "重庆钢瓶厂",
            "serial_no": f"SN-{code}",
            "manufactured_on": date(2024, 3, 15),
            "tare_kg": Decimal("16.40"),
        }
        registered_at = fields.pop("registered_at", REGISTERED_AT)
        values.update(fields)
        return register_cylinder(
            db_session,
            CylinderInput(**values),
            owner=world.orgs[company],
            station=world.orgs[f"{company}_station"],
            rules=rules,
            today=today or date.today(),
            registered_at=registered_at,
        )

    return make


@pytest.fixture
def set_process_tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Change the process zone the way a server's environment would; restored afterwards."""
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is not available on this platform")

    def set_tz(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield set_tz
    monkeypatch.undo()
    time.tzset()


def business_today() -> date:
    """Today in China Standard Time, the day the rules read (not the machine's UTC day)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def scan_context_for(app: Flask, user: Any) -> ScanContext:
    """The context of scans made now by ``user`` (a World user), outside any request."""
    with app.app_context():
        return ScanContext.at(
            utcnow(),
            principal=Principal(token_id=0, organisation=user.organisation, user=user),
            settings=app.config["CT_SETTINGS"],
            registry=registry(),
        )


@pytest.fixture
def scrap(app: Flask, db_session: Session, world: World):  # type: ignore[no-untyped-def]
    """Scrap a cylinder the way the REST endpoint does: a scrap scan by company A's admin."""

    def do(cylinder: Cylinder, reason: str = "dented", who: str = "a_admin") -> Cylinder:
        return record_scrap(
            db_session, scan_context_for(app, world.users[who]), cylinder, reason=reason
        )

    return do
