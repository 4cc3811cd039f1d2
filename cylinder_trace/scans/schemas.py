"""Request and response shapes for scans. Shape only: meaning is checked by the service."""

from __future__ import annotations

from typing import Any, ClassVar

import marshmallow as ma
from marshmallow import validate

from cylinder_trace.domain.lifecycle import ScanKind
from cylinder_trace.scans.models import ScanResult
from cylinder_trace.web.bounds import InputSchema

MAX_BATCH = 1000
# What each kind needs besides the common fields; the service checks what the values mean.
REQUIRED_BY_KIND = {
    ScanKind.FILL: ("gross_kg",),
    ScanKind.REWEIGH: ("gross_kg",),
    ScanKind.DISPATCH: ("vehicle_plate",),
    ScanKind.DELIVER: ("buyer",),
    ScanKind.INSPECT: ("inspection_result",),
    ScanKind.SCRAP: ("reason",),
    ScanKind.STOP: ("reason",),
}


class BuyerSchema(InputSchema):
    customer_id = ma.fields.Integer()
    card = ma.fields.String(validate=validate.Length(max=300), metadata={"description": "Card QR"})
    id_number = ma.fields.String(
        validate=validate.Length(max=32), load_only=True, metadata={"description": "Never stored"}
    )

    @ma.validates_schema
    def _one(self, data: dict, **_: object) -> None:
        errors = buyer_errors(data)
        if errors:
            raise ma.ValidationError(errors)


def buyer_errors(data: dict[str, Any]) -> list[str]:
    """What ``BuyerSchema`` refuses of a whole buyer (also the fast reader's rule)."""
    if len([key for key in ("customer_id", "card", "id_number") if data.get(key)]) != 1:
        return ["Name the buyer by exactly one of customer_id, card, id_number."]
    return []


class ScanCreateSchema(InputSchema):
    class Meta:
        # For the OpenAPI document (web/spec.py): the first rule of _shape below.
        openapi: ClassVar[dict[str, Any]] = {
            "oneOf": [{"required": ["code"]}, {"required": ["qr"]}]
        }

    event_id = ma.fields.UUID(required=True, metadata={"description": "Made by the scanner"})
    kind = ma.fields.Enum(ScanKind, by_value=True, required=True)
    code = ma.fields.String(validate=validate.Length(min=1, max=64))
    qr = ma.fields.String(
        validate=validate.Length(min=1, max=300), metadata={"description": "Raw QR payload"}
    )
    occurred_at = ma.fields.AwareDateTime(required=True, metadata={"description": "Device clock"})
    site_id = ma.fields.Integer(metadata={"description": "Default: the caller's organisation"})
    latitude = ma.fields.Decimal(places=6, validate=validate.Range(min=-90, max=90))
    longitude = ma.fields.Decimal(places=6, validate=validate.Range(min=-180, max=180))
    gross_kg = ma.fields.Decimal(places=2, validate=validate.Range(min=0, max=500))
    tare_kg = ma.fields.Decimal(places=2, validate=validate.Range(min=0, max=500))
    pre_fill_check = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Boolean())
    post_fill_check = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Boolean())
    operator = ma.fields.String(validate=validate.Length(max=100))
    vehicle_plate = ma.fields.String(validate=validate.Length(min=2, max=16))
    staff = ma.fields.List(ma.fields.String(validate=validate.Length(max=100)))
    buyer = ma.fields.Nested(BuyerSchema)
    inspection_result = ma.fields.String(validate=validate.OneOf(["pass", "fail"]))
    inspection_body = ma.fields.String(validate=validate.Length(max=200))
    certificate_no = ma.fields.String(validate=validate.Length(max=64))
    reason = ma.fields.String(validate=validate.Length(min=2, max=300))
    note = ma.fields.String(validate=validate.Length(max=300))

    @ma.validates_schema
    def _shape(self, data: dict, **_: object) -> None:
        errors = shape_errors(data)
        if errors:
            raise ma.ValidationError(errors)


def shape_errors(data: dict[str, Any]) -> dict[str, list[str]]:
    """What ``ScanCreateSchema`` refuses of a whole item, by field (also the fast reader's
    rule: ``scans.api.fast_scan_reader``)."""
    if bool(data.get("code")) == bool(data.get("qr")):
        return {"code": ["Give the cylinder by exactly one of code or qr."]}
    kind = data.get("kind")
    missing = [name for name in REQUIRED_BY_KIND.get(kind, ()) if data.get(name) is None]
    return {name: [f"Required for a {kind} scan."] for name in missing}


class ScanBatchSchema(InputSchema):
    scans = ma.fields.List(
        ma.fields.Dict(),
        required=True,
        validate=validate.Length(min=1),
        metadata={
            "description": f"Up to {MAX_BATCH} scans, each as for POST /scans",
            "max_items_checked_by": "the view: batch_too_large",
        },
    )


class ScanSchema(ma.Schema):
    id = ma.fields.Integer()
    event_id = ma.fields.UUID()
    kind = ma.fields.String(attribute="kind.value")
    outcome = ma.fields.Function(lambda s: s.outcome.value if s.outcome else None)
    scanned = ma.fields.String()
    cylinder_code = ma.fields.Function(lambda s: s.chain_key if s.cylinder_id else None)
    occurred_at = ma.fields.AwareDateTime()
    received_at = ma.fields.AwareDateTime()
    actor_user_id = ma.fields.Integer(allow_none=True)
    device_id = ma.fields.Integer(allow_none=True)
    site_id = ma.fields.Integer(allow_none=True)
    customer_id = ma.fields.Integer(allow_none=True)
    data = ma.fields.Dict()
    interactive = ma.fields.Boolean()
    result = ma.fields.Enum(ScanResult, by_value=True)
    result_code = ma.fields.String(allow_none=True)
    result_message = ma.fields.String(allow_none=True)
    review_code = ma.fields.String(allow_none=True)
    seq = ma.fields.Integer()
    record_hash = ma.fields.String()


class ScanAnswerSchema(ma.Schema):
    index = ma.fields.Integer()
    event_id = ma.fields.String(allow_none=True)
    status = ma.fields.String(
        metadata={"enum": ["accepted", "accepted_with_violation", "rejected", "duplicate"]}
    )
    code = ma.fields.String(allow_none=True)
    message = ma.fields.String(allow_none=True)
    original_status = ma.fields.String(allow_none=True)
    scan_id = ma.fields.Integer(allow_none=True)
    details = ma.fields.Dict(allow_none=True)


class BatchResultSchema(ma.Schema):
    results = ma.fields.List(ma.fields.Nested(ScanAnswerSchema))
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())


class FillCheckSchema(InputSchema):
    class Meta:
        # For the OpenAPI document (web/spec.py): what _one below checks.
        openapi: ClassVar[dict[str, Any]] = {
            "oneOf": [{"required": ["code"]}, {"required": ["qr"]}]
        }

    code = ma.fields.String(validate=validate.Length(min=1, max=64))
    qr = ma.fields.String(validate=validate.Length(min=1, max=300))
    site_id = ma.fields.Integer()

    @ma.validates_schema
    def _one(self, data: dict, **_: object) -> None:
        if bool(data.get("code")) == bool(data.get("qr")):
            raise ma.ValidationError("Give the cylinder by exactly one of code or qr.", "code")


class FillCheckResultSchema(ma.Schema):
    allowed = ma.fields.Boolean()
    code = ma.fields.String(allow_none=True)
    reasons = ma.fields.List(ma.fields.Dict())
    cylinder = ma.fields.Dict(allow_none=True)
