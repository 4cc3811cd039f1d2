"""What the catering user list can be filtered and sorted by, and its equipment fields.

Shared by the request schemas (which accept these names) and the services (which turn
them into SQL), so that neither has to import the other.
"""

from __future__ import annotations

from typing import Any

from cylinder_trace.customers.models import Customer


class HazardState:
    """The list's ``hazard`` filter: users without, with, or with overdue open hazards."""

    NONE = "none"
    OPEN = "open"
    PAST_DEADLINE = "past_deadline"
    ALL = (NONE, OPEN, PAST_DEADLINE)


# A catering user's safety equipment: what PATCH changes, and what every row shows.
EQUIPMENT_FIELDS = (
    "leak_alarm_installed",
    "leak_alarm_working",
    "leak_alarm_tested_on",
    "hose_metal",
    "self_closing_valve",
    "cylinder_storage",
    "cylinders_on_site",
    "kg_on_site",
)

SORTS: dict[str, tuple[Any, bool]] = {
    # name -> (column, descending)
    "last_check_at": (Customer.last_check_at, False),
    "-last_check_at": (Customer.last_check_at, True),
    "name": (Customer.name, False),
    "-name": (Customer.name, True),
    "division_code": (Customer.division_code, False),
    "-division_code": (Customer.division_code, True),
    "company_id": (Customer.company_id, False),
    "-company_id": (Customer.company_id, True),
    "open_hazards": (Customer.open_hazard_count, False),
    "-open_hazards": (Customer.open_hazard_count, True),
    "next_hazard_deadline": (Customer.next_hazard_deadline, False),
    "id": (Customer.id, False),
    "-id": (Customer.id, True),
}
DEFAULT_SORT = "last_check_at"
