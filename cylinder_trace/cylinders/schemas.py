"""Request and response shapes for the cylinder registry."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.domain.lifecycle import CylinderState
from cylinder_trace.qr_labels.signing import CODE_PATTERN
from cylinder_trace.web.bounds import InputSchema, numeric_range
from cylinder_trace.web.listing import CursorQuerySchema

CODE = validate.Regexp(rf"^(?i:{CODE_PATTERN})$", error="6 to 32 letters, digits or '-'")


class CylinderCreateSchema(InputSchema):
    code = ma.fields.String(required=True, validate=CODE, metadata={"example": "CQDZ-000123"})
    model = ma.fields.String(
        required=True, validate=validate.Length(min=1, max=16), metadata={"example": "YSP35.5"}
    )
    manufacturer = ma.fields.String(required=True, validate=validate.Length(min=1, max=100))
    serial_no = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    manufactured_on = ma.fields.Date(required=True)
    tare_kg = ma.fields.Decimal(
        required=True,
        places=2,
        as_string=True,
        validate=numeric_range(Cylinder.tare_kg, min=0, min_inclusive=False),
    )
    owner_company_id = ma.fields.Integer(
        load_default=None, metadata={"description": "System admins only; others: own company"}
    )
    filling_station_id = ma.fields.Integer(
        load_default=None, metadata={"description": "Default: the operator's own station"}
    )
    last_inspected_on = ma.fields.Date(load_default=None, allow_none=True)
    inspection_due_override = ma.fields.Date(load_default=None, allow_none=True)
    scrap_date_override = ma.fields.Date(load_default=None, allow_none=True)


class CylinderQuerySchema(CursorQuerySchema):
    owner_company_id = ma.fields.Integer()
    filling_station_id = ma.fields.Integer()
    state = ma.fields.Enum(CylinderState, by_value=True)
    model = ma.fields.String()
    inspection_due_before = ma.fields.Date(metadata={"description": "Due strictly before"})
    scrap_date_before = ma.fields.Date(metadata={"description": "Scrap date strictly before"})
    code_from = ma.fields.String(validate=CODE, metadata={"description": "Codes from (inclusive)"})
    code_to = ma.fields.String(validate=CODE, metadata={"description": "Codes to (inclusive)"})


class CylinderSchema(ma.Schema):
    code = ma.fields.String()
    model = ma.fields.String()
    manufacturer = ma.fields.String()
    serial_no = ma.fields.String()
    manufactured_on = ma.fields.Date()
    tare_kg = ma.fields.Decimal(as_string=True)
    owner_company_id = ma.fields.Integer()
    owner_name = ma.fields.Function(lambda c: c.owner_company.name)
    filling_station_id = ma.fields.Integer()
    filling_station_name = ma.fields.Function(lambda c: c.filling_station.name)
    last_inspected_on = ma.fields.Date(allow_none=True)
    next_inspection_due = ma.fields.Date()
    scrap_date = ma.fields.Date()
    state = ma.fields.Enum(CylinderState, by_value=True)
    stopped = ma.fields.Boolean()
    lost = ma.fields.Boolean()
    overfilled = ma.fields.Boolean()
    underfilled = ma.fields.Boolean()
    location_id = ma.fields.Integer(allow_none=True)
    holder_customer_id = ma.fields.Integer(allow_none=True)
    held_since = ma.fields.AwareDateTime(allow_none=True)
    last_scan_at = ma.fields.AwareDateTime(allow_none=True)
    registered_at = ma.fields.AwareDateTime()
    scrapped_at = ma.fields.AwareDateTime(allow_none=True)
    scrap_reason = ma.fields.String(allow_none=True)
    label_payload = ma.fields.Method("_payload", metadata={"description": "The QR payload"})

    def _payload(self, cylinder: object) -> str:
        from cylinder_trace.web.current import registry

        return registry().label_signer.sign(cylinder.code)  # type: ignore[attr-defined]


class InspectionCreateSchema(InputSchema):
    inspected_on = ma.fields.Date(required=True)
    passed = ma.fields.Boolean(required=True)
    inspection_body = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    certificate_no = ma.fields.String(load_default=None, validate=validate.Length(max=64))
    notes = ma.fields.String(load_default=None, validate=validate.Length(max=500))
    next_due_override = ma.fields.Date(load_default=None, allow_none=True)


class InspectionSchema(ma.Schema):
    id = ma.fields.Integer()
    inspected_on = ma.fields.Date()
    passed = ma.fields.Boolean()
    inspection_body = ma.fields.String()
    certificate_no = ma.fields.String(allow_none=True)
    notes = ma.fields.String(allow_none=True)
    recorded_at = ma.fields.AwareDateTime()
    cylinder = ma.fields.Nested(CylinderSchema)


class ScrapSchema(InputSchema):
    reason = ma.fields.String(required=True, validate=validate.Length(min=2, max=300))


class ImportRowErrorSchema(ma.Schema):
    row = ma.fields.Integer()
    code = ma.fields.String()
    message = ma.fields.String()
    cylinder_code = ma.fields.String(allow_none=True)


class ImportReportSchema(ma.Schema):
    rows = ma.fields.Integer()
    created = ma.fields.Integer()
    unchanged = ma.fields.Integer()
    rejected = ma.fields.Integer()
    errors = ma.fields.List(ma.fields.Nested(ImportRowErrorSchema))


class ImportQuerySchema(InputSchema):
    filling_station_id = ma.fields.Integer(load_default=None)
    owner_company_id = ma.fields.Integer(load_default=None)


class ImportFileSchema(InputSchema):
    file = ma.fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class VerifyQuerySchema(InputSchema):
    payload = ma.fields.String(required=True, validate=validate.Length(min=1, max=300))


class VerifiedLabelSchema(ma.Schema):
    code = ma.fields.String()
    model = ma.fields.String()
    owner_name = ma.fields.String()
    filling_station_name = ma.fields.String()
    state = ma.fields.String()
    next_inspection_due = ma.fields.Date()
    inspection_overdue = ma.fields.Boolean()
    scrap_date = ma.fields.Date()
