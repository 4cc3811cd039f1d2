"""What recording scans reads under lock and writes back: cylinders, chain heads, scans.

Cylinders as plain records (``fastpath.cylinder_record.CylinderRecord``), not ORM objects.
Each step is one statement whatever the batch size (see ``cylinder_trace.bulk``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from cylinder_trace.bulk import BulkWrite, fetch, keys_param, one_of
from cylinder_trace.customers.models import Customer
from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.domain.errors import Conflict
from cylinder_trace.fastpath.cylinder_record import COLUMNS, CylinderRecord
from cylinder_trace.scans.chain import HASHED_FIELDS, ChainHead
from cylinder_trace.scans.models import Scan, ScanChain, ScanResult, ScanVerdictChange


@cache
def _lock_statement(dialect: str, with_heads: bool, single: bool) -> Select[Any]:
    table, head = Cylinder.__table__, ScanChain.__table__
    if with_heads:
        statement = select(*COLUMNS, head.c.length, head.c.head_hash).join(
            head, head.c.chain_key == table.c.code
        )
    else:
        statement = select(*COLUMNS)
    return (
        statement.where(one_of(table.c.code, "codes", dialect, single=single))
        .order_by(table.c.id)
        .with_for_update()
    )


def lock_cylinders(
    session: Session, codes: list[str]
) -> tuple[dict[str, CylinderRecord], dict[str, ChainHead]]:
    """The cylinders with these codes and their chain heads, locked until the commit.

    One statement locks both rows of each cylinder, in id order, so two requests never wait
    on each other crosswise; PostgreSQL hands back the latest committed head after a wait.
    """
    if not codes:
        return {}, {}
    connection = session.connection()
    dialect = connection.dialect.name
    cylinders: dict[str, CylinderRecord] = {}
    heads: dict[str, ChainHead] = {}
    statement = _lock_statement(dialect, True, len(codes) == 1)
    for row in fetch(connection, statement, keys_param("codes", codes)):
        record = CylinderRecord(row)
        length, head_hash = row[-2:]
        cylinders[record.code] = record
        heads[record.code] = ChainHead(record.code, length, head_hash, length)
    missing = [code for code in codes if code not in cylinders]
    if missing:
        # Codes never registered, or (only in data older than the chains) a cylinder
        # without a chain head: its first scan starts the chain.
        statement = _lock_statement(dialect, False, len(missing) == 1)
        rows = fetch(connection, statement, keys_param("codes", missing))
        cylinders.update((record.code, record) for record in map(CylinderRecord, rows))
    return cylinders, heads


@cache
def _heads_statement(dialect: str, single: bool) -> Select[Any]:
    table = ScanChain.__table__
    return (
        select(table.c.chain_key, table.c.length, table.c.head_hash)
        .where(one_of(table.c.chain_key, "keys", dialect, single=single))
        .order_by(table.c.chain_key)
        .with_for_update()
    )


def lock_heads(session: Session, keys: list[str]) -> dict[str, ChainHead]:
    """Chain heads of scans that name no registered cylinder, locked until the commit."""
    if not keys:
        return {}
    connection = session.connection()
    statement = _heads_statement(connection.dialect.name, len(keys) == 1)
    rows = fetch(connection, statement, keys_param("keys", keys))
    return {key: ChainHead(key, length, head_hash, length) for key, length, head_hash in rows}


class StoredScan(NamedTuple):
    """What answering a repeated event_id needs of the stored scan."""

    id: int
    event_id: uuid.UUID
    content_hash: str
    result: ScanResult
    result_code: str | None
    result_message: str | None


@cache
def _stored_statement(dialect: str, single: bool) -> Select[Any]:
    table = Scan.__table__
    return select(*(table.c[name] for name in StoredScan._fields)).where(
        one_of(table.c.event_id, "event_ids", dialect, single=single)
    )


def stored_scans(session: Session, event_ids: list[uuid.UUID]) -> dict[uuid.UUID, StoredScan]:
    """Scans already stored under these event ids (looked up after the locks are held)."""
    if not event_ids:
        return {}
    connection = session.connection()
    statement = _stored_statement(connection.dialect.name, len(event_ids) == 1)
    rows = fetch(connection, statement, keys_param("event_ids", event_ids))
    return {
        event_id: StoredScan(scan_id, event_id, content_hash, ScanResult(result), code, message)
        for scan_id, event_id, content_hash, result, code, message in rows
    }


def load_customers(session: Session, ids: Iterable[int]) -> list[Customer]:
    """Load the named customers at once, so each item's ``session.get`` finds its buyer.

    The caller keeps the list while it works: the identity map holds objects weakly.
    """
    wanted = list(set(ids))
    if not wanted:
        return []
    dialect = session.get_bind().dialect.name
    statement = select(Customer).where(one_of(Customer.id, "ids", dialect))
    return list(session.scalars(statement, {"ids": wanted}))


class ConcurrentWrite(Conflict):
    """Another transaction stored one of the same keys first (an event_id, a new chain).

    The transaction is spoilt: roll it back and record the scans again, and they find
    what the other stored (a duplicate, a conflict, a longer chain).
    """

    code = "concurrent_write"

    def __init__(self) -> None:
        super().__init__(
            "Another upload stored the same scans at the same moment; send them again.",
            code=self.code,
        )


def _is_unique_violation(error: IntegrityError) -> bool:
    orig = error.orig
    return getattr(orig, "sqlstate", None) == "23505" or getattr(orig, "sqlite_errorname", "") in (
        "SQLITE_CONSTRAINT_UNIQUE",
        "SQLITE_CONSTRAINT_PRIMARYKEY",
    )


def write(
    session: Session,
    rows: list[dict[str, Any]],
    hashed_texts: list[str],
    heads: Iterable[ChainHead],
    cylinders: Iterable[CylinderRecord],
    *,
    only_if_new: bool = False,
    review_codes: Sequence[dict[str, Any]] = (),
    verdict_changes: Sequence[dict[str, Any]] = (),
) -> dict[uuid.UUID, int]:
    """Insert the new scans, move the chain heads, update changed cylinders; return new ids.

    ``review_codes`` (``id``, ``review_code``) re-judge stored scans and ``verdict_changes``
    log each of those changes (see ``rejudge``).

    One statement on PostgreSQL, however many items. With ``only_if_new`` (PostgreSQL, see
    ``can_check_while_writing``) nothing is written if a scan's event_id is already stored;
    the returned ids then lack it.
    """
    writes = BulkWrite(session.connection())
    writes.insert(
        Scan.__table__,
        rows,
        returning=("event_id", "id"),
        unless_stored="event_id" if only_if_new else None,
        as_json=_scan_json(rows, hashed_texts) if writes.postgresql else None,
    )
    new_heads, moved_heads = [], []
    for head in heads:
        if head.length == head.stored_length:
            continue
        values = {"chain_key": head.chain_key, "length": head.length, "head_hash": head.head_hash}
        (moved_heads if head.stored_length else new_heads).append(values)
    writes.insert(ScanChain.__table__, new_heads)
    writes.update(ScanChain.__table__, "chain_key", moved_heads)
    changed = [c for c in (record.changes() for record in cylinders) if c is not None]
    writes.update(Cylinder.__table__, "id", changed)
    writes.update(Scan.__table__, "id", review_codes)
    writes.insert(ScanVerdictChange.__table__, verdict_changes)
    try:
        inserted = writes.execute()
    except IntegrityError as error:
        if _is_unique_violation(error):
            raise ConcurrentWrite() from error
        raise
    # ORM copies of what changed underneath (in tests, or a later step of the request)
    # must be read again.
    _expire(session, Cylinder, (c["id"] for c in changed))
    _expire(session, ScanChain, (h["chain_key"] for h in moved_heads))
    _expire(session, Scan, (r["id"] for r in review_codes))
    return dict(inserted)


_UNHASHED = ("record_hash", "result_message", "review_code", "company_id")
_HASHED_AND_UNHASHED = {*HASHED_FIELDS, *_UNHASHED}


def _scan_json(rows: list[dict[str, Any]], hashed_texts: list[str]) -> list[str] | None:
    """Each scan as a JSON object: its hashed fields as hashed, then the others.

    None (encode the rows afresh) if the rows hold any other column: json_to_recordset
    would quietly read a column missing from the JSON as NULL.
    """
    if not rows or set(rows[0]) != _HASHED_AND_UNHASHED:
        return None
    return [
        f"{text[:-1]},{orjson.dumps({name: row[name] for name in _UNHASHED}).decode()[1:]}"
        for row, text in zip(rows, hashed_texts, strict=True)
    ]


def can_check_while_writing(session: Session) -> bool:
    """Whether ``write(only_if_new=True)`` can stand in for ``stored_scans`` beforehand."""
    return session.get_bind().dialect.name == "postgresql"


def _expire(session: Session, model: type, keys: Iterable[Any]) -> None:
    identity_map = session.identity_map
    if not len(identity_map):
        return
    for key in keys:
        obj = identity_map.get(identity_key(model, key))
        if obj is not None:
            session.expire(obj)
