"""Request and response shapes for devices."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from cylinder_trace.domain.roles import DeviceKind
from cylinder_trace.web.bounds import InputSchema


class DeviceCreateSchema(InputSchema):
    organisation_id = ma.fields.Integer(required=True)
    serial_no = ma.fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[A-Za-z0-9][A-Za-z0-9._:-]{1,63}$", error="2 to 64 letters, digits or . _ : -"
        ),
    )
    kind = ma.fields.Enum(DeviceKind, required=True, by_value=True)
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=100))


class DeviceUpdateSchema(InputSchema):
    name = ma.fields.String(validate=validate.Length(min=1, max=100))
    active = ma.fields.Boolean()


class DeviceQuerySchema(InputSchema):
    organisation_id = ma.fields.Integer()
    kind = ma.fields.Enum(DeviceKind, by_value=True)
    active = ma.fields.Boolean()


class DeviceSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    organisation_id = ma.fields.Integer()
    serial_no = ma.fields.String()
    kind = ma.fields.Enum(DeviceKind, by_value=True)
    name = ma.fields.String()
    active = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()
