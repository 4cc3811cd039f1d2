"""The recording service, called directly: ``record_scans(session, ctx, items)``.

Generated histories (a seeded ``random.Random`` per case: random cylinders, kinds and
times, uploaded offline in shuffled batches of random sizes by the station operator and
the courier, with items repeated within a batch, batches sent again, and an event_id
reused for other content) go straight to the service with a session, not through HTTP.
What it returns and what it stores must agree:

* one answer per item, in the items' order; a new scan's answer is its stored row's
  result and code, and names that row;
* a repeat (in the batch or later) answers ``duplicate`` with the first answer's status and
  scan; other content under a stored event_id is ``event_id_conflict`` and stores nothing;
* one scan row per event_id; every chain intact; each cylinder row equal to the replay of
  its scans (``rebuild_projections``), however the history arrived;
* sending the whole history again changes nothing: every item a duplicate, no new row,
  the cylinders as they were;
* the service flushes and never commits (the caller owns the transaction).
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.scans.answers import DUPLICATE, ScanAnswer
from cylinder_trace.scans.chain import verify_chains
from cylinder_trace.scans.models import Scan
from cylinder_trace.scans.rebuild import rebuild_projections
from cylinder_trace.scans.schemas import ScanCreateSchema
from cylinder_trace.scans.services import record_scans
from tests.conftest import REGISTERED_AT, scan_context_for
from tests.scans.conftest import PRE_OK
from tests.world import World

SCHEMA = ScanCreateSchema()
STATION_KINDS = ["fill", "reweigh", "receive_empty", "send_for_inspection", "inspect", "stop",
                 "release", "store", "report_lost"]  # fmt: skip
COURIER_KINDS = ["dispatch", "deliver", "collect", "store"]
# A plausible round most of the time, so that most scans are kept unflagged.
ROUND = ["fill", "dispatch", "deliver", "collect", "receive_empty"]


def _fields(kind: str, rng: random.Random, customer_id: int) -> dict[str, Any]:
    if kind in ("fill", "reweigh"):
        gross = rng.choice(["30.90", "30.90", "31.60", "29.00"])
        return (
            {"gross_kg": gross, "pre_fill_check": PRE_OK} if kind == "fill" else {"gross_kg": gross}
        )
    if kind == "dispatch":
        return {"vehicle_plate": "渝A12345", "staff": ["张三"]}
    if kind == "deliver":
        buyer = customer_id if rng.random() < 0.9 else 424242  # unknown: flagged, kept
        return {"buyer": {"customer_id": buyer}}
    if kind == "inspect":
        return {"inspection_result": rng.choice(["pass", "pass", "fail"])}
    if kind == "stop":
        return {"reason": "召回批次"}
    return {}


def generate(rng: random.Random, codes: list[str], customer_id: int) -> list[tuple[str, dict]]:
    """(who, raw item) for every scan of the history, in the order they happened."""
    history: list[tuple[str, dict]] = []
    start = REGISTERED_AT + timedelta(days=1)
    for code in codes:
        when = start + timedelta(minutes=rng.randrange(60))
        for step in range(rng.randrange(3, 12)):
            if rng.random() < 0.8:
                kind = ROUND[step % len(ROUND)]
            else:
                kind = rng.choice(STATION_KINDS + COURIER_KINDS)
            who = "a_courier" if kind in COURIER_KINDS and kind != "store" else "a_operator"
            when += timedelta(minutes=rng.randrange(1, 600), seconds=rng.randrange(60))
            item = {
                "event_id": str(uuid.uuid4()),
                "kind": kind,
                "code": code if rng.random() < 0.95 else code.lower(),
                "occurred_at": when.isoformat(),
                **_fields(kind, rng, customer_id),
            }
            history.append((who, item))
    if rng.random() < 0.5:
        history.append(("a_operator", {"event_id": str(uuid.uuid4()), "kind": "fill",
                                       "code": "CQDZ-999999", "gross_kg": "30.90",
                                       "occurred_at": start.isoformat()}))  # fmt: skip
    return history


def batches(rng: random.Random, history: list[tuple[str, dict]]) -> list[tuple[str, list[dict]]]:
    """The history shuffled into batches of one uploader each, some items twice."""
    shuffled = history[:]
    rng.shuffle(shuffled)
    by_user: dict[str, list[dict]] = {}
    for who, item in shuffled:
        by_user.setdefault(who, []).append(item)
    out: list[tuple[str, list[dict]]] = []
    for who, items in by_user.items():
        while items:
            size = rng.randrange(1, 40)
            batch, items = items[:size], items[size:]
            if rng.random() < 0.3:
                batch.insert(rng.randrange(len(batch) + 1), dict(rng.choice(batch)))
            out.append((who, batch))
    rng.shuffle(out)
    return out


class NoCommit(Exception):
    pass


@pytest.fixture
def no_commit(db_session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise NoCommit("record_scans committed")

    monkeypatch.setattr(db_session, "commit", refuse)


def stored_rows(session: Session) -> dict[str, Scan]:
    return {str(scan.event_id): scan for scan in session.scalars(select(Scan))}


def cylinder_rows(session: Session, codes: list[str]) -> list[tuple]:
    session.expire_all()
    rows = session.scalars(select(Cylinder).where(Cylinder.code.in_(codes)).order_by(Cylinder.id))
    return [(c.code, c.snapshot, c.location_id, c.holder_customer_id, c.held_since,
             c.last_scan_at, c.next_inspection_due, c.scrap_date) for c in rows]  # fmt: skip


def check_answers(
    items: list[dict], answers: list[ScanAnswer], first: dict[str, ScanAnswer], content: dict
) -> None:
    assert len(answers) == len(items)
    for index, (item, answer) in enumerate(zip(items, answers, strict=True)):
        assert answer.index == index
        event_id = item["event_id"]
        key = str(event_id)
        assert answer.event_id == key
        if key in first:
            original = first[key]
            if content[key] == item:
                assert answer.status == DUPLICATE, (item, answer)
                assert answer.original_status == (original.original_status or original.status)
                assert answer.scan_id == original.scan_id
            else:
                assert (answer.status, answer.code) == ("rejected", "event_id_conflict")
                assert answer.scan_id in (original.scan_id, None)
        else:
            assert answer.status != DUPLICATE
            assert answer.scan_id is not None and answer.record is not None
            first[key], content[key] = answer, item


@pytest.mark.parametrize("seed", range(4))
def test_generated_histories_recorded_directly(
    seed: int,
    app: Flask,
    db_session: Session,
    world: World,
    make_cylinder: Any,
    customer_id: int,
    no_commit: None,
) -> None:
    rng = random.Random(seed)
    codes = [f"CQDZ-{seed}{n:05d}" for n in range(rng.randrange(3, 9))]
    for code in codes:
        make_cylinder(code)
    history = generate(rng, codes, customer_id)
    before = db_session.scalar(select(func.count()).select_from(Scan))
    contexts = {who: scan_context_for(app, world.users[who]) for who in ("a_operator", "a_courier")}
    first: dict[str, ScanAnswer] = {}
    content: dict[str, dict] = {}
    sent: list[tuple[str, list[dict]]] = []
    for who, raw in batches(rng, history):
        if sent and rng.random() < 0.15:  # a batch sent again (a retry after a lost answer)
            sent.append(rng.choice(sent))
        sent.append((who, raw))
    conflict = dict(history[0][1], note="other content, same event_id")
    sent.append((history[0][0], [conflict]))
    for who, raw in sent:
        items = [SCHEMA.load(item) for item in raw]
        answers = record_scans(db_session, contexts[who], items, interactive=False)
        check_answers(raw, answers, first, content)

    rows = stored_rows(db_session)
    event_ids = {item["event_id"] for _, item in history}
    assert set(first) == event_ids
    assert len(rows) == before + len(event_ids)  # one row per event_id; registrations before
    for key, answer in first.items():
        row = rows[key]
        assert row.id == answer.scan_id
        assert (row.result.value, row.result_code) == (answer.status, answer.code)
        assert row.content_hash == contexts["a_operator"].content_hash(SCHEMA.load(content[key]))
    assert "other content" not in str(rows[history[0][1]["event_id"]].data)

    checked, problems = verify_chains(db_session)
    assert problems == [] and checked == len(rows)
    rules, zone = contexts["a_operator"].rules, contexts["a_operator"].tz
    replayed, differences = rebuild_projections(db_session, rules, zone, write=False)
    assert differences == [] and replayed >= len(codes)
    stored_cylinders = cylinder_rows(db_session, codes)

    # The whole history again, reshuffled: duplicates all, nothing stored, nothing moved.
    for who, raw in batches(rng, history):
        items = [SCHEMA.load(item) for item in raw]
        answers = record_scans(db_session, contexts[who], items, interactive=False)
        assert all(answer.status == DUPLICATE for answer in answers)
        check_answers(raw, answers, first, content)
    assert len(stored_rows(db_session)) == len(rows)
    assert cylinder_rows(db_session, codes) == stored_cylinders


def test_interactive_refusals_are_stored_and_retries_answered_alike(
    app: Flask, db_session: Session, world: World, make_cylinder: Any, no_commit: None
) -> None:
    make_cylinder("CQDZ-700001")
    ctx = scan_context_for(app, world.users["a_courier"])
    # Delivering a cylinder still at the station, empty, with nobody named: refused.
    raw = {"event_id": str(uuid.uuid4()), "kind": "collect", "code": "CQDZ-700001",
           "occurred_at": (ctx.now - timedelta(minutes=1)).isoformat()}  # fmt: skip
    (answer,) = record_scans(db_session, ctx, [SCHEMA.load(raw)], interactive=True)
    row = stored_rows(db_session)[raw["event_id"]]
    assert (row.result.value, row.result_code) == (answer.status, answer.code)
    assert row.id == answer.scan_id
    (again,) = record_scans(db_session, ctx, [SCHEMA.load(raw)], interactive=True)
    assert (again.status, again.original_status, again.scan_id, again.code) == (
        DUPLICATE,
        answer.status,
        answer.scan_id,
        answer.code,
    )
    with pytest.raises(ma.ValidationError):
        SCHEMA.load({**raw, "kind": "deliver"})  # the service takes validated items only
