"""/company/...: a gas company's customers (ID numbers masked), cylinders with their scan
timelines, and the scans waiting for review.

Scoped exactly as the API: ``visible_customers``, ``visible_cylinders`` and ``visible_scans``
with the signed-in user's principal. ID numbers are shown only in their stored masked form;
revealing one stays an audited API call.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from sqlalchemy import or_, select

from cylinder_trace.customers.models import Customer
from cylinder_trace.customers.services import filter_customers, visible_customers
from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.cylinders.services import (
    filter_cylinders,
    get_visible_cylinder,
    visible_cylinders,
)
from cylinder_trace.db import get_session, utcnow
from cylinder_trace.domain.inspection import is_inspection_overdue
from cylinder_trace.domain.lifecycle import CylinderState
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.pages.auth import COMPANY_ROLES, page_principal, require_roles
from cylinder_trace.pages.web import bp, paginate
from cylinder_trace.scans.models import Scan, ScanResult
from cylinder_trace.scans.reading import visible_scans
from cylinder_trace.web.current import registry, settings

PAGE_SIZE = 50
QUERY_MAX = 64


def _today() -> Any:
    return utcnow().astimezone(settings().time_zone).date()


def _text_arg(name: str) -> str:
    return request.args.get(name, "").strip()[:QUERY_MAX]


def _names(model: Any, ids: set[int | None]) -> dict[int, str]:
    wanted = {ident for ident in ids if ident is not None}
    if not wanted:
        return {}
    return dict(
        get_session().execute(select(model.id, model.name).where(model.id.in_(wanted))).all()
    )


@bp.get("/company/customers")
@require_roles(*COMPANY_ROLES)
def company_customers() -> Any:
    """The company's registered buyers, ID numbers masked."""
    session = get_session()
    filters: dict[str, Any] = {}
    if _text_arg("q"):
        filters["q"] = _text_arg("q")
    if request.args.get("kind") in ("person", "business"):
        filters["kind"] = request.args["kind"]
    if request.args.get("catering") == "1":
        filters["catering"] = True
    statement = filter_customers(registry().pii_vault, visible_customers(page_principal()), filters)
    rows, total, page, pages = paginate(session, statement, PAGE_SIZE)
    return render_template(
        "company_customers.html",
        customers=[row[0] for row in rows],
        total=total,
        page=page,
        pages=pages,
        filters=filters,
    )


@bp.get("/company/cylinders")
@require_roles(*COMPANY_ROLES)
def company_cylinders() -> Any:
    """The company's cylinders: code search, state, overdue inspections."""
    session = get_session()
    filters: dict[str, Any] = {}
    state = request.args.get("state")
    if state in {member.value for member in CylinderState}:
        filters["state"] = CylinderState(state)
    overdue = request.args.get("overdue") == "1"
    today = _today()
    if overdue:
        filters["inspection_due_before"] = today
    statement = filter_cylinders(visible_cylinders(page_principal()), filters)
    code = _text_arg("q").upper()
    if code:
        statement = statement.where(Cylinder.code.contains(code, autoescape=True))
    rows, total, page, pages = paginate(session, statement, PAGE_SIZE)
    return render_template(
        "company_cylinders.html",
        cylinders=[row[0] for row in rows],
        total=total,
        page=page,
        pages=pages,
        state=state if "state" in filters else "",
        overdue=overdue,
        today=today,
        states=[member.value for member in CylinderState],
        is_overdue=is_inspection_overdue,
    )


@bp.get("/company/cylinders/<code>")
@require_roles(*COMPANY_ROLES)
def company_cylinder(code: str) -> Any:
    """One cylinder and every scan of it, in the order things happened (refusals too)."""
    session = get_session()
    principal = page_principal()
    cylinder = get_visible_cylinder(session, principal, code)
    scans = list(
        session.scalars(
            visible_scans(principal)
            .where(Scan.of_cylinder(cylinder.id, cylinder.code))
            .order_by(Scan.occurred_at, Scan.id)
        )
    )
    sites = _names(Organisation, {scan.site_id for scan in scans} | {cylinder.location_id})
    customers = _names(Customer, {scan.customer_id for scan in scans})
    return render_template(
        "company_cylinder.html",
        cylinder=cylinder,
        scans=scans,
        sites=sites,
        customers=customers,
        overdue=is_inspection_overdue(cylinder.next_inspection_due, _today()),
    )


@bp.get("/company/review")
@require_roles(*COMPANY_ROLES)
def company_review() -> Any:
    """Refused and flagged scans, and earlier ones a late upload flagged: newest first."""
    session = get_session()
    statement = (
        select(Scan, Cylinder.code)
        .outerjoin(Cylinder, Cylinder.id == Scan.cylinder_id)
        .where(
            Scan.id.in_(visible_scans(page_principal()).with_only_columns(Scan.id)),
            or_(Scan.result == ScanResult.REJECTED, Scan.review_code.is_not(None)),
        )
        .order_by(Scan.received_at.desc(), Scan.id.desc())
    )
    rows, total, page, pages = paginate(session, statement, PAGE_SIZE)
    sites = _names(Organisation, {row[0].site_id for row in rows})
    return render_template(
        "company_review.html",
        rows=[(row[0], row[1]) for row in rows],
        sites=sites,
        total=total,
        page=page,
        pages=pages,
    )
