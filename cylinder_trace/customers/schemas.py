"""Request and response shapes for customers. Shape only; meaning is the services' job.

No response schema has a field for the plain ID number except the reveal result: every
other response shows ``id_number_masked``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import marshmallow as ma
from marshmallow import validate

from cylinder_trace.customers.models import CustomerKind, PremisesType
from cylinder_trace.customers.validation import messages_of
from cylinder_trace.organisations.schemas import DIVISION_CODE_PATTERN, division_name_field
from cylinder_trace.web.bounds import InputSchema
from cylinder_trace.web.listing import CursorQuerySchema

ID_NUMBER_DOC = (
    "Resident ID number (GB 11643): 18 characters, the last a digit or X (x accepted). "
    "For a business, its responsible person's. Write-only: responses show it masked."
)
_NOT_IN_URL = " / ".join(messages_of("id_number_not_in_url"))


class _PremisesFields(InputSchema):
    is_catering = ma.fields.Boolean(metadata={"description": "A catering user (餐饮用户)."})
    premises_type = ma.fields.Enum(PremisesType, by_value=True)
    premises_floor = ma.fields.Integer(
        allow_none=True,
        validate=validate.Range(min=-10, max=200),
        metadata={"description": "Floor where cylinders are used: 1 ground, -1 first basement."},
    )
    has_outdoor_cylinder_area = ma.fields.Boolean(
        metadata={"description": "A place outside the building for cylinders (YSP118 only there)."}
    )
    has_cylinder_room = ma.fields.Boolean(metadata={"description": "A dedicated cylinder room."})


class CustomerCreateSchema(_PremisesFields):
    class Meta:
        # For the OpenAPI document (web/spec.py): a business names its credit code and
        # responsible person (validation.check_registration; a person may not).
        openapi: ClassVar[dict[str, Any]] = {
            "oneOf": [
                {"properties": {"kind": {"type": "string", "enum": ["person"]}}},
                {
                    "properties": {
                        "kind": {"type": "string", "enum": ["business"]},
                        "credit_code": {"type": "string", "minLength": 1},
                        "responsible_person": {"type": "string", "minLength": 1},
                    },
                    "required": ["credit_code", "responsible_person"],
                },
            ]
        }

    company_id = ma.fields.Integer(
        metadata={"description": "The supplying gas company; system admins only, and required."}
    )
    kind = ma.fields.Enum(CustomerKind, required=True, by_value=True)
    name = ma.fields.String(required=True, validate=validate.Length(max=200))
    id_number = ma.fields.String(
        required=True,
        load_only=True,
        validate=validate.Length(max=32),
        metadata={"description": ID_NUMBER_DOC, "example": "11010519491231002X"},
    )
    credit_code = ma.fields.String(
        load_default=None,
        validate=validate.Length(max=32),
        metadata={"description": "Unified social credit code (GB 32100); businesses only."},
    )
    responsible_person = ma.fields.String(
        load_default=None, validate=validate.Length(max=100), metadata={"description": "Business"}
    )
    phone = ma.fields.String(
        required=True,
        validate=validate.Length(max=32),
        metadata={"description": "Mainland mobile or landline with area code."},
    )
    address = ma.fields.String(required=True, validate=validate.Length(max=300))
    # The pattern is documented, not enforced here: the service checks the code itself and
    # answers division_code_invalid (also for well-formed codes of no real division).
    division_code = ma.fields.String(
        required=True,
        validate=validate.Length(max=16),
        metadata={
            "description": "District (6-digit division code).",
            "example": "500111",
            "pattern": DIVISION_CODE_PATTERN,
        },
    )


class CustomerUpdateSchema(_PremisesFields):
    """Kind, ID number and credit code cannot change: another identity is another customer."""

    name = ma.fields.String(validate=validate.Length(max=200))
    phone = ma.fields.String(validate=validate.Length(max=32))
    address = ma.fields.String(validate=validate.Length(max=300))
    division_code = ma.fields.String(
        validate=validate.Length(max=16), metadata={"pattern": DIVISION_CODE_PATTERN}
    )
    responsible_person = ma.fields.String(validate=validate.Length(max=100))
    active = ma.fields.Boolean()


class CustomerQuerySchema(CursorQuerySchema):
    """The list's filters. ``id_number`` is not one of them and is refused, not ignored: a
    client that believed it filtered would get every customer, and the number would be in
    the URL, so in access logs. The documents leave it out; the list's description says so."""

    kind = ma.fields.Enum(CustomerKind, by_value=True)
    catering = ma.fields.Boolean()
    active = ma.fields.Boolean()
    company_id = ma.fields.Integer()
    district = ma.fields.String(
        validate=validate.Length(max=16),
        metadata={
            "description": "Division code; 500000 covers every district below it.",
            "pattern": DIVISION_CODE_PATTERN,
        },
    )
    q = ma.fields.String(
        validate=validate.Length(min=1, max=100), metadata={"description": "Name contains"}
    )
    credit_code = ma.fields.String(validate=validate.Length(max=32))

    @ma.pre_load
    def _refuse_id_number_in_url(self, data: Any, **_: object) -> Any:
        if "id_number" in data:
            raise ma.ValidationError({"id_number": [_NOT_IN_URL]})
        return data


