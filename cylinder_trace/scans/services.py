"""Recording scans: once per event_id, checked against the rules, chained, kept for good.

``record_scans`` takes a list of validated items (one for POST /scans, up to 1,000 for a
batch) and works set-wise (see ``store``): one statement locks the cylinders with their
chain heads, one finds the event ids already stored, and one writes the scans, the chain
heads and the cylinders together, however many items there are. Interactive scans that
break a rule are refused (the refusal is stored); offline ones are stored and flagged. A
scan older than the cylinder's latest replays the cylinder's history in ``occurred_at``
order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cylinder_trace.customers.cards import resolve_customer_card
from cylinder_trace.customers.models import Customer
from cylinder_trace.customers.services import id_number_hash
from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.identity import validate_id_number
from cylinder_trace.domain.lifecycle import (
    CylinderSnapshot,
    CylinderState,
    Outcome,
    ScanEvent,
    ScanKind,
    TransitionRefused,
    apply,
    replay,
)
from cylinder_trace.domain.roles import OrganisationKind
from cylinder_trace.labels.signing import CODE_RE, LabelInvalid
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.scans import chain as chains
from cylinder_trace.scans import store
from cylinder_trace.scans.context import ScanContext, plain_hash
from cylinder_trace.scans.evaluate import MESSAGES, Judgement, judge_buyer, judge_fill
from cylinder_trace.scans.models import Scan, ScanResult
from cylinder_trace.scans.side_effects import apply_side_effects
from cylinder_trace.scans.store import CylinderRecord
from cylinder_trace.web.errors import register_constraint_error

register_constraint_error(
    "uq_scans_event_id", "event_id_conflict", "This event_id was already used for another scan."
)
DUPLICATE = "duplicate"
# Offline: a buyer the service does not know is flagged under this code, not refused.
OFFLINE_CODES = {"buyer_not_registered": "unregistered_buyer"}


@dataclass(slots=True)
class ItemResult:
    index: int
    event_id: str | None
    status: str
    code: str | None = None
    message: str | None = None
    original_status: str | None = None
    scan_id: int | None = None
    details: dict[str, Any] | None = None
    record: dict[str, Any] | None = field(default=None, repr=False)


@dataclass(slots=True)
class _Target:
    """What an item's code or QR payload points at."""

    scanned: str
    code: str | None
    chain_key: str
    problem: str | None = None


def _target(item: dict[str, Any], ctx: ScanContext) -> _Target:
    if item.get("qr"):
        scanned = item["qr"].strip()
        try:
            code = ctx.signer.verify(scanned)
        except LabelInvalid:
            return _Target(scanned, None, "?" + plain_hash(scanned)[:60], "label_invalid")
        return _Target(scanned, code, code)
    scanned = item["code"].strip().upper()
    if not CODE_RE.match(scanned):
        return _Target(scanned, None, "?" + plain_hash(scanned)[:60], "cylinder_unknown")
    return _Target(scanned, scanned, scanned)


@dataclass(frozen=True, slots=True)
class Site:
    """Where a scan happened: what the rules and the side effects need of the place."""

    id: int
    kind: OrganisationKind
    company_id: int | None


def _site(session: Session, ctx: ScanContext, item: dict[str, Any]) -> Site:
    principal = ctx.principal
    if item.get("site_id") is None:
        # The caller's own organisation: known from the token, nothing to load.
        return Site(principal.organisation_id, principal.organisation_kind, principal.company_id)
    site = session.get(Organisation, item["site_id"])
    if site is None or (not principal.is_system_admin and site.company_id != principal.company_id):
        raise DomainError("The site is not one of your company's sites.", code="site_invalid")
    return Site(site.id, site.kind, site.company_id)


def _buyer(
    session: Session, ctx: ScanContext, cylinder: CylinderRecord, buyer: dict
) -> Customer | None:
    company = cylinder.owner_company_id
    if buyer.get("customer_id") is not None:
        customer = session.get(Customer, buyer["customer_id"])
        return customer if customer is not None and customer.company_id == company else None
    if buyer.get("card"):
        try:
            return resolve_customer_card(session, buyer["card"], company_id=company)
        except DomainError:
            return None
    try:
        number = validate_id_number(buyer["id_number"])
    except DomainError:
        return None
    return session.scalar(
        select(Customer).where(
            Customer.company_id == company,
            Customer.id_number_hash == id_number_hash(ctx.vault, number),
        )
    )


