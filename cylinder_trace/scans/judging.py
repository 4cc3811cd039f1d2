"""From stored rows to the domain's history, and back: identities, projections, observations.

The rules live in ``cylinder_trace.domain.history``; this module only reads what they need
from the cylinder row, the scan's fields, its site and its buyer, and loads the stored
histories of the cylinders a late upload re-judges (one statement for all of them).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from cylinder_trace.bulk import one_of
from cylinder_trace.customers.models import Customer, PremisesType
from cylinder_trace.domain.history import (
    Buyer,
    CylinderIdentity,
    Observation,
    Place,
    Projection,
)
from cylinder_trace.domain.lifecycle import Outcome, ScanKind
from cylinder_trace.domain.rules import ChecklistItem, RuleSettings
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.scans.models import Scan, ScanResult


def identity_of(
    cylinder: Any, rules: RuleSettings, register: StoredEvent | None = None
) -> CylinderIdentity:
    """What registration fixed, from the cylinder row (and its register scan, if loaded).

    The register scan's data names the inspection the cylinder came with. Registrations
    older than that field have none: their row's own date stands in, unless a later passed
    inspection scan moved it (then the history itself says when).
    """
    spec = rules.model(cylinder.model)
    if register is not None and "last_inspected_on" in register.data:
        initial = _date(register.data.get("last_inspected_on"))
        override = _date(register.data.get("inspection_due_override"))
    else:
        initial, override = cylinder.last_inspected_on, cylinder.inspection_due_override
    return CylinderIdentity(
        owner_company_id=cylinder.owner_company_id,
        model=cylinder.model,
        tare_kg=Decimal(cylinder.tare_kg),
        manufactured_on=cylinder.manufactured_on,
        registered_at=cylinder.registered_at,
        registered_site_id=register.site_id if register is not None else None,
        scrap_date_override=cylinder.scrap_date_override,
        initial_last_inspected_on=initial,
        initial_inspection_due_override=override,
        model_indoor_allowed=spec.indoor_allowed if spec is not None else True,
    )


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def projection_of(cylinder: Any) -> Projection:
    """The projection the cylinder row holds now."""
    # Spelt out (not a loop over PROJECTED): it runs for every cylinder a request scans.
    return Projection(
        cylinder.snapshot,
        cylinder.last_inspected_on,
        cylinder.inspection_due_override,
        cylinder.next_inspection_due,
        cylinder.scrap_date,
        cylinder.location_id,
        cylinder.holder_customer_id,
        cylinder.held_since,
        cylinder.last_scan_at,
        cylinder.scrapped_at,
        cylinder.scrap_reason,
    )


def store_projection(cylinder: Any, projection: Projection) -> None:
    """Write the projection onto the cylinder row (a plain record or the ORM object)."""
    snapshot = projection.snapshot
    cylinder.state = snapshot.state
    cylinder.stopped = snapshot.stopped
    cylinder.lost = snapshot.lost
    cylinder.overfilled = snapshot.overfilled
    cylinder.underfilled = snapshot.underfilled
    (
        cylinder.last_inspected_on,
        cylinder.inspection_due_override,
        cylinder.next_inspection_due,
        cylinder.scrap_date,
        cylinder.location_id,
        cylinder.holder_customer_id,
        cylinder.held_since,
        cylinder.last_scan_at,
        cylinder.scrapped_at,
        cylinder.scrap_reason,
    ) = projection[1:]


def place_of(organisation: Any) -> Place:
    return Place(organisation.id, str(organisation.kind), organisation.company_id)


def buyer_of(customer: Customer) -> Buyer:
    return Buyer(
        customer.id,
        customer.created_at,
        customer.active,
        customer.premises_type == PremisesType.HOUSEHOLD and not customer.has_outdoor_cylinder_area,
        customer.deactivated_at,
    )


@cache
def _codes(checklist: tuple[ChecklistItem, ...]) -> tuple[str, ...]:
    return tuple(item.code for item in checklist)


def check_items(items: dict[str, bool] | None, required: Iterable[str]) -> bool | None:
    """None when no check was recorded, else whether every required item passed."""
    if not items:
        return None
    return all(items.get(code) is True for code in required) and all(items.values())


def observation(
    kind: ScanKind,
    occurred_at: datetime,
    judged_at: datetime,
    event_id: uuid.UUID,
    outcome: Outcome | None,
    site: Place | None,
    buyer: Buyer | None,
    data: dict[str, Any],
    rules: RuleSettings,
) -> Observation:
    """One scan as the rules read it, from its kind, instants, site, buyer and kept data."""
    pre = post_failed = None
    tare = None
    if kind is ScanKind.FILL or kind is ScanKind.REWEIGH:
        if kind is ScanKind.FILL:
            pre = check_items(data.get("pre_fill_check"), _codes(rules.pre_fill_checklist))
        post = data.get("post_fill_check")
        post_failed = bool(post) and check_items(post, _codes(rules.post_fill_checklist)) is False
        if data.get("tare_kg") is not None:
            tare = Decimal(str(data["tare_kg"]))
    return Observation(
        kind,
        occurred_at,
        judged_at,
        str(event_id),
        outcome,
        site,
        buyer,
        pre,
        bool(post_failed),
        tare,
        _date(data.get("inspected_on")),
        _date(data.get("next_due_override")),
        data.get("reason"),
    )


class StoredEvent(NamedTuple):
    """A kept scan of a cylinder's history, as re-judging it needs."""

    id: int
    event_id: uuid.UUID
    cylinder_id: int
    kind: ScanKind
    outcome: Outcome | None
    occurred_at: datetime
    received_at: datetime
    interactive: bool
    site_id: int | None
    customer_id: int | None
    data: dict[str, Any]
    review_code: str | None


