"""/api/v1/catering-users, /catering-hazards, /catering-checklist: weekly checks and review.

Gas-company staff record visits to their catering users; commerce bureaus and regulators
read the users whose premises lie in their jurisdiction, with their check status, hazards,
summaries and exports; system admins read everything. Status is computed for the present
instant in the business time zone (China), whatever the server's zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import marshmallow as ma
from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import abort

from cylinder_trace.catering import services
from cylinder_trace.catering.export import catering_csv, catering_xlsx
from cylinder_trace.catering.files import Upload
from cylinder_trace.catering.models import CateringCheck
from cylinder_trace.catering.schemas import (
    CateringUserQuerySchema,
    CateringUserSchema,
    CheckCreateSchema,
    ChecklistSchema,
    CheckSchema,
    EquipmentUpdateSchema,
    HazardQuerySchema,
    HazardSchema,
    SummaryQuerySchema,
    SummarySchema,
    UserHazardQuerySchema,
)
from cylinder_trace.catering.settings import catering_settings
from cylinder_trace.catering.status import Period, current_period
from cylinder_trace.config import Settings
from cylinder_trace.customers.models import Customer
from cylinder_trace.db import get_session, utcnow
from cylinder_trace.domain.roles import Role
from cylinder_trace.domain.weeks import business_week, local_date
from cylinder_trace.web.api import API_PREFIX, Blueprint, current_principal, paginate_query
from cylinder_trace.web.edge import load_json

blp = Blueprint(
    "catering",
    __name__,
    description="Catering users (餐饮用户): weekly door-to-door checks, hazards, and the "
    "commerce bureau's review.",
)

COMPANY_STAFF = (Role.COMPANY_ADMIN, Role.STATION_OPERATOR, Role.DELIVERY_STAFF)
READERS = (Role.SYSTEM_ADMIN, *COMPANY_STAFF, Role.BUREAU_REVIEWER, Role.REGULATOR)
EDITORS = (Role.SYSTEM_ADMIN, *COMPANY_STAFF)
RECORDERS = COMPANY_STAFF
# Premises photos, signatures and personal names must not stay in shared caches.
NO_STORE = {"Cache-Control": "no-store"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

CHECK_REQUEST_BODY = {
    "required": True,
    "description": "JSON, or multipart/form-data with the same JSON in the field `data` and "
    "the files `photos` (repeatable; JPEG or PNG) and `signature` (PNG).",
    "content": {
        "application/json": {"schema": CheckCreateSchema},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["data"],
                "properties": {
                    "data": {"type": "string", "description": "The check, as JSON"},
                    "photos": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    "signature": {"type": "string", "format": "binary"},
                },
            }
        },
    },
}


def clock() -> datetime:
    """The present instant (tests replace it)."""
    return utcnow()


def settings() -> Settings:
    return current_app.config["CT_SETTINGS"]


def period_now() -> Period:
    return current_period(clock(), settings().rules.check_interval_days, settings().time_zone)


def _binary(content_type: str, description: str) -> dict[str, Any]:
    schema = {"type": "string", "format": "binary"}
    return {"description": description, "content": {content_type: {"schema": schema}}}


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
        period = period_now()
        pagination_parameters.item_count = services.count_catering_users(
            session, principal, filters, period
        )
        return services.list_catering_users(
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
        period = period_now()
        summary = services.summarise(get_session(), current_principal(), filters, period)
        return services.summary_document(summary)


def _export_rows(filters: dict[str, Any]) -> Iterable[dict[str, Any]]:
    return services.iter_catering_users(get_session(), current_principal(), filters, period_now())


@blp.route("/catering-users/export.csv")
class CateringExportCsv(MethodView):
    @blp.access(*READERS)
    @blp.arguments(CateringUserQuerySchema, location="query")
    @blp.doc(responses={"200": _binary("text/csv", "UTF-8 CSV with a BOM")})
    def get(self, filters: dict[str, Any]) -> Any:
        """Export the filtered list as CSV

        Same filters, order and rows as the list (all pages); times in China time.
        """
        body = catering_csv(_export_rows(filters), settings().time_zone)
        return Response(
            body,
            mimetype="text/csv",
            headers={
                **NO_STORE,
                "Content-Disposition": 'attachment; filename="catering-users.csv"',
            },
        )


@blp.route("/catering-users/export.xlsx")
class CateringExportXlsx(MethodView):
    @blp.access(*READERS)
    @blp.arguments(CateringUserQuerySchema, location="query")
    @blp.doc(responses={"200": _binary(XLSX, "An Excel workbook")})
    def get(self, filters: dict[str, Any]) -> Any:
        """Export the filtered list as an Excel workbook (XLSX)

        Same filters, order and rows as the list (all pages); times in China time.
        """
        body = catering_xlsx(_export_rows(filters), settings().time_zone)
        return Response(
            body,
            mimetype=XLSX,
            headers={
                **NO_STORE,
                "Content-Disposition": 'attachment; filename="catering-users.xlsx"',
            },
        )


def _user_row(customer: Customer) -> dict[str, Any]:
    return services.row_of(get_session(), customer, period_now())


@blp.route("/catering-users/<int:customer_id>")
class CateringUserById(MethodView):
    @blp.access(*READERS)
    @blp.response(200, CateringUserSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, customer_id: int) -> Any:
        """Read one catering user, with its status and safety equipment"""
        customer = services.get_visible_catering_user(
            get_session(), current_principal(), customer_id
        )
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
        customer = services.get_managed_catering_user(session, current_principal(), customer_id)
        services.update_equipment(
            session, customer, changes, today=local_date(clock(), settings().time_zone)
        )
        return _user_row(customer)


# --- checks -----------------------------------------------------------------------------


def _read_upload(storage: Any, limit: int) -> Upload | None:
    if storage is None:
        return None
    data = storage.stream.read(limit + 1)
    if not data and not storage.filename:
        return None  # an empty file field, as browsers send it
    return Upload(data=data, filename=storage.filename)


def _check_request() -> tuple[dict[str, Any], list[Upload], Upload | None]:
    """The check from a JSON body, or from multipart/form-data with its files."""
    config = catering_settings()
    photos: list[Upload] = []
    signature = None
    if request.mimetype == "multipart/form-data":
        raw = request.form.get("data", "{}")
        try:
            # Checked as the edge checks a JSON body: depth, NUL, lone surrogates.
            payload = load_json(
                raw, max_depth=settings().input_limits.max_json_depth, location="form"
            )
        except ValueError:
            abort(422, messages={"form": {"data": ["Not valid JSON."]}})
        for storage in request.files.getlist("photos"):
            upload = _read_upload(storage, config.photo_max_bytes)
            if upload is not None:
                photos.append(upload)
        signature = _read_upload(request.files.get("signature"), config.signature_max_bytes)
        location = "form"
    elif request.is_json:
        payload = request.get_json(silent=True)
        if payload is None:
            abort(400, message="The body is not valid JSON.")
        location = "json"
    else:
        abort(415, message="Send the check as application/json or multipart/form-data.")
    if not isinstance(payload, dict):
        abort(422, messages={location: {"_schema": ["The check is a JSON object."]}})
    try:
        data = CheckCreateSchema().load(payload)
    except ma.ValidationError as error:
        abort(422, messages={location: error.messages})
    return data, photos, signature


def _check_documents(customer: Customer, checks: list[CateringCheck]) -> list[dict[str, Any]]:
    tz = settings().time_zone
    changed = services.hazards_changed_by(get_session(), checks)
    base = f"{API_PREFIX}/catering-users/{customer.id}/checks"
    return [
        {
            "id": check.id,
            "customer_id": check.customer_id,
            "outcome": check.outcome,
            "counted": check.counted,
            "checked_at": check.checked_at,
            "week": str(business_week(check.checked_at, tz)),
            "recorded_at": check.recorded_at,
            "checked_by_id": check.checked_by_id,
            "checked_by_name": check.checked_by.full_name,
            "device_id": check.device_id,
            "signer_name": check.signer_name,
            "notes": check.notes,
            "items": check.items,
            "files": [
                {
                    "id": stored.id,
                    "kind": stored.kind,
                    "position": stored.position,
                    "content_type": stored.content_type,
                    "size_bytes": stored.size_bytes,
                    "sha256": stored.sha256,
                    "url": f"{base}/{check.id}/files/{stored.id}",
                }
                for stored in check.files
            ],
            "hazards_opened": changed[check.id][0],
            "hazards_closed": changed[check.id][1],
        }
        for check in checks
    ]


@blp.route("/catering-users/<int:customer_id>/checks")
class CateringChecks(MethodView):
    @blp.access(*READERS)
    @blp.response(200, CheckSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.paginate()
    def get(self, customer_id: int, pagination_parameters: Any) -> Any:
        """A catering user's visits, newest first (nobody-home visits included)"""
        session = get_session()
        customer = services.get_visible_catering_user(session, current_principal(), customer_id)
        checks = paginate_query(session, services.checks_of(customer), pagination_parameters)
        return _check_documents(customer, checks)

    @blp.access(*RECORDERS)
    @blp.doc(requestBody=CHECK_REQUEST_BODY)
    @blp.response(201, CheckSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, customer_id: int) -> Any:
        """Record a door-to-door visit

        By the gas company's own staff: who (the caller), when (checked_at with its
        offset, default now; not in the future), the result of every checklist item,
        optional photos (JPEG/PNG, recognised by content, 5 MB and 6 at most by default)
        and the signature (PNG) and name of the person met. A failed item opens a hazard
        with a deadline (given, or from the rules); a passed item closes the open hazard
        of that item found by an earlier visit. outcome=nobody_home records the attempt
        without items: it does not count as the period's check.
        """
        session = get_session()
        principal = current_principal()
        data, photos, signature = _check_request()
        customer = services.get_checkable_catering_user(session, principal, customer_id)
        assert principal.user is not None
        check = services.record_check(
            session,
            customer,
            checked_by=principal.user,
            device=principal.device,
            outcome=data["outcome"],
            checked_at=data["checked_at"],
            items=[services.ItemInput(**item) for item in data["items"]],
            signer_name=data["signer_name"],
            notes=data["notes"],
            photos=photos,
            signature=signature,
            rules=settings().rules,
            settings=catering_settings(),
            now=clock(),
            tz=settings().time_zone,
        )
        return _check_documents(customer, [check])[0]


