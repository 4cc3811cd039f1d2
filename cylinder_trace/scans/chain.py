"""Tamper evidence: each scan's hash covers its immutable fields and the previous record.

One chain per scanned code (``chain_key``); ``scan_chains`` keeps each chain's length and
last hash, so removing the newest record is noticed as surely as editing an old one.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from operator import attrgetter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.fastpath.jsontext import dumps_sorted, holds_float
from cylinder_trace.scans.checkpoints import Checkpoint
from cylinder_trace.scans.models import Scan, ScanChain

HASHED_FIELDS = (
    "event_id",
    "content_hash",
    "kind",
    "outcome",
    "scanned",
    "chain_key",
    "seq",
    "cylinder_id",
    "occurred_at",
    "received_at",
    "actor_user_id",
    "device_id",
    "organisation_id",
    "site_id",
    "latitude",
    "longitude",
    "customer_id",
    "data",
    "interactive",
    "result",
    "result_code",
    "prev_hash",
)


@lru_cache(maxsize=4096)  # a batch's records share their received_at
def _canonical_datetime(value: datetime) -> str:
    # The same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ") in UTC, at a fraction of its cost.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _canonical_number(value: Decimal | float) -> str:
    return f"{Decimal(str(value)):.6f}"


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return _canonical_datetime(value)
    if isinstance(value, Decimal | float):
        return _canonical_number(value)
    if hasattr(value, "value"):  # enums
        return value.value
    if value is None or isinstance(value, bool | int | str | dict | list):
        return value
    return str(value)


# Values of these exact types are their own canonical form. The output must never change:
# stored hashes are checked against it (a test holds it to the original definition).
_PLAIN = frozenset({str, int, bool, type(None), dict, list})
_BY_TYPE: dict[type, Any] = {}


def _converter(kind: type) -> Any:
    """The conversion ``_canonical`` makes for every value of this type, when one exists."""
    if issubclass(kind, datetime):
        return _canonical_datetime
    if issubclass(kind, Decimal | float):
        return _canonical_number
    if issubclass(kind, StrEnum):
        return attrgetter("value")
    if kind is uuid.UUID:
        return str
    return _canonical  # decided value by value


_SORTED_FIELDS = tuple(sorted(HASHED_FIELDS))


def record_hash(fields: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of a record's immutable fields."""
    return hashed(fields)[0]


def hashed(fields: dict[str, Any]) -> tuple[str, str]:
    """The record hash and the canonical JSON it covers.

    That JSON holds every hashed field as text PostgreSQL reads back as the same value
    (instants in UTC with microseconds, numbers with six places), so the writer can send
    it as it is instead of encoding the record a second time.
    """
    canonical = {}
    containers = []
    get = fields.get
    for name in _SORTED_FIELDS:
        value = get(name)
        kind = type(value)
        if kind in _PLAIN:
            canonical[name] = value
            if kind is dict or kind is list:
                containers.append(value)
        else:
            convert = _BY_TYPE.get(kind)
            if convert is None:
                convert = _BY_TYPE[kind] = _converter(kind)
            canonical[name] = value = convert(value)
            if isinstance(value, dict | list):  # a subclass, say
                containers.append(value)
    encoded = dumps_sorted(
        canonical, ensure_ascii=False, float_free=not any(map(holds_float, containers))
    )
    return hashlib.sha256(encoded).hexdigest(), encoded.decode("utf-8")


@dataclass(slots=True)
class ChainHead:
    """A chain's length and last hash as one request sees and moves it.

    ``stored_length`` is the length in the database when read (0 for a new chain), so the
    writer knows whether to insert the head, update it, or leave it.
    """

    chain_key: str
    length: int
    head_hash: str | None
    stored_length: int = 0


def link(fields: dict[str, Any], chain: ChainHead | None) -> tuple[dict[str, Any], ChainHead, str]:
    """Give a new record its place in the chain (seq, prev_hash, record_hash).

    Returns the completed fields, the chain head (new or moved on; the caller writes them)
    and the canonical JSON of the hashed fields (see ``hashed``).
    """
    fields["seq"] = 1 if chain is None else chain.length + 1
    fields["prev_hash"] = None if chain is None else chain.head_hash
    fields["record_hash"], text = hashed(fields)
    if chain is None:
        chain = ChainHead(fields["chain_key"], 1, fields["record_hash"])
    else:
        chain.length = fields["seq"]
        chain.head_hash = fields["record_hash"]
    return fields, chain, text


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """One record that was altered or removed, named so a person can find it."""

    chain_key: str
    seq: int
    problem: str  # "altered", "removed", "relinked", "... since the checkpoint"
    scan_id: int | None = None
    event_id: str | None = None

    def __str__(self) -> str:
        who = f"scan {self.scan_id} (event {self.event_id})" if self.scan_id else "a record"
        return f"{self.chain_key} #{self.seq}: {who} {self.problem}"


