"""/api/v1/catering-checklist and /catering-users: the checklist, the review and one user.

Commerce bureaus and regulators read the users whose premises lie in their jurisdiction,
with their check status, hazards, summaries and exports; gas-company staff their
company's, and they record the users' safety equipment. Status is computed for the present
instant (``status.clock``) in the configured business time zone, whatever the server's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Response
from flask.views import MethodView

from cylinder_trace.catering import status
from cylinder_trace.catering.blueprint_api import EDITORS, READERS, binary_response, blp
from cylinder_trace.catering.equipment import update_equipment
from cylinder_trace.catering.export import CSV, XLSX, catering_csv, catering_xlsx, download_headers
from cylinder_trace.catering.lookup import get_managed_catering_user, get_visible_catering_user
from cylinder_trace.catering.review import (
    count_catering_users,
    iter_catering_users,
    list_catering_users,
)
from cylinder_trace.catering.rows import row_of
from cylinder_trace.catering.schemas import (
    CateringUserQuerySchema,
    CateringUserSchema,
    ChecklistSchema,
    EquipmentUpdateSchema,
    SummaryQuerySchema,
    SummarySchema,
)
from cylinder_trace.catering.summary import summarise, summary_document
from cylinder_trace.customers.models import Customer
from cylinder_trace.db import get_session
from cylinder_trace.domain.weeks import local_date
from cylinder_trace.web.api import current_principal
from cylinder_trace.web.current import settings

# --- the checklist ----------------------------------------------------------------------


@blp.route("/catering-checklist")
class Checklist(MethodView):
    @blp.access(*READERS)
    @blp.response(200, ChecklistSchema)
    def get(self) -> Any:
        """The door-to-door checklist in force, and the check interval

        A completed visit gives a result (pass, fail, not_applicable) for every item.
        """
        rules = settings().rules
        return {
            "interval_days": rules.check_interval_days,
            "items": [
                {
                    "code": item.code,
                    "zh": item.zh,
                    "en": item.en,
                    "deadline_days": rules.hazard_deadline_for(item.code),
                }
                for item in rules.catering_checklist
            ],
        }


# --- catering users ---------------------------------------------------------------------


@blp.route("/catering-users")
class CateringUsers(MethodView):
    @blp.access(*READERS)
    @blp.arguments(CateringUserQuerySchema, location="query")
    @blp.response(200, CateringUserSchema(many=True))
    @blp.paginate(max_page_size=500)
    def get(self, filters: dict[str, Any], pagination_parameters: Any) -> Any:
        """List catering users with their check status and hazards

        Status now, in China time: checked_this_period (weekly by default), due (checked
        last period, not yet this one), overdue (a whole period or more missed; see
        missed_periods), never_checked. Filters: status (repeatable), district (the user's
        premises), company_id (the supplier), hazard (none, open, past_deadline), q.
        Default order: last check, never-checked first. Bureaus and regulators see the
        users whose premises are in their jurisdiction; company staff their company's.
        """
        session = get_session()
        principal = current_principal()
        period = status.period_now(settings())
        pagination_parameters.item_count = count_catering_users(session, principal, filters, period)
        return list_catering_users(
            session,
            principal,
            filters,
            period,
            limit=pagination_parameters.page_size,
            offset=pagination_parameters.first_item,
        )


@blp.route("/catering-users/summary")
class CateringSummary(MethodView):
    @blp.access(*READERS)
    @blp.arguments(SummaryQuerySchema, location="query")
    @blp.response(200, SummarySchema)
    def get(self, filters: dict[str, Any]) -> Any:
        """Counts per supplier company and per district

        For the catering users you may see (optionally one district or company): how many
        are checked this period, due, overdue, never checked, the check rate, users with
        open hazards, open hazards, and open hazards past their deadline.
        """
        period = status.period_now(settings())
        return summary_document(summarise(get_session(), current_principal(), filters, period))


def _export_rows(filters: dict[str, Any]) -> Iterable[dict[str, Any]]:
    period = status.period_now(settings())
    return iter_catering_users(get_session(), current_principal(), filters, period)


@blp.route("/catering-users/export.csv")
class CateringExportCsv(MethodView):
    @blp.access(*READERS)
    @blp.arguments(CateringUserQuerySchema, location="query")
    @blp.doc(responses={"200": binary_response("text/csv", "UTF-8 CSV with a BOM")})
    def get(self, filters: dict[str, Any]) -> Any:
        """Export the filtered list as CSV

        Same filters, order and rows as the list (all pages); times in China time.
        """
        body = catering_csv(_export_rows(filters), settings().time_zone)
        return Response(body, mimetype=CSV, headers=download_headers("csv"))


@blp.route("/catering-users/export.xlsx")
class CateringExportXlsx(MethodView):
    @blp.access(*READERS)
    @blp.arguments(CateringUserQuerySchema, location="query")
    @blp.doc(responses={"200": binary_response(XLSX, "An Excel workbook")})
    def get(self, filters: dict[str, Any]) -> Any:
        """Export the filtered list as an Excel workbook (XLSX)

        Same filters, order and rows as the list (all pages); times in China time.
        """
        body = catering_xlsx(_export_rows(filters), settings().time_zone)
        return Response(body, mimetype=XLSX, headers=download_headers("xlsx"))


def _user_row(customer: Customer) -> dict[str, Any]:
    return row_of(get_session(), customer, status.period_now(settings()))


@blp.route("/catering-users/<int:customer_id>")
class CateringUserById(MethodView):
    @blp.access(*READERS)
    @blp.response(200, CateringUserSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, customer_id: int) -> Any:
        """Read one catering user, with its status and safety equipment"""
        customer = get_visible_catering_user(get_session(), current_principal(), customer_id)
        return _user_row(customer)

    @blp.access(*EDITORS)
    @blp.arguments(EquipmentUpdateSchema)
    @blp.response(200, CateringUserSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, changes: dict[str, Any], customer_id: int) -> Any:
        """Record the user's safety equipment

        Gas leak alarm (installed, working, last tested), gas-dedicated metal hose,
        self-closing valve, where cylinders are kept, cylinders and kilograms on site.
        Name, address, district and premises are changed through /customers.
        """
        session = get_session()
        customer = get_managed_catering_user(session, current_principal(), customer_id)
        today = local_date(status.clock(), settings().time_zone)
        update_equipment(session, customer, changes, today=today)
        return _user_row(customer)