class CustomerLookupSchema(InputSchema):
    """Find a registered customer by ID number or credit code, sent in the body."""

    class Meta:
        # For the OpenAPI document (web/spec.py): what _one_identifier below checks.
        openapi: ClassVar[dict[str, Any]] = {
            "oneOf": [{"required": ["id_number"]}, {"required": ["credit_code"]}]
        }

    id_number = ma.fields.String(
        load_only=True, validate=validate.Length(max=32), metadata={"description": ID_NUMBER_DOC}
    )
    credit_code = ma.fields.String(validate=validate.Length(max=32))
    active = ma.fields.Boolean()

    @ma.validates_schema
    def _one_identifier(self, data: dict[str, object], **_kwargs: object) -> None:
        if bool(data.get("id_number")) == bool(data.get("credit_code")):
            raise ma.ValidationError("Give exactly one of id_number and credit_code.")


class CustomerSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    company_id = ma.fields.Integer()
    kind = ma.fields.Enum(CustomerKind, by_value=True)
    name = ma.fields.String()
    id_number_masked = ma.fields.String(metadata={"example": "110105********002X"})
    credit_code = ma.fields.String(allow_none=True)
    responsible_person = ma.fields.String(allow_none=True)
    phone = ma.fields.String()
    address = ma.fields.String()
    division_code = ma.fields.String(metadata={"pattern": DIVISION_CODE_PATTERN})
    division_name = division_name_field()
    is_catering = ma.fields.Boolean()
    premises_type = ma.fields.Enum(PremisesType, by_value=True)
    premises_floor = ma.fields.Integer(allow_none=True)
    has_outdoor_cylinder_area = ma.fields.Boolean()
    has_cylinder_room = ma.fields.Boolean()
    active = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()
    created_by_id = ma.fields.Integer(allow_none=True)


class RevealRequestSchema(InputSchema):
    reason = ma.fields.String(
        required=True,
        validate=validate.Length(max=500),
        metadata={"description": "Why the full number is needed; recorded with who and when."},
    )


class RevealResultSchema(ma.Schema):
    customer_id = ma.fields.Integer()
    id_number = ma.fields.String(metadata={"description": "The full ID number."})
    reveal_id = ma.fields.Integer()
    revealed_at = ma.fields.AwareDateTime()


class RevealSchema(ma.Schema):
    id = ma.fields.Integer()
    customer_id = ma.fields.Integer()
    user_id = ma.fields.Integer()
    username = ma.fields.String(attribute="user.username")
    full_name = ma.fields.String(attribute="user.full_name")
    revealed_at = ma.fields.AwareDateTime()
    reason = ma.fields.String()
    request_ip = ma.fields.String(allow_none=True)
