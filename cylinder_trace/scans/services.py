"""Recording scans: once per event_id, judged by the one history of the cylinder, chained.

``record_scans`` is the one write path of a cylinder's life: every change of its state,
flags, dates, place or holder is a scan recorded here, and the cylinder row is the
projection of its scans (``cylinder_trace.domain.history``). It takes a list of validated
items (one for POST /scans, up to 1,000 for a batch) and works set-wise (see ``store``):
one statement locks the cylinders with their chain heads, one finds the event ids already
stored, and one writes the scans, the chain heads, the cylinders and any re-judged
verdicts together, however many items there are.

Interactive scans are judged against the cylinder as it is now and refused before the act
when they break a rule (the refusal is stored); offline ones are judged at the moment they
happened, kept, and flagged. An offline scan that happened before scans already stored
replays the cylinder's history (``rejudge``): every kept scan's verdict is then what the
complete history says.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cylinder_trace.customers.cards import resolve_customer_card
from cylinder_trace.customers.models import Customer
from cylinder_trace.customers.services import id_number_hash
from cylinder_trace.domain import fill
from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.history import (
    Observation,
    refusals,
    sort_key,
    step,
)
from cylinder_trace.domain.identity import validate_id_number
from cylinder_trace.domain.lifecycle import Outcome, ScanKind
from cylinder_trace.fastpath.cylinder_record import CylinderRecord
from cylinder_trace.scans import chain as chains
from cylinder_trace.scans import rejudge, store
from cylinder_trace.scans.answers import ScanAnswer, answer_repeats_in_batch, repeat_answer
from cylinder_trace.scans.context import ScanContext
from cylinder_trace.scans.judging import (
    buyer_of,
    identity_of,
    observation,
    projection_of,
    store_projection,
)
from cylinder_trace.scans.models import ScanResult
from cylinder_trace.scans.targets import Places, Target, chain_key_of, target_of
from cylinder_trace.translations import message


def _buyer(
    session: Session, ctx: ScanContext, cylinder: CylinderRecord, buyer: dict
) -> Customer | None:
    company = cylinder.owner_company_id
    if buyer.get("customer_id") is not None:
        customer = session.get(Customer, buyer["customer_id"])
        return customer if customer is not None and customer.company_id == company else None
    if buyer.get("card"):
        try:
            return resolve_customer_card(
                session, buyer["card"], signer=ctx.card_signer, company_id=company
            )
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


def _mass(cylinder: CylinderRecord, item: dict[str, Any], ctx: ScanContext, data: dict) -> Any:
    """The fill or reweigh outcome from the scale (GB 17267), with the masses kept."""
    gross = item.get("gross_kg")
    if gross is None:
        return None
    spec = ctx.rules.model(cylinder.model)
    tare = item["tare_kg"] if item.get("tare_kg") is not None else Decimal(cylinder.tare_kg)
    data.update(gross_kg=str(gross), tare_kg=str(tare), net_kg=str(gross - tare))
    if spec is None:
        return Outcome.OK
    return fill.assess_net_mass(spec, gross, tare)


@dataclass(slots=True)
class _Entry:
    """A new scan of a registered cylinder, waiting for its verdict."""

    result: ScanAnswer
    observation: Observation


def record_scans(
    session: Session, ctx: ScanContext, items: list[dict[str, Any]], *, interactive: bool
) -> list[ScanAnswer]:
    """Record validated scan items; return one result per item, in the same order."""
    results: list[ScanAnswer | None] = [None] * len(items)
    hashes = [ctx.content_hash(item) for item in items]
    first_seen: dict[uuid.UUID, int] = {}
    pending: list[int] = []
    for index, item in enumerate(items):
        if item["event_id"] in first_seen:
            continue  # answered after the first one is known
        first_seen[item["event_id"]] = index
        pending.append(index)
    targets = {index: target_of(items[index], ctx) for index in pending}
    cylinders, heads = store.lock_cylinders(
        session, sorted({t.code for t in targets.values() if t.code})
    )
    keys = {
        index: chain_key_of(target, cylinders.get(target.code or ""), ctx)
        for index, target in targets.items()
    }
    orphans = {key for key in keys.values() if key not in cylinders}
    heads.update(store.lock_heads(session, sorted(orphans)))
    # Looked up only now, under the locks: a retry racing its original waits for it above,
    # then finds it here instead of tripping over the unique constraint. One interactive
    # scan (the commonest request) has the write itself check, saving a round trip: it is
    # judged against the state now and never replays history, so judging a retry changes
    # nothing before the write finds it stored.
    check_while_writing = interactive and len(items) == 1 and store.can_check_while_writing(session)
    stored = {} if check_while_writing else store.stored_scans(session, list(first_seen))
    for index in list(pending):
        item = items[index]
        if item["event_id"] in stored:
            results[index] = repeat_answer(
                index, item, hashes[index], stored[item["event_id"]], ctx
            )
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
    places = Places(session, ctx)
    entries: dict[str, list[_Entry]] = {}
    with session.no_autoflush:
        for index in pending:
            target = targets[index]
            cylinder = cylinders.get(target.code or "")
            result, scan = _prepare(
                session,
                ctx,
                index,
                items[index],
                hashes[index],
                target,
                cylinder,
                places,
                interactive,
                keys[index],
            )
            results[index] = result
            if scan is not None:
                entries.setdefault(cylinder.code, []).append(_Entry(result, scan))  # type: ignore[union-attr]
    del buyers
    late: dict[str, list[_Entry]] = {}
    for code, new in entries.items():
        cylinder = cylinders[code]
        if interactive or not _is_late(cylinder, new):
            _judge_in_order(ctx, cylinder, new, interactive)
        else:
            late[code] = new
    verdicts = rejudge.Rejudged()
    if late:
        verdicts = rejudge.rejudge(session, ctx, {c: cylinders[c] for c in late}, late, _finish)
    rows: list[dict[str, Any]] = []
    texts: list[str] = []  # each row's canonical JSON, from hashing it
    for index in pending:
        fields = results[index].record  # type: ignore[union-attr]
        key = fields["chain_key"]
        fields, heads[key], text = chains.link(fields, heads.get(key))
        rows.append(fields)
        texts.append(text)
    ids = store.write(
        session,
        rows,
        texts,
        heads.values(),
        cylinders.values(),
        only_if_new=check_while_writing,
        review_codes=verdicts.review_codes,
        verdict_changes=verdicts.changes,
    )
    if check_while_writing and rows and rows[0]["event_id"] not in ids:
        # Stored already (a retry): nothing was written; answer as for any repeat.
        event_id = rows[0]["event_id"]
        original = store.stored_scans(session, [event_id])[event_id]
        results[0] = repeat_answer(0, items[0], hashes[0], original, ctx)
    for result in results:
        if result is not None and result.scan_id is None and result.record is not None:
            result.scan_id = result.record["id"] = ids[result.record["event_id"]]
    answer_repeats_in_batch(items, hashes, first_seen, results)
    return results  # type: ignore[return-value]


def _is_late(cylinder: CylinderRecord, new: list[_Entry]) -> bool:
    """Whether a new scan falls at or before the newest one kept: the history must replay."""
    last = cylinder.last_scan_at
    return last is not None and any(e.observation.occurred_at <= last for e in new)


def _judge_in_order(
    ctx: ScanContext, cylinder: CylinderRecord, new: list[_Entry], interactive: bool
) -> None:
    """Judge new scans that all follow the cylinder's history, moving its projection on."""
    rules, zone = ctx.rules, ctx.tz
    identity = identity_of(cylinder, rules)
    projection = projection_of(cylinder)
    # Offline scans in the order they happened; interactive ones as they come, each
    # judged against the cylinder as it is at that moment.
    ordered = new if interactive or len(new) == 1 else sorted(new, key=_entry_order)
    for entry in ordered:
        codes, after = step(identity, projection, entry.observation, rules, zone)
        refused = refusals(codes) if interactive and codes else None
        if refused:
            _finish(ctx, entry.result, ScanResult.REJECTED, refused[0])
            continue
        projection = after
        _finish(ctx, entry.result, *_verdict(codes))
    store_projection(cylinder, projection)


