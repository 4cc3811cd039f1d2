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
from cylinder_trace.domain.history import Observation, judge, refusals
from cylinder_trace.domain.lifecycle import Outcome, ScanKind
from cylinder_trace.domain.messages import message
from cylinder_trace.domain.roles import OrganisationKind
from cylinder_trace.labels.signing import LabelInvalid
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.scans.context import ScanContext
from cylinder_trace.scans.judging import identity_of, place_of, projection_of


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


def fill_refusals(ctx: ScanContext, cylinder: Cylinder, station: Organisation) -> list[str]:
    """What a fill of ``cylinder`` at ``station`` now would be refused for (empty: allowed).

    The pre-fill check is recorded with the fill itself; here it is taken as passed.
    """
    scan = Observation(
        ScanKind.FILL,
        ctx.now,
        ctx.now,
        outcome=Outcome.OK,
        site=place_of(station),
        pre_fill_check_passed=True,
    )
    identity = identity_of(cylinder, ctx.rules)
    return refusals(judge(identity, projection_of(cylinder), scan, ctx.rules, ctx.tz))


def fill_check(session: Session, ctx: ScanContext, query: dict[str, Any]) -> dict[str, Any]:
    """Every reason that forbids filling the cylinder at the caller's station; records nothing.

    Another company's cylinder is answered ``not_own_cylinder`` and nothing else: its state,
    dates and history are that company's.
    """
    principal = ctx.principal
    station = principal.organisation
    if query.get("site_id") is not None:
        station = session.get(Organisation, query["site_id"]) or station
    if query.get("qr"):
        try:
            code = ctx.signer.verify(query["qr"].strip())
        except LabelInvalid:
            return _answer(ctx, ["label_invalid"], None)
    else:
        code = query["code"].strip().upper()
    cylinder = session.scalar(select(Cylinder).where(Cylinder.code == code))
    if station.kind != OrganisationKind.FILLING_STATION:
        return _answer(ctx, ["station_required"], None)
    if cylinder is None:
        return _answer(ctx, ["cylinder_unknown"], None)
    if station.company_id != principal.company_id and not principal.is_system_admin:
        return _answer(ctx, ["station_required"], None)
    if cylinder.owner_company_id != station.company_id:
        return _answer(ctx, ["not_own_cylinder"], None)
    return _answer(ctx, fill_refusals(ctx, cylinder, station), cylinder)
