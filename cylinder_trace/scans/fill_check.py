"""The filling scale's question (GB/T 38059): may this cylinder be filled here, now?

Answered by the very judgement a fill gets (``domain.history.judge``), for a fill at this
instant at this station with the pre-fill check passed and the mass right: so the
interlock and the fill that follows never disagree.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.history import Observation, Place, judge, refusals
from cylinder_trace.domain.lifecycle import Outcome, ScanKind
from cylinder_trace.scans.context import ScanContext
from cylinder_trace.scans.judging import identity_of, projection_of
from cylinder_trace.scans.targets import Places, target_of
from cylinder_trace.translations import message


def _answer(ctx: ScanContext, codes: list[str], cylinder: Cylinder | None) -> dict[str, Any]:
    return {
        "allowed": not codes,
        "code": codes[0] if codes else None,
        "reasons": [{"code": code, "message": message(code, ctx.language)} for code in codes],
        "cylinder": {
            "code": cylinder.code,
            "model": cylinder.model,
            "state": cylinder.state.value,
            "next_inspection_due": cylinder.next_inspection_due.isoformat(),
            "scrap_date": cylinder.scrap_date.isoformat(),
        }
        if cylinder is not None
        else None,
    }


def fill_refusals(ctx: ScanContext, cylinder: Cylinder, site: Place) -> list[str]:
    """What a fill of ``cylinder`` at ``site`` now would be refused for (empty: allowed).

    The pre-fill check is recorded with the fill itself; here it is taken as passed.
    """
    scan = Observation(
        ScanKind.FILL,
        ctx.now,
        ctx.now,
        outcome=Outcome.OK,
        site=site,
        pre_fill_check_passed=True,
    )
    identity = identity_of(cylinder, ctx.rules)
    return refusals(judge(identity, projection_of(cylinder), scan, ctx.rules, ctx.tz))


def fill_check(session: Session, ctx: ScanContext, query: dict[str, Any]) -> dict[str, Any]:
    """Every reason that forbids filling the cylinder here now; records nothing.

    The question is answered as the fill itself would be, step by step and in the same
    order: the site (the query's ``site_id`` or the caller's own), what the code or label
    names, whose cylinder it is, then the rules. Another company's cylinder is answered
    ``not_own_cylinder`` and nothing else: its state, dates and history are that company's.
    """
    try:
        site = Places(session, ctx).of(query)
    except DomainError as error:
        return _answer(ctx, [error.code], None)
    target = target_of(query, ctx)
    cylinder = (
        session.scalar(select(Cylinder).where(Cylinder.code == target.code))
        if target.code is not None
        else None
    )
    if cylinder is None:
        return _answer(ctx, [target.problem or "cylinder_unknown"], None)
    principal = ctx.principal
    if cylinder.owner_company_id != principal.company_id and not principal.is_system_admin:
        return _answer(ctx, ["not_own_cylinder"], None)
    return _answer(ctx, fill_refusals(ctx, cylinder, site), cylinder)
