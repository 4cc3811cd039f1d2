"""/api/v1/cylinders/{code}/events and /whereabouts: a cylinder's timeline and where it is."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from cylinder_trace.cylinders.api import READERS
from cylinder_trace.cylinders.services import get_visible_cylinder
from cylinder_trace.db import get_session
from cylinder_trace.scans.reading import cylinder_events, whereabouts_at, whereabouts_now
from cylinder_trace.scans.schemas import ScanSchema
from cylinder_trace.web.api import Blueprint, current_principal, paginate_query
from cylinder_trace.web.bounds import InputSchema
from cylinder_trace.web.current import settings

blp = Blueprint(
    "cylinder_history",
    __name__,
    url_prefix="/cylinders",
    description="A cylinder's timeline, and where it is or was and who holds it.",
)


class EventQuerySchema(InputSchema):
    include_rejected = ma.fields.Boolean(load_default=True)


class WhereaboutsQuerySchema(InputSchema):
    at = ma.fields.AwareDateTime(metadata={"description": "Default: now"})


class WhereaboutsSchema(ma.Schema):
    code = ma.fields.String()
    at = ma.fields.AwareDateTime(allow_none=True)
    state = ma.fields.String(allow_none=True)
    location_id = ma.fields.Integer(allow_none=True)
    location_name = ma.fields.String(allow_none=True)
    holder_customer_id = ma.fields.Integer(allow_none=True)
    held_since = ma.fields.AwareDateTime(allow_none=True)
    last_scan_at = ma.fields.AwareDateTime(allow_none=True)


@blp.route("/<string:code>/events")
class CylinderEvents(MethodView):
    @blp.access(*READERS)
    @blp.arguments(EventQuerySchema, location="query")
    @blp.response(200, ScanSchema(many=True))
    @blp.paginate(max_page_size=1000, page_size=100)
    def get(self, query: dict[str, Any], code: str, pagination_parameters: Any) -> Any:
        """The full timeline of one cylinder, in the order things happened"""
        session = get_session()
        cylinder = get_visible_cylinder(session, current_principal(), code)
        statement = cylinder_events(cylinder, query["include_rejected"])
        return paginate_query(session, statement, pagination_parameters)


@blp.route("/<string:code>/whereabouts")
class CylinderWhereabouts(MethodView):
    @blp.access(*READERS)
    @blp.arguments(WhereaboutsQuerySchema, location="query")
    @blp.response(200, WhereaboutsSchema)
    def get(self, query: dict[str, Any], code: str) -> Any:
        """Where a cylinder is now (or was at a given time) and who holds it"""
        session = get_session()
        cylinder = get_visible_cylinder(session, current_principal(), code)
        if query.get("at") is None:
            return whereabouts_now(session, cylinder)
        config = settings()
        return whereabouts_at(session, cylinder, query["at"], config.rules, config.time_zone)
