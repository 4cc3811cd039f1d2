"""/bureau: the commerce bureau's (and regulator's) review of catering users.

Everything comes from the catering services the API uses (``catering.review``,
``catering.summary``, ``catering.history``), with the same period (``catering.status.period_now``),
the same filter schema as /api/v1/catering-users and the same row builder
(``catering.rows``), so the page and the API show the same numbers and rows; the exports are
the API's CSV and XLSX writers, types and headers behind the session sign-in.
"""

from __future__ import annotations

import math
from typing import Any

import marshmallow as ma
from flask import Response, render_template, request
from sqlalchemy import select

from cylinder_trace.access import catering_user_condition
from cylinder_trace.catering.export import CSV, XLSX, catering_csv, catering_xlsx, download_headers
from cylinder_trace.catering.history import checks_of, hazard_select
from cylinder_trace.catering.lookup import get_visible_catering_user
from cylinder_trace.catering.models import ItemResult
from cylinder_trace.catering.review import (
    count_catering_users,
    iter_catering_users,
    list_catering_users,
)
from cylinder_trace.catering.rows import hazard_row, row_of
from cylinder_trace.catering.schemas import CateringUserQuerySchema
from cylinder_trace.catering.status import Period, period_now
from cylinder_trace.catering.summary import summarise, summary_document
from cylinder_trace.customers.models import Customer
from cylinder_trace.db import get_session
from cylinder_trace.divisions.services import division_names
from cylinder_trace.domain.weeks import CheckState
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.pages.auth import BUREAU_ROLES, page_principal, require_roles
from cylinder_trace.pages.i18n import current_language
from cylinder_trace.pages.web import bp, render_error
from cylinder_trace.web.current import settings

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
    scope = catering_user_condition(principal)
    company_ids = select(Customer.company_id).where(scope).distinct()
    companies = session.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.id.in_(company_ids))
        .order_by(Organisation.name)
    ).all()
    districts = session.scalars(
        select(Customer.division_code).where(scope).distinct().order_by(Customer.division_code)
    ).all()
    names = division_names(session, districts)
    return [(row.id, row.name) for row in companies], [
        (code, names.get(code)) for code in districts
    ]


def _item_labels() -> dict[str, str]:
    english = current_language() == "en"
    return {
        item.code: (item.en if english else item.zh) for item in settings().rules.catering_checklist
    }


def _hazard_rows(hazards: Any, period: Period) -> list[dict[str, Any]]:
    rules = settings().rules
    return [hazard_row(hazard, rules, period) for hazard in hazards]


@bp.get("/bureau")
@require_roles(*BUREAU_ROLES)
def bureau() -> Any:
    """Counts by status, per supplier and per district, the user list, the open hazards."""
    session = get_session()
    principal = page_principal()
    period = period_now(settings())
    filters = list_filters()
    scope_filters = {
        key: filters[key] for key in ("district", "company_id") if filters.get(key) is not None
    }
    summary = summarise(session, principal, {**scope_filters, "active": True}, period)
    document = summary_document(summary)
    total = count_catering_users(session, principal, filters, period)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    rows = list_catering_users(
        session, principal, filters, period, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    hazards = list(
        session.scalars(
            hazard_select(principal, {**scope_filters, "state": "open"}, period).limit(
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
        hazards=_hazard_rows(hazards, period),
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
    period = period_now(settings())
    customer = get_visible_catering_user(session, principal, customer_id)
    row = row_of(session, customer, period)
    checks = list(session.scalars(checks_of(customer).limit(CHECKS_SHOWN)))
    failed = {
        check.id: [item.code for item in check.items if item.result == ItemResult.FAIL]
        for check in checks
    }
    hazards = session.scalars(
        hazard_select(principal, {"customer_id": customer.id}, period).limit(100)
    )
    return render_template(
        "bureau_user.html",
        row=row,
        checks=checks,
        failed=failed,
        hazards=_hazard_rows(hazards, period),
        item_labels=_item_labels(),
    )


def _export_rows() -> Any:
    period = period_now(settings())
    return iter_catering_users(get_session(), page_principal(), list_filters(), period)


@bp.get("/bureau/export.csv")
@require_roles(*BUREAU_ROLES)
def bureau_export_csv() -> Response:
    """The filtered list as CSV: the API's export, signed in by session."""
    return Response(
        catering_csv(_export_rows(), settings().time_zone),
        mimetype=CSV,
        headers=download_headers("csv"),
    )


@bp.get("/bureau/export.xlsx")
@require_roles(*BUREAU_ROLES)
def bureau_export_xlsx() -> Response:
    """The filtered list as an Excel workbook."""
    return Response(
        catering_xlsx(_export_rows(), settings().time_zone),
        mimetype=XLSX,
        headers=download_headers("xlsx"),
    )
