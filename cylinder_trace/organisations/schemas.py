"""Request and response shapes for organisations. Shape only; meaning is the services' job."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cylinder_trace.domain.roles import OrganisationKind
from cylinder_trace.web.bounds import InputSchema

# [0-9], not \d: Python's \d takes any script's digits, which are no division code.
DIVISION_CODE_PATTERN = r"^[0-9]{6}$"
DIVISION_CODE = validate.Regexp(
    DIVISION_CODE_PATTERN, error="must be a 6-digit administrative division code"
)


def division_name_field() -> ma.fields.Function:
    """The name of a record's ``division`` (organisations, customers), null if not loaded."""
    return ma.fields.Function(
        lambda record: record.division.name if record.division is not None else None,
        allow_none=True,
        metadata={"description": "The division's name (GB/T 2260); null if not loaded"},
    )


class OrganisationCreateSchema(InputSchema):
    kind = ma.fields.Enum(OrganisationKind, required=True, by_value=True)
    name = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"blank_checked_by": "the service: organisation_name_missing"},
    )
    parent_id = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        metadata={"description": "The gas company of a filling station or supply point."},
    )
    division_code = ma.fields.String(
        required=True,
        validate=DIVISION_CODE,
        metadata={
            "description": "Where it is; for a bureau or regulator, the jurisdiction.",
            "example": "500111",
        },
    )
    address = ma.fields.String(load_default=None, validate=validate.Length(max=300))
    licence_no = ma.fields.String(load_default=None, validate=validate.Length(max=64))
    contact_phone = ma.fields.String(load_default=None, validate=validate.Length(max=32))


class OrganisationUpdateSchema(InputSchema):
    name = ma.fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"blank_checked_by": "the service: organisation_name_missing"},
    )
    address = ma.fields.String(allow_none=True, validate=validate.Length(max=300))
    licence_no = ma.fields.String(allow_none=True, validate=validate.Length(max=64))
    contact_phone = ma.fields.String(allow_none=True, validate=validate.Length(max=32))
    active = ma.fields.Boolean()


class OrganisationQuerySchema(InputSchema):
    kind = ma.fields.Enum(OrganisationKind, by_value=True)
    parent_id = ma.fields.Integer()
    division_code = ma.fields.String(validate=DIVISION_CODE)
    active = ma.fields.Boolean()
    q = ma.fields.String(
        validate=validate.Length(min=1, max=100), metadata={"description": "Name contains"}
    )


class OrganisationSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    kind = ma.fields.Enum(OrganisationKind, by_value=True)
    name = ma.fields.String()
    parent_id = ma.fields.Integer(allow_none=True)
    company_id = ma.fields.Integer(allow_none=True)
    division_code = ma.fields.String(metadata={"pattern": DIVISION_CODE_PATTERN})
    division_name = division_name_field()
    address = ma.fields.String(allow_none=True)
    licence_no = ma.fields.String(allow_none=True)
    contact_phone = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()
