"""The catering API's one blueprint (one OpenAPI tag) and the roles its endpoints admit.

Its endpoints are in ``review_api`` (the checklist, the user list, summary, exports, one
user) and ``checks_api`` (visits, their files, hazards); ``api`` puts them together.
"""

from __future__ import annotations

from typing import Any

from cylinder_trace.domain.roles import Role
from cylinder_trace.web.api import Blueprint

blp = Blueprint(
    "catering",
    __name__,
    description="Catering users (餐饮用户): weekly door-to-door checks, hazards, and the "
    "commerce bureau's review.",
)

COMPANY_STAFF = (Role.COMPANY_ADMIN, Role.STATION_OPERATOR, Role.DELIVERY_STAFF)
READERS = (Role.SYSTEM_ADMIN, *COMPANY_STAFF, Role.BUREAU_REVIEWER, Role.REGULATOR)
EDITORS = (Role.SYSTEM_ADMIN, *COMPANY_STAFF)
RECORDERS = COMPANY_STAFF


def binary_response(content_type: str, description: str) -> dict[str, Any]:
    """An OpenAPI response of one binary body (``@blp.doc(responses=...)``)."""
    schema = {"type": "string", "format": "binary"}
    return {"description": description, "content": {content_type: {"schema": schema}}}
