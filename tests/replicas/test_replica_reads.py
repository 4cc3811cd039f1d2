"""Authorities read a streaming replica while it keeps up, and the primary when it lags.

Against a real replica of the test server (``.ci/replica start`` makes one on port 5433;
``TEST_REPLICA_URL`` names it, without a database): replay is paused on the replica, a
company registers a cylinder on the primary, and the regulator's list shows the replica's
older state while the lag is within the limit, then the primary's once it is not; the
company's own reads never leave the primary. Without a replica, a replica URL that points
at no server or at the primary itself leaves every read on the primary.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import make_url

from cylinder_trace import create_app
from cylinder_trace.config import normalise_database_url
from cylinder_trace.db import Database
from cylinder_trace.users.services import set_password
from tests.conftest import TEST_SECRET
from tests.customers.helpers import business
from tests.pages.helpers import PASSWORD, sign_in
from tests.world import World, build_world

MAX_LAG = 4.0


def _app(primary: str, replica: str, tmp_path: Any) -> Flask:
    return create_app(
        {
            "DATABASE_URL": primary,
            "CT_ENV": "testing",
            "SECRET_KEY": TEST_SECRET,
            "CT_INSTANCE_PATH": str(tmp_path),
            "CT_REPLICA_DATABASE_URL": replica,
            "CT_REPLICA_MAX_LAG_SECONDS": str(MAX_LAG),
            "CT_REPLICA_CHECK_SECONDS": "0",
        }
    )


def _world(database: Database) -> World:
    with database.session_scope() as session:
        world = build_world(session)
    return world


def _register(client: Any, world: World, code: str) -> None:
    body = {
        "code": code,
        "model": "YSP35.5",
        "manufacturer": "重庆钢瓶厂",
        "serial_no": f"SN-{code}",
        "manufactured_on": "2024-03-15",
        "tare_kg": "16.40",
        "filling_station_id": world.orgs["a_station"].id,
    }
    response = client.post("/api/v1/cylinders", json=body, headers=world.auth("a_admin"))
    assert response.status_code == 201, response.get_json()


def _codes(client: Any, world: World, who: str) -> list[str]:
    response = client.get("/api/v1/cylinders", headers=world.auth(who))
    assert response.status_code == 200, response.get_json()
    return [item["code"] for item in response.get_json()]


@pytest.fixture
def replica_url(migrated_url: str, backend: str) -> str:
    server = os.environ.get("TEST_REPLICA_URL")
    if backend != "postgresql" or not server:
        pytest.skip("needs PostgreSQL and a streaming replica of it (TEST_REPLICA_URL)")
    database = make_url(migrated_url).database
    return normalise_database_url(f"{server.rstrip('/')}/{database}")


@pytest.fixture
def replica_app(
    replica_url: str, committed_database: Database, migrated_url: str, tmp_path: Any
) -> Iterator[Flask]:
    app = _app(migrated_url, replica_url, tmp_path)
    yield app
    monitor = app.extensions["cylinder_trace.db"].replica
    with monitor.replica.connect() as connection:
        connection.execute(text("SELECT pg_wal_replay_resume()"))
    app.extensions["cylinder_trace.db"].dispose()


def _caught_up(monitor: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while monitor.lag() != 0.0:
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.05)


def test_the_regulator_reads_the_replica_within_the_lag_and_the_primary_beyond(
    replica_app: Flask, committed_database: Database
) -> None:
    world = _world(committed_database)
    client = replica_app.test_client()
    monitor = replica_app.extensions["cylinder_trace.db"].replica
    _register(client, world, "CQDZ-500001")
    _caught_up(monitor)
    assert _codes(client, world, "city_regulator") == ["CQDZ-500001"]

    with monitor.replica.connect() as connection:
        connection.execute(text("SELECT pg_wal_replay_pause()"))
    paused_at = time.monotonic()
    _register(client, world, "CQDZ-500002")

    # Within the limit the replica serves the regulator: its copy lacks the new cylinder.
    assert _codes(client, world, "city_regulator") == ["CQDZ-500001"]
    assert time.monotonic() - paused_at < MAX_LAG, "too slow to see the replica serve"
    # The company's own reads are the primary's.
    assert _codes(client, world, "a_admin") == ["CQDZ-500001", "CQDZ-500002"]

    time.sleep(MAX_LAG + 0.5)
    assert monitor.lag() > MAX_LAG
    assert _codes(client, world, "city_regulator") == ["CQDZ-500001", "CQDZ-500002"]

    lagging = replica_app.test_cli_runner().invoke(args=["db", "check"])
    assert "WARN replica:" in lagging.output and "s behind" in lagging.output

    with monitor.replica.connect() as connection:
        connection.execute(text("SELECT pg_wal_replay_resume()"))
    _caught_up(monitor)
    assert monitor.usable()
    assert _codes(client, world, "city_regulator") == ["CQDZ-500001", "CQDZ-500002"]
    checked = replica_app.test_cli_runner().invoke(args=["db", "check"])
    assert "ok   replica: 0.0 s behind" in checked.output


def test_the_bureau_pages_read_the_replica_too(
    replica_app: Flask, committed_database: Database
) -> None:
    world = _world(committed_database)
    with committed_database.session_scope() as session:
        set_password(session, session.merge(world.users["city_regulator"]), PASSWORD)
    client = replica_app.test_client()
    monitor = replica_app.extensions["cylinder_trace.db"].replica
    assert sign_in(client, "city.regulator").status_code == 302
    _caught_up(monitor)
    with monitor.replica.connect() as connection:
        connection.execute(text("SELECT pg_wal_replay_pause()"))
    body = business(name="复制延迟火锅店")
    created = client.post("/api/v1/customers", json=body, headers=world.auth("a_admin"))
    assert created.status_code == 201, created.get_json()
    # Within the limit the regulator's dashboard is the replica's: without the new user.
    assert "复制延迟火锅店" not in client.get("/bureau").get_data(as_text=True)
    time.sleep(MAX_LAG + 0.5)
    assert "复制延迟火锅店" in client.get("/bureau").get_data(as_text=True)


@pytest.mark.parametrize("target", ["no_server", "the_primary"])
def test_without_a_usable_replica_every_read_is_the_primarys(
    target: str, committed_database: Database, migrated_url: str, tmp_path: Any
) -> None:
    url = make_url(migrated_url)
    replica = url.set(port=1) if target == "no_server" else url
    app = _app(migrated_url, replica.render_as_string(hide_password=False), tmp_path)
    try:
        world = _world(committed_database)
        client = app.test_client()
        _register(client, world, "CQDZ-500001")
        assert _codes(client, world, "city_regulator") == ["CQDZ-500001"]
        assert app.extensions["cylinder_trace.db"].replica.usable() is False
        checked = app.test_cli_runner().invoke(args=["db", "check"])
        assert "WARN replica: unreachable or not a replica" in checked.output
    finally:
        app.extensions["cylinder_trace.db"].dispose()


def test_a_replica_url_must_be_postgresql(tmp_path: Any) -> None:
    from cylinder_trace.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="CT_REPLICA_DATABASE_URL"):
        load_settings({"CT_ENV": "testing", "CT_REPLICA_DATABASE_URL": "sqlite:///x.db"})
    with pytest.raises(ConfigError, match="CT_REPLICA_MAX_LAG_SECONDS"):
        load_settings({"CT_ENV": "testing", "CT_REPLICA_MAX_LAG_SECONDS": "soon"})
