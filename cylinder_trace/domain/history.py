"""A cylinder's history judged: the projection of its scans and each scan's verdict.

The cylinder row is a projection of its scans: ``replay`` folds them, in the order they
happened, from what registration fixed (``CylinderIdentity``) into a ``Projection`` (state,
flags, inspection and scrap dates, where it is, who holds it). ``judge`` is the one
judgement of one scan against the projection just before it, used alike for an
interactive scan (refused before the act), an offline one (kept and flagged), a replay
after a late upload, and the filling scale's question (``fill-check``): so they can never
disagree.

A verdict is the list of every code the scan breaks, ordered by ``PRIORITY``: refusals
first (an interactive scan with one is refused), then flags (kept for review even on an
interactive scan, because the act already happened: a cylinder is already overfilled).
Dates are the rules in force on the day the scan is judged in the business zone: the day
it happened for an offline scan, the day it arrived for an interactive one (judged
before the act, so a device clock cannot backdate it past a due date).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import NamedTuple

from cylinder_trace.domain.inspection import (
    is_inspection_overdue,
    is_past_scrap_date,
    next_inspection_due,
    scrap_date,
)
from cylinder_trace.domain.lifecycle import (
    CylinderSnapshot,
    CylinderState,
    Outcome,
    ScanEvent,
    ScanKind,
    apply_judged,
    broken_rule,
)
from cylinder_trace.domain.rules import RuleSettings

K = ScanKind

REFUSALS: tuple[str, ...] = (
    "outcome_invalid",
    "station_required",
    "not_own_cylinder",
    "cylinder_scrapped",
    "cylinder_stopped",
    "cylinder_not_stopped",
    "already_registered",
    "inspection_overdue",
    "past_scrap_date",
    "cylinder_lost",
    "transition_not_allowed",
    "overfilled_cannot_dispatch",
    "pre_fill_check_missing",
    "pre_fill_check_failed",
    "post_fill_check_failed",
    "buyer_missing",
    "buyer_not_registered",
    "buyer_inactive",
    "ysp118_indoor_forbidden",
)
"""Codes that refuse an interactive scan, most fundamental first."""

FLAGS: tuple[str, ...] = (
    "scanned_before_registration",
    "location_mismatch",
    "tare_mismatch",
    "overfilled",
    "underfilled",
)
"""Codes that only flag a scan for review: what they describe has already happened."""

PRIORITY: tuple[str, ...] = REFUSALS + FLAGS
_RANK = {code: rank for rank, code in enumerate(PRIORITY)}
_FLAGS = frozenset(FLAGS)

# Scans made where the cylinder is, that put it at the scanner's site.
AT_SITE_KINDS = frozenset(
    {K.FILL, K.REWEIGH, K.DISPATCH, K.STORE, K.RECEIVE_EMPTY, K.COLLECT}
    | {K.SEND_FOR_INSPECTION, K.INSPECT}
)
# Of those, the ones that need the cylinder to be at that very site when it is known to be
# at one (a store or a receive follows a journey, a collect is at the customer's).
SAME_SITE_KINDS = frozenset({K.FILL, K.REWEIGH, K.DISPATCH})
# States in which the cylinder sits at a known site.
AT_A_SITE = frozenset(
    {
        CylinderState.REGISTERED,
        CylinderState.FULL_AT_STATION,
        CylinderState.EMPTY_AT_STATION,
        CylinderState.AT_SUPPLY_POINT,
    }
)
FILLING_STATION = "filling_station"


class CylinderIdentity(NamedTuple):
    """What registration fixed about a cylinder; no scan changes it."""

    owner_company_id: Hashable
    model: str
    tare_kg: Decimal
    manufactured_on: date
    registered_at: datetime
    registered_site_id: Hashable | None = None
    scrap_date_override: date | None = None
    initial_last_inspected_on: date | None = None
    initial_inspection_due_override: date | None = None
    model_indoor_allowed: bool = True


class Place(NamedTuple):
    """The site where a scan was made."""

    id: Hashable
    kind: str
    company_id: Hashable | None


class Buyer(NamedTuple):
    """What real-name purchase needs of the customer a delivery names."""

    id: Hashable
    registered_at: datetime
    active: bool = True
    household_without_outdoor_area: bool = False
    # When an inactive buyer was deactivated (None: unknown, inactive all along).
    deactivated_at: datetime | None = None


class Observation(NamedTuple):
    """One scan as the rules read it.

    ``judged_at`` is the instant whose business day the rules are taken from (see the
    module docstring); ``order`` breaks ties between scans of the same instant, so that the
    history's order never depends on the order of arrival.
    """

    kind: ScanKind
    occurred_at: datetime
    judged_at: datetime
    order: str = ""
    outcome: Outcome | None = None
    site: Place | None = None
    buyer: Buyer | None = None
    pre_fill_check_passed: bool | None = None
    post_fill_check_failed: bool = False
    tare_kg: Decimal | None = None
    inspected_on: date | None = None
    next_due_override: date | None = None
    reason: str | None = None


class Projection(NamedTuple):
    """What the cylinder row holds beside its identity: the fold of its scans."""

    snapshot: CylinderSnapshot
    last_inspected_on: date | None
    inspection_due_override: date | None
    next_inspection_due: date
    scrap_date: date
    location_id: Hashable | None
    holder_customer_id: Hashable | None
    held_since: datetime | None
    last_scan_at: datetime | None
    scrapped_at: datetime | None = None
    scrap_reason: str | None = None


def _dates(
    identity: CylinderIdentity, last: date | None, override: date | None, rules: RuleSettings
):
    due = next_inspection_due(identity.manufactured_on, last, rules, override=override)
    scrap_on = scrap_date(
        identity.manufactured_on,
        rules,
        last_passed_inspection_on=last,
        override=identity.scrap_date_override,
    )
    return due, scrap_on


def registered(identity: CylinderIdentity, rules: RuleSettings) -> Projection:
    """The projection right after registration, before any other scan."""
    due, scrap_on = _dates(
        identity,
        identity.initial_last_inspected_on,
        identity.initial_inspection_due_override,
        rules,
    )
    return Projection(
        CylinderSnapshot(CylinderState.REGISTERED),
        identity.initial_last_inspected_on,
        identity.initial_inspection_due_override,
        due,
        scrap_on,
        identity.registered_site_id,
        None,
        None,
        identity.registered_at,
    )


def _event(scan: Observation) -> ScanEvent:
    return ScanEvent(scan.kind, scan.occurred_at, scan.outcome, buyer_id=_buyer_ref(scan))


def step(
    identity: CylinderIdentity,
    before: Projection,
    scan: Observation,
    rules: RuleSettings,
    zone: tzinfo,
) -> tuple[list[str], Projection]:
    """``judge`` and ``advance`` at once (the lifecycle is checked once): codes, and after."""
    event = _event(scan)
    lifecycle = broken_rule(before.snapshot, event)
    return (
        _judged(identity, before, scan, rules, zone, lifecycle),
        _advanced(identity, before, scan, rules, zone, event, lifecycle),
    )


def judge(
    identity: CylinderIdentity,
    before: Projection,
    scan: Observation,
    rules: RuleSettings,
    zone: tzinfo,
) -> list[str]:
    """Every code ``scan`` breaks against ``before``, in PRIORITY order (empty: clean)."""
    return _judged(identity, before, scan, rules, zone, broken_rule(before.snapshot, _event(scan)))


def _judged(
    identity: CylinderIdentity,
    before: Projection,
    scan: Observation,
    rules: RuleSettings,
    zone: tzinfo,
    lifecycle: tuple[str, str] | None,
) -> list[str]:
    found: list[str] = []
    add = found.append
    kind = scan.kind
    site = scan.site
    snapshot = before.snapshot
    if lifecycle is not None:
        add(lifecycle[0])
    if kind is K.FILL or kind is K.REWEIGH:
        if site is None or site.kind != FILLING_STATION:
            add("station_required")
        elif site.company_id != identity.owner_company_id:
            add("not_own_cylinder")
    if kind is K.FILL:
        day = scan.judged_at.astimezone(zone).date()
        if snapshot.stopped:
            add("cylinder_stopped")
        if snapshot.state is CylinderState.SCRAPPED:
            add("cylinder_scrapped")
        if is_inspection_overdue(before.next_inspection_due, day):
            add("inspection_overdue")
        if is_past_scrap_date(before.scrap_date, day):
            add("past_scrap_date")
        if scan.pre_fill_check_passed is None:
            add("pre_fill_check_missing")
        elif scan.pre_fill_check_passed is False:
            add("pre_fill_check_failed")
    if (kind is K.FILL or kind is K.REWEIGH) and scan.post_fill_check_failed:
        add("post_fill_check_failed")
    if kind is K.DELIVER:
        buyer = scan.buyer
        if buyer is None or buyer.registered_at > scan.judged_at:
            add("buyer_not_registered")
        else:
            if not buyer.active and (
                buyer.deactivated_at is None or buyer.deactivated_at <= scan.judged_at
            ):
                add("buyer_inactive")
            if buyer.household_without_outdoor_area and not identity.model_indoor_allowed:
                add("ysp118_indoor_forbidden")
    if scan.judged_at < identity.registered_at:
        add("scanned_before_registration")
    if (
        kind in SAME_SITE_KINDS
        and site is not None
        and snapshot.state in AT_A_SITE
        and before.location_id is not None
        and before.location_id != site.id
    ):
        add("location_mismatch")
    if (
        (kind is K.FILL or kind is K.REWEIGH)
        and scan.tare_kg is not None
        and abs(scan.tare_kg - identity.tare_kg) > rules.tare_tolerance_kg
    ):
        add("tare_mismatch")
    if scan.outcome is Outcome.OVERFILLED:
        add("overfilled")
    elif scan.outcome is Outcome.UNDERFILLED:
        add("underfilled")
    if len(found) > 1:
        found = sorted(set(found), key=_RANK.__getitem__)
    return found


def _buyer_ref(scan: Observation) -> Hashable | None:
    if scan.kind is not K.DELIVER:
        return None
    # Named but unknown still names a buyer: that is buyer_not_registered, not buyer_missing.
    return scan.buyer.id if scan.buyer is not None else "unregistered"


def refusals(codes: Iterable[str]) -> list[str]:
    """The codes that refuse an interactive scan (the others only flag it)."""
    return [code for code in codes if code not in _FLAGS]


def advance(
    identity: CylinderIdentity,
    before: Projection,
    scan: Observation,
    rules: RuleSettings,
    zone: tzinfo,
) -> Projection:
    """The projection after ``scan`` is kept (whatever its verdict: what it saw happened)."""
    event = _event(scan)
    return _advanced(
        identity, before, scan, rules, zone, event, broken_rule(before.snapshot, event)
    )


def _advanced(
    identity: CylinderIdentity,
    before: Projection,
    scan: Observation,
    rules: RuleSettings,
    zone: tzinfo,
    event: ScanEvent,
    lifecycle: tuple[str, str] | None,
) -> Projection:
    snapshot = apply_judged(before.snapshot, event, lifecycle) or before.snapshot
    kind, occurred_at = scan.kind, scan.occurred_at
    last, override = before.last_inspected_on, before.inspection_due_override
    due, scrap_on = before.next_inspection_due, before.scrap_date
    if kind is K.INSPECT and scan.outcome is Outcome.PASS:
        inspected_on = scan.inspected_on or occurred_at.astimezone(zone).date()
        if last is None or inspected_on >= last:
            last, override = inspected_on, scan.next_due_override
            due, scrap_on = _dates(identity, last, override, rules)
    scrapped_at, scrap_reason = before.scrapped_at, before.scrap_reason
    if snapshot.state is CylinderState.SCRAPPED and scrapped_at is None:
        scrapped_at = occurred_at
        scrap_reason = scan.reason or (
            "failed periodic inspection" if kind is K.INSPECT else "scrapped by scan"
        )
    location, holder, held_since = before.location_id, before.holder_customer_id, before.held_since
    if kind is K.DELIVER:
        location = None
        holder = scan.buyer.id if scan.buyer is not None else None
        held_since = occurred_at
    elif kind in AT_SITE_KINDS:
        location = scan.site.id if scan.site is not None else location
        holder = held_since = None
    last_scan_at = before.last_scan_at
    if last_scan_at is None or occurred_at > last_scan_at:
        last_scan_at = occurred_at
    return Projection(
        snapshot,
        last,
        override,
        due,
        scrap_on,
        location,
        holder,
        held_since,
        last_scan_at,
        scrapped_at,
        scrap_reason,
    )


def sort_key(scan: Observation) -> tuple[datetime, str]:
    """The order of a history: when it happened, then the scan's own id (never arrival)."""
    return scan.occurred_at, scan.order


class Judged(NamedTuple):
    """A replayed history: the final projection and each scan's codes, in the input's order."""

    projection: Projection
    verdicts: list[list[str]]


def replay(
    identity: CylinderIdentity,
    scans: list[Observation],
    rules: RuleSettings,
    zone: tzinfo,
    start: Projection | None = None,
) -> Judged:
    """Judge each kept scan against the history before it, in the order things happened.

    ``scans`` are the kept scans (never the refused interactive ones: those acts did not
    happen), in any order; the verdicts come back in that same order. Without ``start`` the
    history starts at registration.
    """
    projection = start if start is not None else registered(identity, rules)
    verdicts: list[list[str]] = [[] for _ in scans]
    for index in sorted(range(len(scans)), key=lambda i: sort_key(scans[i])):
        verdicts[index], projection = step(identity, projection, scans[index], rules, zone)
    return Judged(projection, verdicts)
