"""/api/v1/divisions: the names behind the district codes."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from cylinder_trace.db import get_session
from cylinder_trace.divisions.services import divisions_under
from cylinder_trace.domain.jurisdiction import DivisionLevel
from cylinder_trace.web.api import Blueprint
from cylinder_trace.web.bounds import InputSchema

blp = Blueprint(
    "divisions",
    __name__,
    url_prefix="/divisions",
    description="Administrative divisions (GB/T 2260): codes and names.",
)


class DivisionQuerySchema(InputSchema):
    under = ma.fields.String(
        validate=ma.validate.Length(max=16),
        metadata={
            "description": "This division and those below it (500000: Chongqing and its "
            "districts and counties)",
            "pattern": r"^[0-9]{6}$",
        },
    )


class DivisionSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    level = ma.fields.Enum(DivisionLevel, by_value=True)


@blp.route("")
class Divisions(MethodView):
    @blp.access(public=True)
    @blp.arguments(DivisionQuerySchema, location="query")
    @blp.response(200, DivisionSchema(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        """The known divisions, by code

        Public reference data. An invalid ``under`` is 422 with the code's problem
        (``division_code_format``, ``division_code_province``, ``division_code_structure``).
        """
        return divisions_under(get_session(), query.get("under"))
