"""Tamper evidence against someone who can write the database, not only naive edits.

Each test tampers as such a person would, with the project's own hash function, and shows
what the chains alone miss and what the signed checkpoint, the cylinder replay and the
database role catch.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.domain.lifecycle import CylinderState
from cylinder_trace.scans.append_only import append_only_grants, grant_append_only
from cylinder_trace.scans.attribution import misattributed_scans
from cylinder_trace.scans.chain import HASHED_FIELDS, record_hash, verify_chains
from cylinder_trace.scans.checkpoints import CheckpointError, latest_checkpoint, take_checkpoint
from cylinder_trace.scans.models import Scan, ScanChain
from tests.scans.conftest import fill, scan
from tests.world import World

CODE = "CQDZ-500001"
KEY = b"k" * 32


@pytest.fixture
def history(client: FlaskClient, world: World, cylinder) -> None:  # type: ignore[no-untyped-def]
    """Register, fill, dispatch, store: four records in the cylinder's chain."""
    for body in (
        fill(CODE, 1),
        scan("dispatch", CODE, 2, vehicle_plate="渝A12345"),
        scan("store", CODE, 3),
    ):
        assert (
            client.post("/api/v1/scans", json=body, headers=world.auth("a_operator")).status_code
            == 201
        )


def _chain(session: Session, key: str = CODE) -> list[Scan]:
    session.expire_all()
    return list(session.scalars(select(Scan).where(Scan.chain_key == key).order_by(Scan.seq)))


def _rehash_from(session: Session, records: list[Scan], start: int) -> None:
    """What a careful forger does after an edit: re-link and re-hash the rest, fix the head."""
    previous = records[start - 1].record_hash if start else None
    for record in records[start:]:
        record.prev_hash = previous
        record.record_hash = record_hash({name: getattr(record, name) for name in HASHED_FIELDS})
        previous = record.record_hash
    head = session.get(ScanChain, records[0].chain_key)
    head.length, head.head_hash = records[-1].seq, previous
    session.flush()