@blp.route("/catering-users/<int:customer_id>/checks/<int:check_id>")
class CateringCheckById(MethodView):
    @blp.access(*READERS)
    @blp.response(200, CheckSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, customer_id: int, check_id: int) -> Any:
        """Read one visit, with its items, files and the hazards it opened and closed"""
        session = get_session()
        customer = services.get_visible_catering_user(session, current_principal(), customer_id)
        return _check_documents(customer, [services.get_check(session, customer, check_id)])[0]


@blp.route("/catering-users/<int:customer_id>/checks/<int:check_id>/files/<int:file_id>")
class CateringCheckFile(MethodView):
    @blp.access(*READERS)
    @blp.doc(
        responses={
            "200": {
                "description": "The photo or signature",
                "content": {
                    kind: {"schema": {"type": "string", "format": "binary"}}
                    for kind in ("image/jpeg", "image/png")
                },
            }
        }
    )
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, customer_id: int, check_id: int, file_id: int) -> Any:
        """A photo or the signature of a visit"""
        session = get_session()
        customer = services.get_visible_catering_user(session, current_principal(), customer_id)
        check = services.get_check(session, customer, check_id)
        stored = services.get_check_file(check, file_id)
        data = catering_settings().store.read(stored.sha256)
        extension = "jpg" if stored.content_type.value == "image/jpeg" else "png"
        name = f"check-{check.id}-{stored.kind.value}-{stored.position}.{extension}"
        return Response(
            data,
            mimetype=stored.content_type.value,
            headers={
                **NO_STORE,
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": f'inline; filename="{name}"',
            },
        )


