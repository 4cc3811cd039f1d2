"""May this cylinder be filled here, and is the filled mass right (TSG 23, GB 17267)?

The filling scale asks before it opens (GB/T 38059), so ``fill_refusals`` is a pure
function of what the service knows about the cylinder, the station's company and the
date. Its answer is every reason that applies, in ``REFUSAL_ORDER``, so that the first
code is the most fundamental one and the full list can be recorded with the refusal.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.inspection import (
    is_inspection_overdue,
    is_past_scrap_date,
    next_inspection_due,
    scrap_date,
)
from cylinder_trace.domain.lifecycle import Outcome
from cylinder_trace.domain.rules import CylinderModelSpec, RuleSettings

REFUSAL_ORDER: tuple[str, ...] = (
    "cylinder_unknown",
    "not_own_cylinder",
    "cylinder_scrapped",
    "cylinder_stopped",
    "inspection_overdue",
    "past_scrap_date",
    "label_invalid",
    "pre_fill_check_missing",
    "pre_fill_check_failed",
)
"""Every refusal code, in the order fill_refusals reports them."""


@dataclass(frozen=True, slots=True)
class CylinderFacts:
    """What the service knows about a cylinder when a station asks to fill it.

    ``pre_fill_check_passed`` is None when no pre-fill check was recorded for this fill,
    False when the named operator recorded a defect. ``label_valid`` is the outcome of
    verifying the scanned label against the register.
    """

    owner_company_id: Hashable
    manufactured_on: date
    last_inspected_on: date | None = None
    last_passed_inspection_on: date | None = None
    inspection_due_override: date | None = None
    scrap_date_override: date | None = None
    scrapped: bool = False
    stopped: bool = False
    label_valid: bool = True
    pre_fill_check_passed: bool | None = None


def fill_refusals(
    facts: CylinderFacts | None,
    station_company_id: Hashable,
    today: date,
    rules: RuleSettings,
) -> list[str]:
    """Every reason to refuse this fill, in REFUSAL_ORDER; empty means it may be filled.

    ``facts`` is None for a code the register does not know, which can only be refused
    as ``cylinder_unknown``. ``today`` is the date in China (weeks.local_date).
    """
    if facts is None:
        return ["cylinder_unknown"]
    due = next_inspection_due(
        facts.manufactured_on,
        facts.last_inspected_on,
        rules,
        override=facts.inspection_due_override,
    )
    scrap_on = scrap_date(
        facts.manufactured_on,
        rules,
        last_passed_inspection_on=facts.last_passed_inspection_on,
        override=facts.scrap_date_override,
    )
    found = {
        "not_own_cylinder": facts.owner_company_id != station_company_id,
        "cylinder_scrapped": facts.scrapped,
        "cylinder_stopped": facts.stopped,
        "inspection_overdue": is_inspection_overdue(due, today),
        "past_scrap_date": is_past_scrap_date(scrap_on, today),
        "label_invalid": not facts.label_valid,
        "pre_fill_check_missing": facts.pre_fill_check_passed is None,
        "pre_fill_check_failed": facts.pre_fill_check_passed is False,
    }
    return [code for code in REFUSAL_ORDER if found.get(code, False)]


class MassError(DomainError, ValueError):
    """Scale readings that cannot be a filled cylinder (negative, or gross below tare)."""

    code = "mass_invalid"
    kind = "invalid"


MassInput = Decimal | int | str | float


def to_kg(value: MassInput, name: str = "mass") -> Decimal:
    """A mass in kg as Decimal. Floats go through their shortest repr, so 15.01 stays 15.01."""
    if isinstance(value, bool):
        raise MassError(f"{name} must be a number, got {value!r}")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation as exc:
        raise MassError(f"{name} must be a number, got {value!r}") from exc
    if not number.is_finite() or number < 0:
        raise MassError(f"{name} must be a finite mass of zero or more, got {value!r}")
    return number


def net_mass(gross_kg: MassInput, tare_kg: MassInput) -> Decimal:
    """Gross minus tare, exactly; MassError if gross is below tare."""
    gross, tare = to_kg(gross_kg, "gross"), to_kg(tare_kg, "tare")
    if gross < tare:
        raise MassError(f"gross {gross} kg is below tare {tare} kg")
    return gross - tare


def assess_net_mass(model: CylinderModelSpec, gross_kg: MassInput, tare_kg: MassInput) -> Outcome:
    """OK, OVERFILLED or UNDERFILLED for the net mass against the model's tolerance.

    The limits ``nominal ± tolerance`` are inclusive: a YSP35.5 (14.5 ± 0.5 kg) is ok at
    14.0 and 15.0 kg net, overfilled at 15.01, underfilled at 13.99. The result is a
    lifecycle Outcome so it can go straight onto the fill scan.
    """
    net = net_mass(gross_kg, tare_kg)
    if net > model.max_net_kg:
        return Outcome.OVERFILLED
    if net < model.min_net_kg:
        return Outcome.UNDERFILLED
    return Outcome.OK