def _use_checkpoints(app: Flask, monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """This test's own checkpoint file: the app's is shared by the whole session."""
    settings = dataclasses.replace(app.config["CT_SETTINGS"], checkpoint_path=path)
    monkeypatch.setitem(app.config, "CT_SETTINGS", settings)


def _checkpoint(session: Session, tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "checkpoints.jsonl"
    take_checkpoint(session, path, KEY, datetime.now(UTC))
    return path, latest_checkpoint(path, KEY)


def test_a_chain_rehashed_after_an_edit_is_caught_by_the_checkpoint(
    history: None, db_session: Session, tmp_path: Path
) -> None:
    _, checkpoint = _checkpoint(db_session, tmp_path)
    records = _chain(db_session)
    records[1].data = {**records[1].data, "gross_kg": "29.00"}  # the fill's mass, edited
    _rehash_from(db_session, records, 1)
    assert verify_chains(db_session)[1] == []  # the chain alone cannot tell
    problems = verify_chains(db_session, checkpoint)[1]
    assert [(p.chain_key, p.seq, p.problem) for p in problems] == [
        (CODE, 4, "rewritten since the checkpoint")
    ]


def test_a_dropped_newest_record_with_its_head_fixed_is_caught(
    history: None, db_session: Session, tmp_path: Path
) -> None:
    _, checkpoint = _checkpoint(db_session, tmp_path)
    records = _chain(db_session)
    db_session.execute(delete(Scan).where(Scan.id == records[-1].id))
    db_session.execute(
        update(ScanChain)
        .where(ScanChain.chain_key == CODE)
        .values(length=3, head_hash=records[-2].record_hash)
    )
    db_session.flush()
    assert verify_chains(db_session)[1] == []
    problems = verify_chains(db_session, checkpoint)[1]
    assert [(p.seq, p.problem) for p in problems] == [(4, "removed since the checkpoint")]


def test_a_whole_chain_deleted_with_its_head_is_caught(
    app: Flask,
    history: None,
    db_session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, checkpoint = _checkpoint(db_session, tmp_path)
    db_session.execute(delete(Scan).where(Scan.chain_key == CODE))
    db_session.execute(delete(ScanChain).where(ScanChain.chain_key == CODE))
    db_session.flush()
    assert verify_chains(db_session)[1] == []
    problems = verify_chains(db_session, checkpoint)[1]
    assert [(p.seq, p.problem) for p in problems] == [
        (seq, "removed since the checkpoint") for seq in range(1, 5)
    ]
    # Even without a checkpoint, the cylinder row is left without its chain.
    _use_checkpoints(app, monkeypatch, tmp_path / "none.jsonl")
    result = app.test_cli_runner().invoke(args=["scans", "verify-chains"])
    assert result.exit_code == 1 and f"{CODE}: a cylinder without a chain" in result.output


def test_a_checkpoint_not_signed_with_the_key_is_refused(
    history: None, db_session: Session, tmp_path: Path
) -> None:
    path, _ = _checkpoint(db_session, tmp_path)
    forged = json.loads(path.read_text().splitlines()[-1])
    forged["heads"] = [[CODE, 3, "0" * 64]]
    with path.open("a") as file:
        file.write(json.dumps(forged) + "\n")
    with pytest.raises(CheckpointError, match="not signed with this key"):
        latest_checkpoint(path, KEY)
    with pytest.raises(CheckpointError):
        latest_checkpoint(tmp_path / "checkpoints.jsonl", b"another key, the wrong one....")


def test_the_commands_checkpoint_and_verify_chains_and_rows(
    app: Flask, history: None, db_session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "checkpoints.jsonl"
    _use_checkpoints(app, monkeypatch, path)
    runner = app.test_cli_runner()
    taken = runner.invoke(args=["scans", "checkpoint"])
    assert taken.exit_code == 0, taken.output
    assert "records, in" in taken.output and path.exists()
    clean = runner.invoke(args=["scans", "verify-chains"])
    assert clean.exit_code == 0, clean.output
    assert "against checkpoint of" in clean.output and "0 problems" in clean.output
    # A cylinder row changed behind its history (say, to hide that it is scrapped).
    db_session.execute(
        update(Cylinder).where(Cylinder.code == CODE).values(state=CylinderState.WITH_CUSTOMER)
    )
    db_session.flush()
    found = runner.invoke(args=["scans", "verify-chains"])
    assert found.exit_code == 1
    assert f"{CODE}: state is" in found.output


def test_grants_for_the_service_role_are_plain_sql() -> None:
    statements = append_only_grants("ct_app")
    assert "REVOKE UPDATE, DELETE, TRUNCATE ON scans, scan_verdict_changes" in statements[3]
    assert statements[-1] == "GRANT UPDATE (review_code) ON scans TO ct_app"
    with pytest.raises(ValueError):
        append_only_grants("ct_app; DROP TABLE scans")


def test_the_service_role_cannot_update_or_delete_scan_records(
    backend: str, history: None, db_session: Session
) -> None:
    if backend != "postgresql":
        pytest.skip("database roles need PostgreSQL (TEST_DATABASE_URL)")
    # Created inside the test's transaction, so the rollback removes it again.
    db_session.execute(text("CREATE ROLE ct_app_test NOLOGIN"))
    grant_append_only(db_session, "ct_app_test")
    db_session.execute(text("SET LOCAL ROLE ct_app_test"))
    first = _chain(db_session)[1]
    for statement in (
        f"UPDATE scans SET data = '{{}}' WHERE id = {first.id}",
        f"UPDATE scans SET record_hash = repeat('0', 64) WHERE id = {first.id}",
        f"DELETE FROM scans WHERE id = {first.id}",
        "TRUNCATE scans CASCADE",
        f"DELETE FROM scan_verdict_changes WHERE scan_id = {first.id}",
    ):
        with pytest.raises(ProgrammingError, match="permission denied"), db_session.begin_nested():
            db_session.execute(text(statement))
    # What the service does need still works: a verdict re-judged, a chain head moved.
    with db_session.begin_nested():
        db_session.execute(
            text(f"UPDATE scans SET review_code = 'location_mismatch' WHERE id = {first.id}")
        )
        db_session.execute(
            text(f"UPDATE scan_chains SET length = length WHERE chain_key = '{CODE}'")
        )
    db_session.execute(text("RESET ROLE"))


def test_a_scan_moved_to_another_company_is_caught(
    app: Flask, history: None, db_session: Session, world: World
) -> None:
    """``company_id`` is derived, not hashed: the chain holds, the derivation does not."""
    assert misattributed_scans(db_session) == []
    moved = db_session.scalar(select(Scan).where(Scan.chain_key == CODE, Scan.seq == 2))
    db_session.execute(
        update(Scan).where(Scan.id == moved.id).values(company_id=world.orgs["b"].id)
    )
    db_session.flush()
    assert verify_chains(db_session)[1] == []  # the chain alone misses it
    found = misattributed_scans(db_session)
    assert [(f.scan_id, f.company_id, f.expected) for f in found] == [
        (moved.id, world.orgs["b"].id, world.orgs["a"].id)
    ]
    result = app.test_cli_runner().invoke(args=["scans", "verify-chains"])
    assert result.exit_code == 1
    assert f"{CODE} #2: scan {moved.id} is given to company {world.orgs['b'].id}" in result.output
