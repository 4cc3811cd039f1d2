"""Request and response shapes for tokens and the caller's identity."""

from __future__ import annotations

from typing import Any, ClassVar

import marshmallow as ma
from marshmallow import validate

from cylinder_trace.devices.schemas import DeviceSchema
from cylinder_trace.organisations.schemas import DIVISION_CODE_PATTERN, OrganisationSchema
from cylinder_trace.users.schemas import UserSchema
from cylinder_trace.web.bounds import InputSchema


class TokenCreateSchema(InputSchema):
    class Meta:
        # For the OpenAPI document (web/spec.py): what _holder below checks. A branch's
        # type without nullable excludes null (OpenAPI 3.0).
        openapi: ClassVar[dict[str, Any]] = {
            "anyOf": [
                {"required": [key], "properties": {key: {"type": "integer"}}}
                for key in ("user_id", "device_id")
            ]
        }

    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=100))
    user_id = ma.fields.Integer(load_default=None, allow_none=True)
    device_id = ma.fields.Integer(load_default=None, allow_none=True)
    expires_at = ma.fields.AwareDateTime(
        load_default=None, allow_none=True, metadata={"future": True}
    )

    @ma.validates_schema
    def _holder(self, data: dict, **_: object) -> None:
        if data.get("user_id") is None and data.get("device_id") is None:
            raise ma.ValidationError("Give user_id, device_id, or both.", "_schema")


class TokenSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    prefix = ma.fields.String(metadata={"description": "The token's first characters"})
    user_id = ma.fields.Integer(allow_none=True)
    device_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    expires_at = ma.fields.AwareDateTime(allow_none=True)
    revoked_at = ma.fields.AwareDateTime(allow_none=True)
    last_used_at = ma.fields.AwareDateTime(allow_none=True)


class IssuedTokenSchema(TokenSchema):
    token = ma.fields.String(
        metadata={"description": "The bearer token. Shown once; only its hash is stored."}
    )


class MeSchema(ma.Schema):
    role = ma.fields.String(allow_none=True)
    user = ma.fields.Nested(UserSchema, allow_none=True)
    device = ma.fields.Nested(DeviceSchema, allow_none=True)
    organisation = ma.fields.Nested(OrganisationSchema)
    company_id = ma.fields.Integer(allow_none=True)
    jurisdiction = ma.fields.String(allow_none=True, metadata={"pattern": DIVISION_CODE_PATTERN})