def _judge(
    session: Session,
    ctx: ScanContext,
    item: dict[str, Any],
    cylinder: CylinderRecord,
    site: Site,
    label_valid: bool,
) -> tuple[Judgement, Customer | None]:
    kind = item["kind"]
    customer = None
    if kind in (ScanKind.FILL, ScanKind.REWEIGH):
        if site.kind != OrganisationKind.FILLING_STATION:
            judgement = Judgement()
            judgement.add("station_required")
            return judgement, None
        scan = _Fill(item)
        judgement = judge_fill(cylinder, scan, site.company_id, label_valid, ctx.rules, ctx.today)
        if kind == ScanKind.REWEIGH:  # only the mass matters when reweighing
            judgement.problems = [p for p in judgement.problems if not p[0].startswith("pre_")]
        return judgement, None
    judgement = Judgement()
    if cylinder.owner_company_id != ctx.principal.company_id and not ctx.principal.is_system_admin:
        judgement.add("not_own_cylinder")
    if kind == ScanKind.DELIVER:
        customer = _buyer(session, ctx, cylinder, item["buyer"])
        buyer = judge_buyer(cylinder, customer, ctx.rules)
        judgement.problems += buyer.problems
        if customer is not None:
            judgement.data["customer_id"] = customer.id
    if kind == ScanKind.INSPECT:
        judgement.outcome = Outcome(item["inspection_result"])
    return judgement, customer


class _Fill:
    """The fill fields of an item, as judge_fill reads them."""

    def __init__(self, item: dict[str, Any]) -> None:
        self.gross_kg = item.get("gross_kg")
        self.tare_kg = item.get("tare_kg")
        self.pre_fill_check = item.get("pre_fill_check")
        self.post_fill_check = item.get("post_fill_check")


def _history(
    session: Session, cylinder: CylinderRecord, fresh: list[tuple[ScanEvent, dict]]
) -> list:
    """The cylinder's kept scans (stored and new in this batch), as (event, fields-or-Scan)."""
    stored = session.scalars(
        select(Scan)
        .where(
            Scan.cylinder_id == cylinder.id,
            Scan.result != ScanResult.REJECTED,
            Scan.kind != ScanKind.REGISTER,
        )
        .order_by(Scan.received_at, Scan.id)
    )
    history = [
        (ScanEvent(s.kind, s.occurred_at, s.outcome, buyer_id=s.customer_id or "?", ref=s), s)
        for s in stored
    ]
    return history + fresh


