"""Concurrent requests on one cylinder never both win (PostgreSQL: real transactions)."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select, text

from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.cylinders.services import CylinderInput, register_cylinder
from cylinder_trace.db import Database
from cylinder_trace.scans.chain import verify_chains
from cylinder_trace.scans.models import Scan
from tests.scans.conftest import fill
from tests.world import World, build_world

CODE = "CQDZ-700001"
THREADS = 8


@pytest.fixture
def committed_world(app: Flask, committed_database: Database) -> tuple[Database, World]:
    """A world that is really committed, so that concurrent requests see it."""
    with committed_database.session_scope() as session:
        world = build_world(session)
        register_cylinder(
            session,
            CylinderInput(
                code=CODE,
                model="YSP35.5",
                manufacturer="M",
                serial_no="C1",
                manufactured_on=date(2024, 3, 15),
                tare_kg=Decimal("16.40"),
            ),
            owner=world.orgs["a"],
            station=world.orgs["a_station"],
            rules=app.config["CT_SETTINGS"].rules,
            today=date.today(),
        )
    return committed_database, world


def _race(app: Flask, headers: dict, bodies: list[dict]) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(len(bodies))
    answers: list[tuple[int, dict]] = [None] * len(bodies)  # type: ignore[list-item]

    def run(index: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/scans", json=bodies[index], headers=headers)
        answers[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_concurrent_fills_of_one_cylinder_one_wins(app: Flask, committed_world) -> None:  # type: ignore[no-untyped-def]
    database, world = committed_world
    answers = _race(app, world.auth("a_operator"), [fill(CODE, i) for i in range(THREADS)])
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [422] * (THREADS - 1), answers
    assert {body["code"] for status, body in answers if status == 422} == {"transition_not_allowed"}
    with database.session_scope() as session:
        cylinder = session.scalar(select(Cylinder).where(Cylinder.code == CODE))
        assert cylinder.state.value == "full_at_station"
        seqs = list(session.scalars(select(Scan.seq).where(Scan.chain_key == CODE)))
        assert sorted(seqs) == list(range(1, THREADS + 2))  # register + every attempt
        assert verify_chains(session)[1] == []


def test_the_same_event_sent_concurrently_is_stored_once(app: Flask, committed_world) -> None:  # type: ignore[no-untyped-def]
    database, world = committed_world
    body = fill(CODE, 1)
    answers = _race(app, world.auth("a_operator"), [body] * 4)
    assert sorted(status for status, _ in answers) == [200, 200, 200, 201], answers
    assert len({body["id"] for _, body in answers}) == 1
    with database.session_scope() as session:
        count = session.scalar(
            select(text("count(*)")).select_from(Scan).where(Scan.kind == "fill")
        )
        assert count == 1