def _entry_order(entry: _Entry) -> Any:
    return sort_key(entry.observation)


def _verdict(codes: list[str]) -> tuple[ScanResult, str | None]:
    if not codes:
        return ScanResult.ACCEPTED, None
    return ScanResult.ACCEPTED_WITH_VIOLATION, codes[0]


def _finish(ctx: ScanContext, result: ScanAnswer, status: ScanResult, code: str | None) -> None:
    """Give a new scan its answer; a kept one's code is also its current verdict."""
    fields = result.record
    stored_message = message(code) if code is not None else None
    fields.update(  # type: ignore[union-attr]
        result=status,
        result_code=code,
        result_message=stored_message,
        review_code=code if status is ScanResult.ACCEPTED_WITH_VIOLATION else None,
    )
    result.status = status.value
    result.code = code
    result.message = message(code, ctx.language) if code is not None else None


def _prepare(
    session: Session,
    ctx: ScanContext,
    index: int,
    item: dict[str, Any],
    content_hash: str,
    target: Target,
    cylinder: CylinderRecord | None,
    places: Places,
    interactive: bool,
    chain_key: str,
) -> tuple[ScanAnswer, Observation | None]:
    """The new scan's fields, and what the rules read of it (None: refused already)."""
    principal = ctx.principal
    fields: dict[str, Any] = {
        "event_id": item["event_id"],
        "content_hash": content_hash,
        "kind": item["kind"],
        "outcome": None,
        "scanned": target.scanned[:300],
        "chain_key": chain_key,
        "cylinder_id": cylinder.id if chain_key == target.code else None,
        # The cylinder's owner when the scan joins its chain; otherwise the scanner is
        # the only company concerned (access.scan_condition).
        "company_id": cylinder.owner_company_id
        if chain_key == target.code
        else principal.company_id,
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
    result = ScanAnswer(index, str(item["event_id"]), "", record=fields)
    try:
        site = places.of(item)
    except DomainError as error:
        _finish(ctx, result, ScanResult.REJECTED, error.code)
        return result, None
    fields["site_id"] = site.id
    if cylinder is None:
        _finish(ctx, result, ScanResult.REJECTED, target.problem or "cylinder_unknown")
        return result, None
    if cylinder.owner_company_id != principal.company_id and not principal.is_system_admin:
        _finish(ctx, result, ScanResult.REJECTED, "not_own_cylinder")
        return result, None
    kind = item["kind"]
    outcome = customer = None
    if kind is ScanKind.FILL or kind is ScanKind.REWEIGH:
        outcome = _mass(cylinder, item, ctx, fields["data"])
    elif kind is ScanKind.INSPECT:
        outcome = Outcome(item["inspection_result"])
    elif kind is ScanKind.DELIVER:
        customer = _buyer(session, ctx, cylinder, item["buyer"])
        if customer is not None:
            fields["customer_id"] = customer.id
            fields["data"]["customer_id"] = customer.id
    fields["outcome"] = outcome
    scan = observation(
        kind,
        item["occurred_at"],
        ctx.now if interactive else item["occurred_at"],
        item["event_id"],
        outcome,
        site,
        buyer_of(customer) if customer is not None else None,
        fields["data"],
        ctx.rules,
    )
    return result, scan


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
        "inspected_on",
        "next_due_override",
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
