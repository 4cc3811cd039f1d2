"""What a scan means for a cylinder: the fill rules, the buyer, and the lifecycle table.

Pure functions over a cylinder snapshot and the scan; the service loads what they need.
Every problem is a (code, message) pair; the first is the one the caller is told about.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from cylinder_trace.customers.models import Customer, PremisesType
from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.domain import fill
from cylinder_trace.domain.lifecycle import Outcome, ScanKind
from cylinder_trace.domain.rules import ChecklistItem, RuleSettings

MESSAGES = {
    "cylinder_unknown": "This code was never registered.",
    "label_invalid": "This label was not issued by cylinder-trace: do not fill or use it.",
    "not_own_cylinder": "The cylinder belongs to another gas company.",
    "cylinder_scrapped": "The cylinder is scrapped; its code is revoked.",
    "cylinder_stopped": "The cylinder is stopped (recalled); it may not be used.",
    "inspection_overdue": "The periodic inspection is overdue: send it for inspection.",
    "past_scrap_date": "The cylinder is past its scrap date: it must be scrapped.",
    "pre_fill_check_missing": "Record the pre-fill check before filling.",
    "pre_fill_check_failed": "The pre-fill check found a defect: do not fill.",
    "post_fill_check_failed": "The post-fill check found a defect.",
    "buyer_not_registered": "The buyer is not a registered customer of this company.",
    "buyer_inactive": "The buyer's registration is deactivated.",
    "unregistered_buyer": "Delivered to a buyer who is not a registered customer.",
    "ysp118_indoor_forbidden": (
        "A YSP118 (50 kg) cylinder may not be delivered into a building (GB 5842-2023) "
        "unless the premises have an outdoor cylinder area."
    ),
    "station_required": "A fill must happen at a filling station.",
}


@dataclass(slots=True)
class Judgement:
    """The outcome a scan carries and the problems found before the lifecycle table."""

    outcome: Outcome | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def add(self, code: str, message: str | None = None) -> None:
        self.problems.append((code, message or MESSAGES.get(code, code)))


def check_items(items: dict[str, bool] | None, required: Iterable[str]) -> bool | None:
    """None when no check was recorded, else whether every required item passed."""
    if not items:
        return None
    return all(items.get(code) is True for code in required) and all(items.values())


def cylinder_facts(
    cylinder: Cylinder, *, label_valid: bool, pre_fill_check_passed: bool | None
) -> fill.CylinderFacts:
    """What the fill rules need to know about a registered cylinder.

    The stored due and scrap dates are passed as overrides: they already include the
    cylinder's own record, so the rules must not recompute them from the intervals.
    """
    return fill.CylinderFacts(
        owner_company_id=cylinder.owner_company_id,
        manufactured_on=cylinder.manufactured_on,
        last_inspected_on=cylinder.last_inspected_on,
        inspection_due_override=cylinder.next_inspection_due,
        scrap_date_override=cylinder.scrap_date,
        scrapped=cylinder.is_scrapped,
        stopped=cylinder.stopped,
        label_valid=label_valid,
        pre_fill_check_passed=pre_fill_check_passed,
    )


@cache
def _codes(checklist: tuple[ChecklistItem, ...]) -> tuple[str, ...]:
    return tuple(item.code for item in checklist)


def judge_fill(
    cylinder: Cylinder,
    scan: Any,
    station_company_id: int | None,
    label_valid: bool,
    rules: RuleSettings,
    today: date,
) -> Judgement:
    """TSG 23 / GB 17267: may it be filled, and is the net mass within tolerance?"""
    judgement = Judgement()
    pre = check_items(scan.pre_fill_check, _codes(rules.pre_fill_checklist))
    facts = cylinder_facts(cylinder, label_valid=label_valid, pre_fill_check_passed=pre)
    for code in fill.fill_refusals(facts, station_company_id, today, rules):
        judgement.add(code)
    if scan.gross_kg is not None:
        spec = rules.model(cylinder.model)
        tare = scan.tare_kg if scan.tare_kg is not None else Decimal(cylinder.tare_kg)
        judgement.outcome = fill.assess_net_mass(spec, scan.gross_kg, tare)  # type: ignore[arg-type]
        judgement.data.update(
            gross_kg=str(scan.gross_kg), tare_kg=str(tare), net_kg=str(scan.gross_kg - tare)
        )
    if scan.post_fill_check:
        post = check_items(scan.post_fill_check, _codes(rules.post_fill_checklist))
        if post is False:
            judgement.add("post_fill_check_failed")
    return judgement


def judge_buyer(cylinder: Cylinder, customer: Customer | None, rules: RuleSettings) -> Judgement:
    """Real-name purchase: a registered, active customer; no YSP118 into a building."""
    judgement = Judgement()
    if customer is None:
        judgement.add("buyer_not_registered")
        return judgement
    if not customer.active:
        judgement.add("buyer_inactive")
    spec = rules.model(cylinder.model)
    if (
        spec is not None
        and not spec.indoor_allowed
        and customer.premises_type == PremisesType.HOUSEHOLD
        and not customer.has_outdoor_cylinder_area
    ):
        judgement.add("ysp118_indoor_forbidden")
    return judgement


def mass_kind(kind: ScanKind) -> bool:
    return kind in (ScanKind.FILL, ScanKind.REWEIGH)
