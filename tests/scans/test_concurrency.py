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


def _race(
    app: Flask, headers: dict, bodies: list[dict], url: str = "/api/v1/scans"
) -> list[tuple[int, dict]]:
    """Release one request per body at the same instant; their answers, in order."""
    barrier = threading.Barrier(len(bodies))
    answers: list[tuple[int, dict]] = [None] * len(bodies)  # type: ignore[list-item]

    def run(index: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(url, json=bodies[index], headers=headers)
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


ROUNDS = 5  # each race is run a few times: a lost race must never depend on luck


def _batch(*scans: dict) -> dict:
    return {"scans": list(scans)}


def test_first_scans_of_a_never_seen_code_race_to_one_chain(app: Flask, committed_world) -> None:  # type: ignore[no-untyped-def]
    database, world = committed_world
    for round_ in range(ROUNDS):
        code = f"CQDZ-79{round_:04d}"
        answers = _race(app, world.auth("a_operator"), [fill(code, 1), fill(code, 2)])
        assert [(status, body["code"]) for status, body in answers] == [
            (422, "cylinder_unknown")
        ] * 2, answers
    with database.session_scope() as session:
        orphans = session.execute(
            select(Scan.chain_key, Scan.seq).where(Scan.cylinder_id.is_(None))
        ).all()
        assert len(orphans) == 2 * ROUNDS
        assert sorted(seq for _, seq in orphans) == [1] * ROUNDS + [2] * ROUNDS
        assert verify_chains(session)[1] == []


def test_first_scans_of_one_forged_label_race_to_one_chain(app: Flask, committed_world) -> None:  # type: ignore[no-untyped-def]
    database, world = committed_world
    for round_ in range(ROUNDS):
        forged = f"HTTP://127.0.0.1:5000/C/{CODE}.FORGED{round_}"
        bodies = []
        for minute in (1, 2):
            body = fill(CODE, minute)
            del body["code"]
            bodies.append({**body, "qr": forged})
        answers = _race(app, world.auth("a_operator"), bodies)
        assert [(status, body["code"]) for status, body in answers] == [
            (422, "label_invalid")
        ] * 2, answers
    with database.session_scope() as session:
        assert verify_chains(session)[1] == []


def test_the_same_one_item_batch_sent_twice_at_once(app: Flask, committed_world) -> None:  # type: ignore[no-untyped-def]
    database, world = committed_world
    for round_ in range(ROUNDS):
        body = _batch(fill(CODE, round_ * 10) if round_ == 0 else _collect(round_))
        answers = _race(app, world.auth("a_handheld"), [body, body], "/api/v1/scans/batch")
        assert [status for status, _ in answers] == [200, 200], answers
        statuses = sorted(answer["results"][0]["status"] for _, answer in answers)
        assert statuses[1] == "duplicate", answers
        assert len({answer["results"][0]["scan_id"] for _, answer in answers}) == 1
    with database.session_scope() as session:
        assert session.scalar(select(text("count(*)")).select_from(Scan)) == 1 + ROUNDS
        assert verify_chains(session)[1] == []


def _collect(round_: int) -> dict:
    from tests.scans.conftest import scan

    return scan("collect", CODE, round_ * 10)


def test_one_event_id_on_two_cylinders_in_two_batches(app: Flask, committed_world) -> None:  # type: ignore[no-untyped-def]
    from tests.scans.conftest import scan

    database, world = committed_world
    other = "CQDZ-700002"
    with database.session_scope() as session:
        register_cylinder(
            session,
            CylinderInput(
                code=other,
                model="YSP35.5",
                manufacturer="M",
                serial_no="C2",
                manufactured_on=date(2024, 3, 15),
                tare_kg=Decimal("16.40"),
            ),
            owner=session.merge(world.orgs["a"]),
            station=session.merge(world.orgs["a_station"]),
            rules=app.config["CT_SETTINGS"].rules,
            today=date.today(),
        )
    for round_ in range(ROUNDS):
        shared = scan("collect", CODE, round_)
        twin = {**scan("collect", other, round_), "event_id": shared["event_id"]}
        bystanders = [scan("store", CODE, 100 + round_), scan("store", other, 100 + round_)]
        bodies = [_batch(shared, bystanders[0]), _batch(twin, bystanders[1])]
        answers = _race(app, world.auth("a_handheld"), bodies, "/api/v1/scans/batch")
        assert [status for status, _ in answers] == [200, 200], answers
        firsts = sorted(
            (answer["results"][0]["status"], answer["results"][0]["code"] or "")
            for _, answer in answers
        )
        assert firsts[1] == ("rejected", "event_id_conflict"), answers
        assert firsts[0][0] != "rejected", answers
        # The rest of each batch is stored whoever lost the race.
        assert all(answer["results"][1]["status"] != "rejected" for _, answer in answers)
        assert all(answer["results"][1]["scan_id"] for _, answer in answers)
    with database.session_scope() as session:
        assert session.scalar(select(text("count(*)")).select_from(Scan)) == 2 + 3 * ROUNDS
        assert verify_chains(session)[1] == []