def record_scans(
    session: Session, ctx: ScanContext, items: list[dict[str, Any]], *, interactive: bool
) -> list[ItemResult]:
    """Record validated scan items; return one result per item, in the same order."""
    results: list[ItemResult | None] = [None] * len(items)
    hashes = [ctx.content_hash(item) for item in items]
    first_seen: dict[uuid.UUID, int] = {}
    pending: list[int] = []
    for index, item in enumerate(items):
        if item["event_id"] in first_seen:
            continue  # answered after the first one is known
        first_seen[item["event_id"]] = index
        pending.append(index)
    targets = {index: _target(items[index], ctx) for index in pending}
    cylinders, heads = store.lock_cylinders(
        session, sorted({t.code for t in targets.values() if t.code})
    )
    orphans = {_orphan_key(t) for t in targets.values() if t.code not in cylinders}
    heads.update(store.lock_heads(session, sorted(orphans)))
    # Looked up only now, under the locks: a retry racing its original waits for it above,
    # then finds it here instead of tripping over the unique constraint. One interactive
    # scan (the commonest request) has the write itself check, saving a round trip: it is
    # judged against the state now and never replays history, so judging a retry changes
    # nothing before the write finds it stored. An offline one can be late, and its replay
    # may flag earlier scans, so a retry of it is looked up first.
    check_while_writing = interactive and len(items) == 1 and store.can_check_while_writing(session)
    stored = {} if check_while_writing else store.stored_scans(session, list(first_seen))
    for index in list(pending):
        item = items[index]
        if item["event_id"] in stored:
            results[index] = _repeat(index, item, hashes[index], stored[item["event_id"]])
            pending.remove(index)
    # Held here: the session's identity map keeps objects only while someone else does.
    buyers = store.load_customers(
        session,
        (
            items[i]["buyer"]["customer_id"]
            for i in pending
            if (items[i].get("buyer") or {}).get("customer_id") is not None
        ),
    )
    rows: list[dict[str, Any]] = []
    texts: list[str] = []  # each row's canonical JSON, from hashing it
    fresh: dict[int, list] = {}
    # No autoflush inside the loop: nothing the loop reads depends on pending ORM changes.
    with session.no_autoflush:
        for index in pending:
            item, target = items[index], targets[index]
            result = _record_one(
                session,
                ctx,
                index,
                item,
                hashes[index],
                target,
                cylinders.get(target.code or ""),
                interactive,
                fresh,
            )
            fields = result.record
            key = fields["chain_key"]
            fields, heads[key], text = chains.link(fields, heads.get(key))
            rows.append(fields)
            texts.append(text)
            results[index] = result
    del buyers
    session.flush()  # the late path's review flags on stored scans, if any
    ids = store.write(
        session, rows, texts, heads.values(), cylinders.values(), only_if_new=check_while_writing
    )
    if check_while_writing and rows and rows[0]["event_id"] not in ids:
        # Stored already (a retry): nothing was written; answer as for any repeat.
        event_id = rows[0]["event_id"]
        original = store.stored_scans(session, [event_id])[event_id]
        results[0] = _repeat(0, items[0], hashes[0], original)
    for result in results:
        if result is not None and result.scan_id is None and result.record is not None:
            result.scan_id = result.record["id"] = ids[result.record["event_id"]]
    _answer_repeats_in_batch(items, hashes, first_seen, results)
    return results  # type: ignore[return-value]


def _orphan_key(target: _Target) -> str:
    return target.chain_key if target.problem else "?" + target.chain_key[:63]


def _repeat(
    index: int, item: dict[str, Any], content_hash: str, scan: store.StoredScan
) -> ItemResult:
    event_id = str(item["event_id"])
    if scan.content_hash != content_hash:
        return ItemResult(
            index,
            event_id,
            ScanResult.REJECTED.value,
            "event_id_conflict",
            "This event_id was already used for a different scan; nothing was overwritten.",
            scan_id=scan.id,
        )
    return ItemResult(
        index,
        event_id,
        DUPLICATE,
        scan.result_code,
        scan.result_message,
        original_status=scan.result.value,
        scan_id=scan.id,
    )


def _answer_repeats_in_batch(
    items: list[dict[str, Any]], hashes: list[str], first_seen: dict, results: list
) -> None:
    for index, item in enumerate(items):
        if results[index] is not None:
            continue
        first = results[first_seen[item["event_id"]]]
        if hashes[index] != hashes[first_seen[item["event_id"]]]:
            results[index] = ItemResult(
                index,
                str(item["event_id"]),
                ScanResult.REJECTED.value,
                "event_id_conflict",
                "The batch uses this event_id twice for different scans.",
            )
        else:
            status = first.original_status or first.status
            results[index] = ItemResult(
                index,
                first.event_id,
                DUPLICATE,
                first.code,
                first.message,
                original_status=status,
                scan_id=first.scan_id,
            )


