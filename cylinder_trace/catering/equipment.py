"""A catering user's safety equipment: alarm, hose, valve, where cylinders are kept.

Functions flush; the caller commits.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from cylinder_trace.catering.checks import CheckInvalid, problem
from cylinder_trace.catering.constants import EQUIPMENT_FIELDS
from cylinder_trace.customers.models import Customer, CylinderStorage


def update_equipment(
    session: Session, customer: Customer, changes: dict[str, Any], *, today: date
) -> Customer:
    """Record the catering user's safety equipment (any subset of EQUIPMENT_FIELDS).

    An alarm that works, or was tested, must be installed; a test date cannot be in the
    future. Fields left out keep their value; null means "not known".
    """
    merged = {name: getattr(customer, name) for name in EQUIPMENT_FIELDS}
    merged.update({k: v for k, v in changes.items() if k in EQUIPMENT_FIELDS})
    problems = []
    if merged["leak_alarm_installed"] is not True and (
        merged["leak_alarm_working"] is True or merged["leak_alarm_tested_on"] is not None
    ):
        problems.append(
            problem(
                "leak_alarm_installed",
                "leak_alarm_not_installed",
                "An alarm that works or was tested must be recorded as installed.",
            )
        )
    tested = merged["leak_alarm_tested_on"]
    if tested is not None and tested > today:
        problems.append(
            problem("leak_alarm_tested_on", "date_in_future", "The test date is in the future.")
        )
    if problems:
        raise CheckInvalid(problems)
    for name in EQUIPMENT_FIELDS:
        if name in changes:
            value = changes[name]
            if name == "cylinder_storage" and value is not None:
                value = CylinderStorage(value)
            if name == "kg_on_site" and value is not None:
                value = Decimal(value)
            setattr(customer, name, value)
    session.flush()
    return customer
