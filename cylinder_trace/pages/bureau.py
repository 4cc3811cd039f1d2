"""/bureau: the commerce bureau's (and regulator's) review of catering users.

Everything comes from ``catering.services`` with the same period (``catering.api.period_now``)
and the same filter schema as /api/v1/catering-users, so the page and the API show the same
numbers; the exports are the API's CSV and XLSX writers behind the session sign-in.
"""

from __future__ import annotations

import math
from typing import Any

import marshmallow as ma
from flask import Response, render_template, request
from sqlalchemy import select

from cylinder_trace.catering import services
from cylinder_trace.catering.api import NO_STORE, XLSX, period_now
from cylinder_trace.catering.export import catering_csv, catering_xlsx
from cylinder_trace.catering.models import ItemResult
from cylinder_trace.catering.schemas import CateringUserQuerySchema
from cylinder_trace.customers.models import Customer
from cylinder_trace.db import get_session
from cylinder_trace.domain.weeks import CheckState
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.pages.auth import BUREAU_ROLES, page_principal, require_roles
from cylinder_trace.pages.i18n import current_language
from cylinder_trace.pages.web import bp, render_error, settings

PAGE_SIZE = 50
HAZARDS_SHOWN = 20
CHECKS_SHOWN = 50
FILTER_NAMES = ("district", "company_id", "hazard", "q", "sort")


class BadFilter(Exception):
    """Filters the list schema refuses."""


def list_filters() -> dict[str, Any]:
    """The query string through the API's own list schema (same names, same meaning)."""
    raw: dict[str, Any] = {
        name: request.args[name] for name in FILTER_NAMES if request.args.get(name)
    }
    statuses = [status for status in request.args.getlist("status") if status]
    if statuses:
        raw["status"] = statuses
    try:
        return CateringUserQuerySchema().load(raw)
    except ma.ValidationError as error:
        raise BadFilter(str(error.messages)) from None


@bp.errorhandler(BadFilter)
def _bad_filter(error: BadFilter) -> Any:
    return render_error(400, "error_400", str(error))


def _scope_choices(principal: Any) -> tuple[list[tuple[int, str]], list[str]]:
    """The supplier companies and districts present in the caller's scope, for the filters."""
    session = get_session()
    scope = services.catering_scope(principal)
    company_ids = select(Customer.company_id).where(*scope).distinct()
    companies = session.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.id.in_(company_ids))
        .order_by(Organisation.name)
    ).all()
    districts = session.scalars(
        select(Customer.division_code).where(*scope).distinct().order_by(Customer.division_code)
    ).all()
    return [(row.id, row.name) for row in companies], list(districts)


def _item_labels() -> dict[str, str]:
    english = current_language() == "en"
    return {
        item.code: (item.en if english else item.zh) for item in settings().rules.catering_checklist
    }


@bp.get("/bureau")
@require_roles(*BUREAU_ROLES)
def bureau() -> Any:
    """Counts by status, per supplier and per district, the user list, the open hazards."""
    session = get_session()
    principal = page_principal()
    period = period_now()
    filters = list_filters()
    scope_filters = {
        key: filters[key] for key in ("district", "company_id") if filters.get(key) is not None
    }
    summary = services.summarise(session, principal, {**scope_filters, "active": True}, period)
    document = services.summary_document(summary)
    total = services.count_catering_users(session, principal, filters, period)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    rows = services.list_catering_users(
        session, principal, filters, period, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    hazards = list(
        session.scalars(
            services.hazard_select(principal, {**scope_filters, "state": "open"}, period).limit(
                HAZARDS_SHOWN
            )
        )
    )
    names = dict(
        session.execute(
            select(Customer.id, Customer.name).where(
                Customer.id.in_({hazard.customer_id for hazard in hazards})
            )
        ).all()
    )
    companies, districts = _scope_choices(principal)
    return render_template(
        "bureau.html",
        summary=document,
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        hazards=[services.hazard_row(h, settings().rules, period) for h in hazards],
        hazard_names=names,
        item_labels=_item_labels(),
        filters=filters,
        companies=companies,
        districts=districts,
        check_states=[state.value for state in CheckState],
        export_query=request.query_string.decode("ascii", "replace"),
    )


@bp.get("/bureau/users/<int:customer_id>")
@require_roles(*BUREAU_ROLES)
def bureau_user(customer_id: int) -> Any:
    """One catering user: status, equipment, its visits and its hazards."""
    session = get_session()
    principal = page_principal()
    period = period_now()
    customer = services.get_visible_catering_user(session, principal, customer_id)
    row = services.catering_user_row(
        customer, services.count_past_deadline(session, customer, period), period
    )
    checks = list(session.scalars(services.checks_of(customer).limit(CHECKS_SHOWN)))
    failed = {
        check.id: [item.code for item in check.items if item.result == ItemResult.FAIL]
        for check in checks
    }
    hazards = session.scalars(
        services.hazard_select(principal, {"customer_id": customer.id}, period).limit(100)
    )
    return render_template(
        "bureau_user.html",
        row=row,
        checks=checks,
        failed=failed,
        hazards=[services.hazard_row(h, settings().rules, period) for h in hazards],
        item_labels=_item_labels(),
    )


def _export_rows() -> Any:
    return services.iter_catering_users(
        get_session(), page_principal(), list_filters(), period_now()
    )


@bp.get("/bureau/export.csv")
@require_roles(*BUREAU_ROLES)
def bureau_export_csv() -> Response:
    """The filtered list as CSV: the API's export, signed in by session."""
    return Response(
        catering_csv(_export_rows(), settings().time_zone),
        mimetype="text/csv",
        headers={**NO_STORE, "Content-Disposition": 'attachment; filename="catering-users.csv"'},
    )


@bp.get("/bureau/export.xlsx")
@require_roles(*BUREAU_ROLES)
def bureau_export_xlsx() -> Response:
    """The filtered list as an Excel workbook."""
    return Response(
        catering_xlsx(_export_rows(), settings().time_zone),
        mimetype=XLSX,
        headers={**NO_STORE, "Content-Disposition": 'attachment; filename="catering-users.xlsx"'},
    )
