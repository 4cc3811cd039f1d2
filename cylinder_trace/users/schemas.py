"""Request and response shapes for users."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cylinder_trace.domain.roles import Role
from cylinder_trace.web.bounds import InputSchema

USERNAME = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$",
    error="3 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit",
)


class UserCreateSchema(InputSchema):
    organisation_id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True, validate=USERNAME)
    full_name = ma.fields.String(required=True, validate=validate.Length(min=1, max=100))
    role = ma.fields.Enum(Role, required=True, by_value=True)
    phone = ma.fields.String(load_default=None, validate=validate.Length(max=32))


class UserUpdateSchema(InputSchema):
    full_name = ma.fields.String(validate=validate.Length(min=1, max=100))
    phone = ma.fields.String(allow_none=True, validate=validate.Length(max=32))
    role = ma.fields.Enum(Role, by_value=True)
    active = ma.fields.Boolean()


class UserQuerySchema(InputSchema):
    organisation_id = ma.fields.Integer()
    role = ma.fields.Enum(Role, by_value=True)
    active = ma.fields.Boolean()


class UserSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    organisation_id = ma.fields.Integer()
    username = ma.fields.String()
    full_name = ma.fields.String()
    role = ma.fields.Enum(Role, by_value=True)
    phone = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()


class SessionsEndedSchema(ma.Schema):
    user_id = ma.fields.Integer()
    ended = ma.fields.Integer(metadata={"description": "Sessions that could still be used"})
