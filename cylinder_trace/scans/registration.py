"""The first record of every cylinder's chain: its registration, as a ``register`` scan."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from cylinder_trace.domain.lifecycle import ScanKind
from cylinder_trace.scans import chain as chains
from cylinder_trace.scans.models import Scan, ScanChain, ScanResult


@dataclass(frozen=True, slots=True)
class Registered:
    cylinder_id: int
    code: str
    site_id: int
    company_id: int  # the owner
    data: dict[str, Any] | None = None


def record_registrations(
    session: Session,
    registered: Iterable[Registered],
    *,
    organisation_id: int,
    actor_user_id: int | None,
    at: datetime,
) -> None:
    """Start each new cylinder's chain with a ``register`` record (flushes, never commits)."""
    rows: list[dict[str, Any]] = []
    heads: list[ScanChain] = []
    for cylinder in registered:
        fields = {
            "event_id": uuid.uuid4(),
            "content_hash": "0" * 64,
            "kind": ScanKind.REGISTER,
            "outcome": None,
            "scanned": cylinder.code,
            "chain_key": cylinder.code,
            "cylinder_id": cylinder.cylinder_id,
            "occurred_at": at,
            "received_at": at,
            "actor_user_id": actor_user_id,
            "device_id": None,
            "organisation_id": organisation_id,
            "site_id": cylinder.site_id,
            "latitude": None,
            "longitude": None,
            "customer_id": None,
            "company_id": cylinder.company_id,
            "data": dict(cylinder.data or {}),
            "interactive": True,
            "result": ScanResult.ACCEPTED,
            "result_code": None,
            "result_message": None,
            "review_code": None,
        }
        fields, head, _ = chains.link(fields, None)
        rows.append(fields)
        heads.append(head)
    if rows:
        session.execute(
            insert(ScanChain),
            [
                {"chain_key": h.chain_key, "length": h.length, "head_hash": h.head_hash}
                for h in heads
            ],
        )
        session.execute(insert(Scan), rows)