def _record_one(
    session: Session,
    ctx: ScanContext,
    index: int,
    item: dict[str, Any],
    content_hash: str,
    target: _Target,
    cylinder: CylinderRecord | None,
    interactive: bool,
    fresh: dict[int, list],
) -> ItemResult:
    principal = ctx.principal
    fields: dict[str, Any] = {
        "event_id": item["event_id"],
        "content_hash": content_hash,
        "kind": item["kind"],
        "outcome": None,
        "scanned": target.scanned[:300],
        "chain_key": target.chain_key if cylinder is not None else _orphan_key(target),
        "cylinder_id": cylinder.id if cylinder is not None else None,
        "occurred_at": item["occurred_at"],
        "received_at": ctx.now,
        "actor_user_id": principal.user_id,
        "device_id": principal.device_id,
        "organisation_id": principal.organisation_id,
        "site_id": None,
        "latitude": item.get("latitude"),
        "longitude": item.get("longitude"),
        "customer_id": None,
        "data": _data(item),
        "interactive": interactive,
        "review_code": None,
    }

    def finish(result: ScanResult, code: str | None, message: str | None) -> ItemResult:
        fields.update(result=result, result_code=code, result_message=message)
        return ItemResult(index, str(item["event_id"]), result.value, code, message, record=fields)

    try:
        site = _site(session, ctx, item)
    except DomainError as error:
        return finish(ScanResult.REJECTED, error.code, error.message)
    fields["site_id"] = site.id
    if cylinder is None:
        code = target.problem or "cylinder_unknown"
        return finish(ScanResult.REJECTED, code, MESSAGES[code])
    judgement, customer = _judge(session, ctx, item, cylinder, site, target.problem is None)
    fields["outcome"] = judgement.outcome
    fields["data"].update(judgement.data)
    fields["customer_id"] = customer.id if customer is not None else None
    if cylinder.owner_company_id != principal.company_id and not principal.is_system_admin:
        code = "not_own_cylinder"
        return finish(ScanResult.REJECTED, code, MESSAGES[code])
    event = ScanEvent(
        item["kind"],
        item["occurred_at"],
        judgement.outcome,
        buyer_id=customer.id if customer is not None else "unregistered",
        ref=fields,
    )
    # An interactive scan is judged against the state now, whatever the device clock says:
    # it is checked before the act. Only offline uploads can be late and replay history.
    late = (
        not interactive
        and cylinder.last_scan_at is not None
        and item["occurred_at"] < cylinder.last_scan_at
    )
    problem = judgement.problems[0] if judgement.problems else None
    if late:
        history = _history(session, cylinder, fresh.setdefault(cylinder.id, []))
        outcome = replay(
            [e for e, _ in history] + [event], initial=CylinderSnapshot(CylinderState.REGISTERED)
        )
        violations = {id(e.ref): code for e, code in outcome.violations}
        lifecycle = violations.get(id(fields))
        new_snapshot = outcome.snapshot
    else:
        try:
            new_snapshot = apply(cylinder.snapshot, event)
            lifecycle = None
        except TransitionRefused as refused:
            lifecycle = refused.code
            new_snapshot = replay([event], initial=cylinder.snapshot).snapshot
    if lifecycle is not None and problem is None:
        problem = (lifecycle, MESSAGES.get(lifecycle, str(lifecycle).replace("_", " ")))
    if problem is not None and interactive:
        return finish(ScanResult.REJECTED, problem[0], problem[1])
    if late:
        _flag_history(history, violations, fields)
    fresh.setdefault(cylinder.id, []).append((event, fields))
    apply_side_effects(cylinder, new_snapshot, item, fields, site, customer, late, ctx)
    if problem is None:
        return finish(ScanResult.ACCEPTED, None, None)
    code = OFFLINE_CODES.get(problem[0], problem[0])
    return finish(ScanResult.ACCEPTED_WITH_VIOLATION, code, MESSAGES.get(code, problem[1]))


def _flag_history(history: list, violations: dict[int, str], new_fields: dict) -> None:
    """Earlier scans that the late one makes inconsistent are flagged for review."""
    for event, record in history:
        code = violations.get(id(event.ref))
        if code is None or record is new_fields:
            continue
        if isinstance(record, Scan):
            if record.review_code is None and record.result == ScanResult.ACCEPTED:
                record.review_code = code
        elif record.get("result") == ScanResult.ACCEPTED and record.get("review_code") is None:
            record["review_code"] = code


def _data(item: dict[str, Any]) -> dict[str, Any]:
    """The kind-specific fields to keep: numbers as text, never a buyer's ID number."""
    keep = (
        "gross_kg",
        "tare_kg",
        "pre_fill_check",
        "post_fill_check",
        "operator",
        "vehicle_plate",
        "staff",
        "inspection_result",
        "inspection_body",
        "certificate_no",
        "reason",
        "note",
    )
    data = {key: item[key] for key in keep if item.get(key) is not None}
    for key in ("gross_kg", "tare_kg"):
        if key in data:
            data[key] = str(data[key])
    if item.get("buyer"):
        buyer = item["buyer"]
        data["buyer_given_by"] = next(
            k for k in ("customer_id", "card", "id_number") if buyer.get(k)
        )
    return data
