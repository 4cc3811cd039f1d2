"""/api/v1/devices"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from cylinder_trace.db import get_session
from cylinder_trace.devices import services
from cylinder_trace.devices.schemas import (
    DeviceCreateSchema,
    DeviceQuerySchema,
    DeviceSchema,
    DeviceUpdateSchema,
)
from cylinder_trace.domain.roles import Role
from cylinder_trace.web.api import Blueprint, current_principal, paginate_query

blp = Blueprint(
    "devices", __name__, url_prefix="/devices", description="Handhelds, scales and terminals."
)

ADMINS = (Role.SYSTEM_ADMIN, Role.COMPANY_ADMIN)


@blp.route("")
class Devices(MethodView):
    @blp.access(*ADMINS)
    @blp.arguments(DeviceQuerySchema, location="query")
    @blp.response(200, DeviceSchema(many=True))
    @blp.paginate()
    def get(self, filters: dict[str, Any], pagination_parameters: Any) -> Any:
        """List your company's devices"""
        statement = services.filter_devices(services.visible_devices(current_principal()), filters)
        return paginate_query(get_session(), statement, pagination_parameters)

    @blp.access(*ADMINS)
    @blp.arguments(DeviceCreateSchema)
    @blp.response(201, DeviceSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data: dict[str, Any]) -> Any:
        """Register a device for your company or one of its sites"""
        return services.register_device_as(get_session(), current_principal(), data)


@blp.route("/<int:device_id>")
class DeviceById(MethodView):
    @blp.access(*ADMINS)
    @blp.response(200, DeviceSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, device_id: int) -> Any:
        """Read one device"""
        return services.get_managed_device(get_session(), current_principal(), device_id)

    @blp.access(*ADMINS)
    @blp.arguments(DeviceUpdateSchema)
    @blp.response(200, DeviceSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def patch(self, changes: dict[str, Any], device_id: int) -> Any:
        """Rename or (de)activate a device"""
        session = get_session()
        device = services.get_managed_device(session, current_principal(), device_id)
        return services.update_device(session, device, changes)
