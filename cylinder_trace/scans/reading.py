"""Reading the scan record: who may see which scans, searches, a cylinder's whereabouts at
a time, a scan's verdict log, what a customer holds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from cylinder_trace.access import cylinder_condition, scan_condition
from cylinder_trace.customers.services import get_visible_customer
from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.domain.errors import NotFound
from cylinder_trace.domain.lifecycle import ScanKind
from cylinder_trace.domain.rules import RuleSettings
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.paging import Keyset
from cylinder_trace.principal import Principal
from cylinder_trace.scans.judging import load_buyers, load_histories, load_places
from cylinder_trace.scans.models import Scan, ScanResult, ScanVerdictChange
from cylinder_trace.scans.rejudge import replay_stored

# The order of every scan list: when things happened, the id breaking ties. The indexes
# of the lists end with these two columns, so a cursor's next page reads just the page.
SCAN_ORDER = Keyset((Scan.occurred_at, Scan.id))


def visible_scans(principal: Principal) -> Select[tuple[Scan]]:
    """Scans a caller may read (``access.scan_condition``)."""
    return select(Scan).where(scan_condition(principal))


def filter_scans(
    statement: Select[tuple[Scan]], filters: dict[str, Any], zone: tzinfo
) -> Select[tuple[Scan]]:
    """Apply the filters of GET /scans; ``day`` is a business day in ``zone``."""
    for name in ("company_id", "site_id", "kind", "result", "result_code", "review_code"):
        if filters.get(name) is not None:
            statement = statement.where(getattr(Scan, name) == filters[name])
    if filters.get("needs_review"):
        # The partial indexes ix_scans_needs_review and ix_scans_company_needs_review have
        # this very condition.
        statement = statement.where(
            or_(Scan.result == ScanResult.REJECTED, Scan.review_code.is_not(None))
        )
    if filters.get("day") is not None:
        start = datetime.combine(filters["day"], time(0), tzinfo=zone)
        statement = statement.where(
            Scan.occurred_at >= start, Scan.occurred_at < start + timedelta(days=1)
        )
    return SCAN_ORDER.order(statement)


def cylinder_events(cylinder: Cylinder, include_rejected: bool) -> Select[tuple[Scan]]:
    """One cylinder's timeline, in the order things happened."""
    statement = select(Scan).where(Scan.of_cylinder(cylinder.id, cylinder.code))
    if not include_rejected:
        statement = statement.where(Scan.result != ScanResult.REJECTED)
    return statement.order_by(Scan.occurred_at, Scan.id)


def _whereabouts(session: Session, code: str, at: datetime | None, **values: Any) -> dict:
    location = values.get("location_id")
    organisation = session.get(Organisation, location) if location else None
    answer: dict[str, Any] = {
        "code": code,
        "at": at,
        "state": None,
        "location_id": None,
        "holder_customer_id": None,
        "held_since": None,
        "last_scan_at": None,
    }
    answer.update(values)
    answer["location_name"] = organisation.name if organisation else None
    return answer


def whereabouts_now(session: Session, cylinder: Cylinder) -> dict[str, Any]:
    """Where the cylinder is and who holds it, from its row (the projection)."""
    return _whereabouts(
        session,
        cylinder.code,
        None,
        state=cylinder.state.value,
        location_id=cylinder.location_id,
        holder_customer_id=cylinder.holder_customer_id,
        held_since=cylinder.held_since,
        last_scan_at=cylinder.last_scan_at,
    )


def whereabouts_at(
    session: Session, cylinder: Cylinder, at: datetime, rules: RuleSettings, zone: tzinfo
) -> dict[str, Any]:
    """Where the cylinder was and who held it at ``at``: its kept scans up to then, replayed
    by the same history that keeps the cylinder row (so the two never disagree)."""
    history = load_histories(session, {cylinder.id: cylinder.code})[cylinder.id]
    events = [e for e in history if e.occurred_at <= at]
    if not any(event.kind is ScanKind.REGISTER for event in events):
        return _whereabouts(session, cylinder.code, at)  # not registered yet then
    places = load_places(session, (event.site_id for event in events))
    buyers = load_buyers(session, (event.customer_id for event in events))
    projection = replay_stored(rules, zone, cylinder, events, places, buyers)[1].projection
    return _whereabouts(
        session,
        cylinder.code,
        at,
        state=projection.snapshot.state.value,
        location_id=projection.location_id,
        holder_customer_id=projection.holder_customer_id,
        held_since=projection.held_since,
        last_scan_at=projection.last_scan_at,
    )


def verdict_changes(
    session: Session, principal: Principal, scan_id: int
) -> Sequence[ScanVerdictChange]:
    """How a kept scan's verdict changed as late scans re-judged it, oldest first;
    NotFound unless the caller may read the scan."""
    visible = visible_scans(principal).where(Scan.id == scan_id)
    if session.scalar(visible.with_only_columns(Scan.id)) is None:
        raise NotFound(f"No scan {scan_id}.", code="scan_not_found")
    return session.scalars(
        select(ScanVerdictChange)
        .where(ScanVerdictChange.scan_id == scan_id)
        .order_by(ScanVerdictChange.id)
    ).all()


def customer_holdings(session: Session, principal: Principal, customer_id: int) -> list[Cylinder]:
    """The cylinders a customer the caller may read holds now, longest held first."""
    customer = get_visible_customer(session, principal, customer_id)
    return list(
        session.scalars(
            select(Cylinder)
            .where(cylinder_condition(principal))
            .where(Cylinder.holder_customer_id == customer.id)
            .order_by(Cylinder.held_since)
        )
    )
