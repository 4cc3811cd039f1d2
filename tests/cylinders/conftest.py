from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.cylinders.services import CylinderInput, register_cylinder
from cylinder_trace.domain.rules import RuleSettings
from tests.world import World


@pytest.fixture
def rules(app: Flask) -> RuleSettings:
    return app.config["CT_SETTINGS"].rules


def cylinder_json(code: str = "CQDZ-000001", **overrides: Any) -> dict[str, Any]:
    body = {
        "code": code,
        "model": "YSP35.5",
        "manufacturer": "重庆钢瓶厂",
        "serial_no": f"SN-{code}",
        "manufactured_on": "2024-03-15",
        "tare_kg": "16.40",
    }
    body.update(overrides)
    return body


@pytest.fixture
def make_cylinder(db_session: Session, world: World, rules: RuleSettings):  # type: ignore[no-untyped-def]
    """Register a cylinder of company A (or B) directly through the service."""

    def make(code: str, company: str = "a", today: date | None = None, **fields: Any) -> Cylinder:
        values: dict[str, Any] = {
            "code": code,
            "model": "YSP35.5",
            "manufacturer": "重庆钢瓶厂",
            "serial_no": f"SN-{code}",
            "manufactured_on": date(2024, 3, 15),
            "tare_kg": Decimal("16.40"),
        }
        values.update(fields)
        return register_cylinder(
            db_session,
            CylinderInput(**values),
            owner=world.orgs[company],
            station=world.orgs[f"{company}_station"],
            rules=rules,
            today=today or date.today(),
        )

    return make
