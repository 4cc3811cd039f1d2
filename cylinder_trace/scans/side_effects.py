"""How an accepted scan changes the cylinder's record beyond its state."""

from __future__ import annotations

from typing import Any

from cylinder_trace.customers.models import Customer
from cylinder_trace.cylinders.services import computed_dates
from cylinder_trace.domain.lifecycle import CylinderSnapshot, CylinderState, Outcome, ScanKind
from cylinder_trace.scans.store import CylinderRecord


def apply_side_effects(
    cylinder: CylinderRecord,
    snapshot: CylinderSnapshot | None,
    item: dict[str, Any],
    fields: dict[str, Any],
    site: Any,  # services.Site: its id is where the cylinder now is
    customer: Customer | None,
    late: bool,
    ctx: Any,
) -> None:
    """Move the cylinder to ``snapshot`` and record where it is, who holds it, its dates."""
    if snapshot is not None:
        cylinder.state = snapshot.state
        cylinder.stopped = snapshot.stopped
        cylinder.lost = snapshot.lost
        cylinder.overfilled = snapshot.overfilled
        cylinder.underfilled = snapshot.underfilled
    kind, occurred_at = item["kind"], item["occurred_at"]
    if cylinder.state == CylinderState.SCRAPPED and cylinder.scrapped_at is None:
        cylinder.scrapped_at = ctx.now
        cylinder.scrap_reason = item.get("reason") or (
            "failed periodic inspection" if kind == ScanKind.INSPECT else "scrapped by scan"
        )
    if kind == ScanKind.INSPECT and fields.get("outcome") == Outcome.PASS:
        inspected_on = occurred_at.astimezone(ctx.tz).date()
        if cylinder.last_inspected_on is None or inspected_on > cylinder.last_inspected_on:
            cylinder.last_inspected_on = inspected_on
            cylinder.inspection_due_override = None
            cylinder.next_inspection_due, cylinder.scrap_date = computed_dates(
                cylinder.manufactured_on,
                inspected_on,
                ctx.rules,
                scrap_date_override=cylinder.scrap_date_override,
            )
    if late:
        # An older scan changes the replayed state and flags, but not where the cylinder
        # is now or who holds it: newer scans already said that.
        return
    if cylinder.last_scan_at is None or occurred_at > cylinder.last_scan_at:
        cylinder.last_scan_at = occurred_at
    if kind == ScanKind.DELIVER:
        cylinder.location_id = None
        cylinder.holder_customer_id = customer.id if customer is not None else None
        cylinder.held_since = occurred_at
    else:
        cylinder.location_id = site.id
        if kind == ScanKind.COLLECT or cylinder.holder_customer_id is not None:
            cylinder.holder_customer_id = None
            cylinder.held_since = None
