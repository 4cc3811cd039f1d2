"""/api/v1/scans (GET) and /scans/{id}/verdict-changes: searching the scan record."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from cylinder_trace.cylinders.api import READERS
from cylinder_trace.db import get_session
from cylinder_trace.domain.lifecycle import ScanKind
from cylinder_trace.scans.reading import (
    SCAN_ORDER,
    filter_scans,
    verdict_changes,
    visible_scans,
)
from cylinder_trace.scans.schemas import ScanSchema
from cylinder_trace.web.api import Blueprint, current_principal, paginate_query
from cylinder_trace.web.current import settings
from cylinder_trace.web.listing import CursorQuerySchema

blp = Blueprint(
    "scan_search",
    __name__,
    url_prefix="/scans",
    description="What a station filled on a day; what was refused or flagged in an area.",
)


class ScanQuerySchema(CursorQuerySchema):
    company_id = ma.fields.Integer(
        metadata={"description": "Scans of this company: of its cylinders and by its sites"}
    )
    site_id = ma.fields.Integer()
    kind = ma.fields.Enum(ScanKind, by_value=True)
    day = ma.fields.Date(metadata={"description": "A business day (China time)"})
    result = ma.fields.String(
        validate=ma.validate.OneOf(["accepted", "accepted_with_violation", "rejected"])
    )
    result_code = ma.fields.String(
        validate=ma.validate.Length(max=64),
        metadata={"description": "The code the scan was answered with when it arrived"},
    )
    review_code = ma.fields.String(
        validate=ma.validate.Length(max=64),
        metadata={"description": "The scan's current verdict: the first rule it breaks"},
    )
    needs_review = ma.fields.Boolean(
        metadata={
            "description": "Refused scans, and kept scans the complete history flags (a late "
            "scan can raise or clear a flag)"
        }
    )


class VerdictChangeSchema(ma.Schema):
    scan_id = ma.fields.Integer()
    previous_code = ma.fields.String(allow_none=True)
    new_code = ma.fields.String(allow_none=True)
    changed_at = ma.fields.AwareDateTime()
    caused_by_event_id = ma.fields.UUID(
        metadata={"description": "The late scan whose arrival changed the verdict"}
    )


@blp.route("")
class ScanList(MethodView):
    @blp.access(*READERS)
    @blp.arguments(ScanQuerySchema, location="query")
    @blp.response(200, ScanSchema(many=True))
    @blp.paginate(max_page_size=1000, page_size=100)
    def get(self, filters: dict[str, Any], pagination_parameters: Any) -> Any:
        """Search scans: a station's fills on a day, refused and flagged scans in an area

        Companies see their own; bureaus and regulators the scans at sites in their
        jurisdiction.
        """
        zone = settings().time_zone
        statement = filter_scans(visible_scans(current_principal()), filters, zone)
        return paginate_query(
            get_session(),
            statement,
            pagination_parameters,
            keyset=SCAN_ORDER,
            after=filters.get("after"),
        )


@blp.route("/<bigint:scan_id>/verdict-changes")
class ScanVerdictChanges(MethodView):
    @blp.access(*READERS)
    @blp.response(200, VerdictChangeSchema(many=True))
    def get(self, scan_id: int) -> Any:
        """How a kept scan's verdict changed as late scans re-judged its history

        The scan's first verdict is its ``result_code``; each row is a later change, oldest
        first: a flag raised or cleared, when, and by the arrival of which scan.
        """
        return verdict_changes(get_session(), current_principal(), scan_id)