def _scans_by_chain(session: Session) -> Iterator[Scan]:
    statement = select(Scan).order_by(Scan.chain_key, Scan.seq).execution_options(yield_per=2000)
    yield from session.scalars(statement)


def verify_chains(
    session: Session, checkpoint: Checkpoint | None = None
) -> tuple[int, list[ChainProblem]]:
    """Check every chain; return the number of records checked and every problem found.

    With a ``checkpoint`` (``scans.checkpoints``) each chain it names must still hold, at
    the checkpoint's length, the very record it signed: a chain re-hashed after an edit, a
    newest record dropped with its head fixed, or a chain deleted with its head row, are
    found for every record the checkpoint covers.
    """
    heads = {chain.chain_key: chain for chain in session.scalars(select(ScanChain))}
    signed = dict(checkpoint.heads) if checkpoint is not None else {}
    problems: list[ChainProblem] = []
    checked = 0
    key: str | None = None
    expected_seq = 1
    previous_hash: str | None = None

    def close_chain(chain_key: str, last_seq: int, last_hash: str | None) -> None:
        head = heads.pop(chain_key, None)
        length = head.length if head is not None else last_seq
        if head is not None:
            for missing in range(last_seq + 1, head.length + 1):
                problems.append(ChainProblem(chain_key, missing, "removed"))
            if head.length == last_seq and head.head_hash != last_hash:
                problems.append(ChainProblem(chain_key, last_seq, "altered"))
        signed_length = signed.pop(chain_key, (0, ""))[0]
        for missing in range(max(last_seq, length) + 1, signed_length + 1):
            problems.append(ChainProblem(chain_key, missing, "removed since the checkpoint"))

    for scan in _scans_by_chain(session):
        checked += 1
        if scan.chain_key != key:
            if key is not None:
                close_chain(key, expected_seq - 1, previous_hash)
            key, expected_seq, previous_hash = scan.chain_key, 1, None
        for missing in range(expected_seq, scan.seq):
            problems.append(ChainProblem(key, missing, "removed"))
        fields = {name: getattr(scan, name) for name in HASHED_FIELDS}
        if record_hash(fields) != scan.record_hash:
            problems.append(ChainProblem(key, scan.seq, "altered", scan.id, str(scan.event_id)))
        elif scan.prev_hash != previous_hash and scan.seq == expected_seq:
            problems.append(ChainProblem(key, scan.seq, "relinked", scan.id, str(scan.event_id)))
        at_checkpoint = signed.get(key)
        if (
            at_checkpoint is not None
            and scan.seq == at_checkpoint[0]
            and scan.record_hash != at_checkpoint[1]
        ):
            problems.append(
                ChainProblem(
                    key, scan.seq, "rewritten since the checkpoint", scan.id, str(scan.event_id)
                )
            )
        expected_seq = scan.seq + 1
        previous_hash = scan.record_hash
    if key is not None:
        close_chain(key, expected_seq - 1, previous_hash)
    for chain_key, head in heads.items():  # chains whose every record is gone
        problems += [ChainProblem(chain_key, seq, "removed") for seq in range(1, head.length + 1)]
        signed.pop(chain_key, None)
    for chain_key, (length, _) in signed.items():  # gone with their head rows
        problems += [
            ChainProblem(chain_key, seq, "removed since the checkpoint")
            for seq in range(1, length + 1)
        ]
    return checked, problems


def cylinders_without_chain(session: Session) -> list[str]:
    """Codes of cylinders with no chain head: their whole history was deleted."""
    statement = (
        select(Cylinder.code)
        .outerjoin(ScanChain, ScanChain.chain_key == Cylinder.code)
        .where(ScanChain.chain_key.is_(None))
        .order_by(Cylinder.code)
    )
    return list(session.scalars(statement))
