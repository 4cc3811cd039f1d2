"""Late scans re-judge the history: replay each cylinder's kept scans with the new ones.

An offline upload can bring a scan that happened before scans already stored. Then the
cylinder's whole kept history (one statement loads it for every such cylinder of the
request, with the sites and buyers it names) is replayed in the order things happened,
and every kept scan's verdict (``review_code``) becomes what the complete history says: a
flag it no longer supports is cleared, one it newly supports is raised. Each change is
kept in ``scan_verdict_changes`` with the scan whose arrival caused it, so a regulator can
see that a flag was raised and later cleared. Refused interactive scans are not part of
the history (the act did not happen) and stay refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from sqlalchemy.orm import Session

from cylinder_trace.domain.history import Buyer, Judged, Observation, Place, replay
from cylinder_trace.domain.lifecycle import ScanKind
from cylinder_trace.domain.rules import RuleSettings
from cylinder_trace.scans.context import ScanContext
from cylinder_trace.scans.judging import (
    StoredEvent,
    identity_of,
    load_buyers,
    load_histories,
    load_places,
    store_projection,
    stored_observation,
)
from cylinder_trace.scans.models import ScanResult


@dataclass(slots=True)
class Rejudged:
    """What a replay changes on stored scans: their new review codes, and the log of it."""

    review_codes: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)


def replay_stored(
    rules: RuleSettings,
    zone: tzinfo,
    cylinder: Any,
    events: list[StoredEvent],
    places: dict[int, Place],
    buyers: dict[int, Buyer],
    new: Sequence[Observation] = (),
) -> tuple[list[StoredEvent], Judged]:
    """Replay a cylinder's stored history (and any new scans) from its registration.

    Returns the stored scans replayed (every kept one but the registration itself, which
    is the history's start) and the judgement: verdicts of those, then of ``new``.
    """
    register = next((e for e in events if e.kind is ScanKind.REGISTER), None)
    kept = [e for e in events if e.kind is not ScanKind.REGISTER]
    identity = identity_of(cylinder, rules, register)
    scans = [stored_observation(e, places, buyers, rules) for e in kept]
    scans += new
    return kept, replay(identity, scans, rules, zone)


def rejudge(
    session: Session,
    ctx: ScanContext,
    cylinders: dict[str, Any],
    late: dict[str, list[Any]],
    finish: Callable[..., None],
) -> Rejudged:
    """Replay the histories of these cylinders with their new scans; judge all of them.

    ``late`` maps each code to its new entries (``services._Entry``); each gets its answer
    through ``finish`` (offline: accepted, or accepted_with_violation with its first code),
    and each cylinder row gets the projection of the complete history.
    """
    histories = load_histories(session, {cylinders[code].id: code for code in late})
    stored_events = [event for events in histories.values() for event in events]
    places = load_places(session, (event.site_id for event in stored_events))
    buyers = load_buyers(session, (event.customer_id for event in stored_events))
    outcome = Rejudged()
    for code, entries in late.items():
        cylinder = cylinders[code]
        kept, judged = replay_stored(
            ctx.rules,
            ctx.tz,
            cylinder,
            histories[cylinder.id],
            places,
            buyers,
            [e.observation for e in entries],
        )
        # The earliest of the new scans is the one whose arrival rewrote the history.
        cause = min(entries, key=lambda e: (e.observation.occurred_at, e.observation.order))
        cause_id = cause.result.record["event_id"]
        for event, codes in zip(kept, judged.verdicts, strict=False):
            now = codes[0] if codes else None
            if now != event.review_code:
                outcome.review_codes.append({"id": event.id, "review_code": now})
                outcome.changes.append(
                    {
                        "scan_id": event.id,
                        "previous_code": event.review_code,
                        "new_code": now,
                        "changed_at": ctx.now,
                        "caused_by_event_id": cause_id,
                    }
                )
        for entry, codes in zip(entries, judged.verdicts[len(kept) :], strict=True):
            if codes:
                finish(ctx, entry.result, ScanResult.ACCEPTED_WITH_VIOLATION, codes[0])
            else:
                finish(ctx, entry.result, ScanResult.ACCEPTED, None)
        store_projection(cylinder, judged.projection)
    return outcome