def load_histories(session: Session, codes: Mapping[int, str]) -> dict[int, list[StoredEvent]]:
    """Every kept scan (refused ones are acts that did not happen) of these cylinders
    (``codes``: each one's code by its id), found by their chains (``Scan.of_cylinder``)."""
    if not codes:
        return {}
    dialect = session.get_bind().dialect.name
    table = Scan.__table__
    columns = [table.c[name] for name in StoredEvent._fields]
    statement = (
        select(*columns)
        .where(
            one_of(table.c.chain_key, "codes", dialect),
            table.c.cylinder_id.is_not(None),
            table.c.result != ScanResult.REJECTED.value,
        )
        .order_by(table.c.cylinder_id, table.c.id)
    )
    histories: dict[int, list[StoredEvent]] = {i: [] for i in codes}
    for row in session.execute(statement, {"codes": list(codes.values())}):
        values = list(row)
        values[3] = ScanKind(values[3])
        values[4] = Outcome(values[4]) if values[4] is not None else None
        histories[values[2]].append(StoredEvent(*values))
    return histories


def load_places(session: Session, ids: Iterable[int]) -> dict[int, Place]:
    """The sites with these ids, as the rules read them (one statement)."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    dialect = session.get_bind().dialect.name
    organisations = session.scalars(
        select(Organisation).where(one_of(Organisation.id, "ids", dialect)), {"ids": wanted}
    )
    return {o.id: place_of(o) for o in organisations}


def load_buyers(session: Session, ids: Iterable[int]) -> dict[int, Buyer]:
    """The customers with these ids, as real-name purchase reads them (one statement)."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    dialect = session.get_bind().dialect.name
    customers = session.scalars(
        select(Customer).where(one_of(Customer.id, "ids", dialect)), {"ids": wanted}
    )
    return {c.id: buyer_of(c) for c in customers}


def stored_observation(
    event: StoredEvent,
    places: dict[int, Place],
    buyers: dict[int, Buyer],
    rules: RuleSettings,
) -> Observation:
    """A stored scan as the rules read it when its history is replayed."""
    return observation(
        event.kind,
        event.occurred_at,
        event.received_at if event.interactive else event.occurred_at,
        event.event_id,
        event.outcome,
        places.get(event.site_id) if event.site_id is not None else None,
        buyers.get(event.customer_id) if event.customer_id is not None else None,
        event.data or {},
        rules,
    )
