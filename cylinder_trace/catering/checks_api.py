"""/api/v1/catering-users/<id>/checks and /catering-hazards: visits and the hazards they find.

Gas-company staff record visits to their catering users (JSON, or multipart with photos
and a signature); everyone who may read a user reads its visits, their files and its
hazards. Week numbers and deadlines are in the configured business time zone.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView
from flask_smorest import abort

from cylinder_trace.catering import status
from cylinder_trace.catering.blueprint_api import READERS, RECORDERS, blp
from cylinder_trace.catering.checks import ItemInput, record_check
from cylinder_trace.catering.export import NO_STORE
from cylinder_trace.catering.files import Upload
from cylinder_trace.catering.history import (
    checks_of,
    get_check,
    get_check_file,
    hazard_select,
    hazards_changed_by,
)
from cylinder_trace.catering.lookup import get_checkable_catering_user, get_visible_catering_user
from cylinder_trace.catering.models import CateringCheck
from cylinder_trace.catering.rows import hazard_row
from cylinder_trace.catering.schemas import (
    CheckCreateSchema,
    CheckSchema,
    HazardQuerySchema,
    HazardSchema,
    UserHazardQuerySchema,
)
from cylinder_trace.customers.models import Customer
from cylinder_trace.db import get_session
from cylinder_trace.domain.weeks import business_week
from cylinder_trace.web.api import API_PREFIX, current_principal, paginate_query
from cylinder_trace.web.current import registry, settings
from cylinder_trace.web.edge import load_json

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
    config = settings().catering
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
    changed = hazards_changed_by(get_session(), checks)
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
        customer = get_visible_catering_user(session, current_principal(), customer_id)
        checks = paginate_query(session, checks_of(customer), pagination_parameters)
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
        customer = get_checkable_catering_user(session, principal, customer_id)
        assert principal.user is not None
        check = record_check(
            session,
            customer,
            checked_by=principal.user,
            device=principal.device,
            outcome=data["outcome"],
            checked_at=data["checked_at"],
            items=[ItemInput(**item) for item in data["items"]],
            signer_name=data["signer_name"],
            notes=data["notes"],
            photos=photos,
            signature=signature,
            rules=settings().rules,
            settings=settings().catering,
            store=registry().file_store,
            now=status.clock(),
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
        customer = get_visible_catering_user(session, current_principal(), customer_id)
        return _check_documents(customer, [get_check(session, customer, check_id)])[0]


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
        customer = get_visible_catering_user(session, current_principal(), customer_id)
        check = get_check(session, customer, check_id)
        stored = get_check_file(check, file_id)
        data = registry().file_store.read(stored.sha256)
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
    period = status.period_now(settings())
    statement = hazard_select(current_principal(), filters, period)
    hazards = paginate_query(session, statement, pagination_parameters)
    return [hazard_row(hazard, settings().rules, period) for hazard in hazards]


@blp.route("/catering-users/<int:customer_id>/hazards")
class CateringUserHazards(MethodView):
    @blp.access(*READERS)
    @blp.arguments(UserHazardQuerySchema, location="query")
    @blp.response(200, HazardSchema(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.paginate()
    def get(self, filters: dict[str, Any], customer_id: int, pagination_parameters: Any) -> Any:
        """A catering user's hazards, newest first (state: open, past_deadline, closed)"""
        get_visible_catering_user(get_session(), current_principal(), customer_id)
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
