"""The filling scale's question (GB/T 38059): may this cylinder be filled here, now?"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.domain import fill
from cylinder_trace.domain.roles import OrganisationKind
from cylinder_trace.labels.signing import LabelInvalid
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.scans.context import ScanContext
from cylinder_trace.scans.evaluate import MESSAGES, cylinder_facts


def _reasons(codes: list[str]) -> list[dict[str, str]]:
    return [{"code": code, "message": MESSAGES.get(code, code)} for code in codes]


def fill_check(session: Session, ctx: ScanContext, query: dict[str, Any]) -> dict[str, Any]:
    """Every reason that forbids filling the cylinder at the caller's station; records nothing.

    The pre-fill check is not part of the question: the operator records it with the fill.
    """
    station = ctx.principal.organisation
    if query.get("site_id") is not None:
        station = session.get(Organisation, query["site_id"]) or station
    label_valid = True
    if query.get("qr"):
        try:
            code = ctx.signer.verify(query["qr"].strip())
        except LabelInvalid:
            return {
                "allowed": False,
                "code": "label_invalid",
                "reasons": _reasons(["label_invalid"]),
                "cylinder": None,
            }
    else:
        code = query["code"].strip().upper()
    cylinder = session.scalar(select(Cylinder).where(Cylinder.code == code))
    if station.kind != OrganisationKind.FILLING_STATION:
        codes = ["station_required"]
    elif cylinder is None:
        codes = ["cylinder_unknown"]
    elif station.company_id != ctx.principal.company_id and not ctx.principal.is_system_admin:
        codes = ["station_required"]
    else:
        # The pre-fill check is recorded with the fill itself; here it is assumed done.
        facts = cylinder_facts(cylinder, label_valid=label_valid, pre_fill_check_passed=True)
        codes = fill.fill_refusals(facts, station.company_id, ctx.today, ctx.rules)
    visible = cylinder is not None and cylinder.owner_company_id == ctx.principal.company_id
    return {
        "allowed": not codes,
        "code": codes[0] if codes else None,
        "reasons": _reasons(codes),
        "cylinder": {
            "code": cylinder.code,
            "model": cylinder.model,
            "state": cylinder.state.value,
            "next_inspection_due": cylinder.next_inspection_due.isoformat(),
            "scrap_date": cylinder.scrap_date.isoformat(),
        }
        if visible
        else None,
    }
