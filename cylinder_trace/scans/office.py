"""Scrap and inspection results entered from an office (the REST endpoints), as scans.

They change the cylinder like any other step of its life, so they go through the one
recording service: the timeline and the hash chain show them, and a late inspection
result re-judges the history after it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from cylinder_trace.cylinders.models import Cylinder, CylinderInspection
from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.lifecycle import ScanKind
from cylinder_trace.scans.answers import ScanAnswer
from cylinder_trace.scans.context import ScanContext
from cylinder_trace.scans.models import ScanResult
from cylinder_trace.scans.services import record_scans

# An inspection result dated before today is placed at noon of its day in the business
# zone: its date is what the certificate says, the hour is unknown.
_DAYTIME = time(12, 0)


def _record(
    session: Session, ctx: ScanContext, item: dict[str, Any], interactive: bool
) -> ScanAnswer:
    result = record_scans(session, ctx, [item], interactive=interactive)[0]
    if result.status == ScanResult.REJECTED.value:
        raise DomainError(result.message or "", code=result.code or "scan_refused", kind="refused")
    return result


def record_scrap(
    session: Session, ctx: ScanContext, cylinder: Cylinder, *, reason: str
) -> Cylinder:
    """Scrap a cylinder for good, as a ``scrap`` scan: its code is revoked."""
    item = {
        "event_id": uuid.uuid4(),
        "kind": ScanKind.SCRAP,
        "code": cylinder.code,
        "occurred_at": ctx.now,
        "reason": reason.strip(),
    }
    _record(session, ctx, item, interactive=True)
    session.refresh(cylinder)
    return cylinder


def inspection_instant(inspected_on: date, ctx: ScanContext) -> datetime:
    """When an inspection result of that date happened, as far as the record says."""
    if inspected_on >= ctx.today:
        return ctx.now
    return datetime.combine(inspected_on, _DAYTIME, tzinfo=ctx.tz)


def record_inspection_scan(
    session: Session, ctx: ScanContext, cylinder: Cylinder, record: CylinderInspection
) -> ScanAnswer:
    """The ``inspect`` scan of a periodic inspection result entered from its certificate.

    Recorded as a fact that happened on its date (like an offline upload): if the history
    does not show the cylinder sent for inspection, the result is kept and flagged.
    """
    item: dict[str, Any] = {
        "event_id": uuid.uuid4(),
        "kind": ScanKind.INSPECT,
        "code": cylinder.code,
        "occurred_at": inspection_instant(record.inspected_on, ctx),
        "inspection_result": "pass" if record.passed else "fail",
        "inspection_body": record.inspection_body,
        "inspected_on": record.inspected_on.isoformat(),
    }
    if record.certificate_no:
        item["certificate_no"] = record.certificate_no
    if record.notes:
        item["note"] = record.notes[:300]
    if record.next_due_override is not None:
        item["next_due_override"] = record.next_due_override.isoformat()
    if not record.passed:
        item["reason"] = f"failed periodic inspection on {record.inspected_on}"
    result = _record(session, ctx, item, interactive=False)
    session.refresh(cylinder)
    return result
