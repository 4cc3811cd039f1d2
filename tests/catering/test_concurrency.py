"""Concurrent visits to one catering user keep its status and hazards right (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from cylinder_trace.auth.tokens import issue_token
from cylinder_trace.catering.models import CateringCheck, CateringHazard
from cylinder_trace.customers.models import Customer
from cylinder_trace.db import Database
from tests.catering.helpers import catering_user, check_body, cst
from tests.world import World, build_world

THREADS = 8


@pytest.fixture
def committed_world(committed_database: Database) -> tuple[Database, World]:
    """A world that is really committed, so that concurrent requests see it."""
    with committed_database.session_scope() as session:
        world = build_world(session)
        courier = world.users["a_courier"]
        # A token per thread: one token's last-use update would serialise the requests.
        for index in range(THREADS):
            world.tokens[f"courier{index}"] = issue_token(session, name="t", user=courier)[1]
    return committed_database, world


def test_concurrent_visits_to_one_user(
    app: Flask, committed_world: tuple[Database, World], now: Callable[[datetime], None]
) -> None:
    database, world = committed_world
    now(cst(2026, 3, 4, 12, 0))
    user = catering_user(app.test_client(), world)
    base = cst(2026, 3, 4, 9, 0)
    bodies = [check_body(base + timedelta(minutes=i), metal_hose="fail") for i in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = [0] * THREADS

    def run(index: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(
            f"/api/v1/catering-users/{user['id']}/checks",
            json=bodies[index],
            headers=world.auth(f"courier{index}"),
        )
        statuses[index] = response.status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [201] * THREADS
    with database.session_scope() as session:
        customer = session.get(Customer, user["id"])
        assert customer is not None
        checks = session.scalar(select(func.count()).select_from(CateringCheck))
        hazards = session.scalars(select(CateringHazard)).all()
        assert checks == THREADS
        assert len(hazards) == 1 and hazards[0].is_open
        assert customer.open_hazard_count == 1
        assert customer.last_check_at == base + timedelta(minutes=THREADS - 1)