# --- hazards ----------------------------------------------------------------------------


def _hazard_page(filters: dict[str, Any], pagination_parameters: Any) -> list[dict[str, Any]]:
    session = get_session()
    period = period_now()
    statement = services.hazard_select(current_principal(), filters, period)
    hazards = paginate_query(session, statement, pagination_parameters)
    return [services.hazard_row(hazard, settings().rules, period) for hazard in hazards]


@blp.route("/catering-users/<int:customer_id>/hazards")
class CateringUserHazards(MethodView):
    @blp.access(*READERS)
    @blp.arguments(UserHazardQuerySchema, location="query")
    @blp.response(200, HazardSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.paginate()
    def get(self, filters: dict[str, Any], customer_id: int, pagination_parameters: Any) -> Any:
        """A catering user's hazards, newest first (state: open, past_deadline, closed)"""
        services.get_visible_catering_user(get_session(), current_principal(), customer_id)
        return _hazard_page({**filters, "customer_id": customer_id}, pagination_parameters)


@blp.route("/catering-hazards")
class CateringHazards(MethodView):
    @blp.access(*READERS)
    @blp.arguments(HazardQuerySchema, location="query")
    @blp.response(200, HazardSchema(many=True))
    @blp.paginate()
    def get(self, filters: dict[str, Any], pagination_parameters: Any) -> Any:
        """Hazards of the catering users you may see, newest first

        Filters: state (open, past_deadline, closed), district, company_id, item_code.
        """
        return _hazard_page(filters, pagination_parameters)
