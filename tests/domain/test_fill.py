"""Fill refusals and the net mass check."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from cylinder_trace.domain.fill import (
    REFUSAL_ORDER,
    CylinderFacts,
    MassError,
    assess_net_mass,
    fill_refusals,
    net_mass,
)
from cylinder_trace.domain.lifecycle import Outcome
from cylinder_trace.domain.rules import CylinderModelSpec, RuleSettings

TODAY = date(2026, 5, 9)
OWN = 42

# Made 2020-03-01, inspected 2024-02-10: next due 2028-02-10, scrap 2028-03-01.
GOOD = CylinderFacts(
    owner_company_id=OWN,
    manufactured_on=date(2020, 3, 1),
    last_inspected_on=date(2024, 2, 10),
    label_valid=True,
    pre_fill_check_passed=True,
)


def test_a_good_cylinder_may_be_filled(rules: RuleSettings) -> None:
    assert fill_refusals(GOOD, OWN, TODAY, rules) == []


def test_unknown_cylinder(rules: RuleSettings) -> None:
    assert fill_refusals(None, OWN, TODAY, rules) == ["cylinder_unknown"]


@pytest.mark.parametrize(
    ("change", "station", "code"),
    [
        ({}, 7, "not_own_cylinder"),
        ({"scrapped": True}, OWN, "cylinder_scrapped"),
        ({"stopped": True}, OWN, "cylinder_stopped"),
        (
            {"last_inspected_on": None, "manufactured_on": date(2022, 5, 8)},
            OWN,
            "inspection_overdue",
        ),
        ({"inspection_due_override": date(2026, 5, 8)}, OWN, "inspection_overdue"),
        ({"scrap_date_override": date(2026, 5, 8)}, OWN, "past_scrap_date"),
        ({"label_valid": False}, OWN, "label_invalid"),
        ({"pre_fill_check_passed": None}, OWN, "pre_fill_check_missing"),
        ({"pre_fill_check_passed": False}, OWN, "pre_fill_check_failed"),
    ],
)
def test_each_refusal_alone(change: dict, station: int, code: str, rules: RuleSettings) -> None:
    assert fill_refusals(replace(GOOD, **change), station, TODAY, rules) == [code]


@pytest.mark.parametrize(
    ("manufactured", "today", "refused"),
    [
        (date(2022, 5, 9), date(2026, 5, 9), False),  # due today: still valid
        (date(2022, 5, 9), date(2026, 5, 10), True),
        (date(2018, 5, 9), date(2026, 5, 9), False),  # scrap date today: last usable day
        (date(2018, 5, 9), date(2026, 5, 10), True),
    ],
)
def test_date_boundaries(
    manufactured: date, today: date, refused: bool, rules: RuleSettings
) -> None:
    # Inspected "today" four years after manufacture keeps only the scrap boundary in play
    # for the old cylinder; the new one is never inspected so its due date is in play.
    inspected = None if manufactured.year == 2022 else date(2024, 5, 9)
    facts = replace(GOOD, manufactured_on=manufactured, last_inspected_on=inspected)
    codes = fill_refusals(facts, OWN, today, rules)
    expected = "inspection_overdue" if manufactured.year == 2022 else "past_scrap_date"
    assert codes == ([expected] if refused else [])


def test_all_reasons_in_stable_order(rules: RuleSettings) -> None:
    bad = CylinderFacts(
        owner_company_id=1,
        manufactured_on=date(2010, 1, 1),
        scrapped=True,
        stopped=True,
        label_valid=False,
        pre_fill_check_passed=None,
    )
    expected = [c for c in REFUSAL_ORDER if c not in {"cylinder_unknown", "pre_fill_check_failed"}]
    assert fill_refusals(bad, OWN, TODAY, rules) == expected
    assert expected[:3] == ["not_own_cylinder", "cylinder_scrapped", "cylinder_stopped"]


def test_refusals_follow_the_rules(rules: RuleSettings) -> None:
    # Inspected 2024-02-10: a 24-month interval makes it overdue on TODAY.
    short = rules.with_overrides(inspection_interval_months=24)
    assert fill_refusals(GOOD, OWN, TODAY, short) == ["inspection_overdue"]
    young = rules.with_overrides(design_life_years=6)
    assert fill_refusals(GOOD, OWN, TODAY, young) == ["past_scrap_date"]


def test_life_extension_keeps_an_old_cylinder_fillable(rules: RuleSettings) -> None:
    old = replace(
        GOOD,
        manufactured_on=date(2018, 1, 1),
        last_inspected_on=date(2025, 11, 20),
        last_passed_inspection_on=date(2025, 11, 20),
    )
    assert fill_refusals(old, OWN, TODAY, rules) == ["past_scrap_date"]
    extending = rules.with_overrides(life_extension_years=4)
    assert fill_refusals(old, OWN, TODAY, extending) == []


def test_company_ids_compare_by_value(rules: RuleSettings) -> None:
    facts = replace(GOOD, owner_company_id="c-42")
    assert fill_refusals(facts, "c-42", TODAY, rules) == []
    assert fill_refusals(facts, "c-43", TODAY, rules) == ["not_own_cylinder"]


# --- mass -----------------------------------------------------------------------------

TARE = Decimal("15.3")


@pytest.mark.parametrize(
    ("net", "outcome"),
    [
        ("15.0", Outcome.OK),
        ("15.00", Outcome.OK),
        ("15.01", Outcome.OVERFILLED),
        ("15.001", Outcome.OVERFILLED),
        ("14.5", Outcome.OK),
        ("14.0", Outcome.OK),
        ("13.999", Outcome.UNDERFILLED),
        ("13.99", Outcome.UNDERFILLED),
        ("0", Outcome.UNDERFILLED),
        ("20", Outcome.OVERFILLED),
    ],
)
def test_ysp35_5_tolerance(net: str, outcome: Outcome, rules: RuleSettings) -> None:
    model = rules.model("YSP35.5")
    assert model is not None
    assert (model.nominal_net_kg, model.fill_tolerance_kg) == (Decimal("14.5"), Decimal("0.5"))
    assert assess_net_mass(model, TARE + Decimal(net), TARE) is outcome


@pytest.mark.parametrize(
    ("gross", "tare", "outcome"),
    [
        (30.3, 15.3, Outcome.OK),
        (14.1, 0.1, Outcome.OK),  # in binary this is 13.99999999999999964..., underfilled
        (30.31, 15.3, Outcome.OVERFILLED),
        ("29.29", "15.3", Outcome.UNDERFILLED),
        (30, 15, Outcome.OK),
    ],
)
def test_mass_inputs_are_exact(
    gross: object, tare: object, outcome: Outcome, rules: RuleSettings
) -> None:
    model = rules.model("YSP35.5")
    assert assess_net_mass(model, gross, tare) is outcome  # type: ignore[arg-type]


def test_every_model_edge(rules: RuleSettings) -> None:
    step = Decimal("0.01")
    for model in rules.cylinder_models.values():
        tare = Decimal("10")
        assert assess_net_mass(model, tare + model.max_net_kg, tare) is Outcome.OK
        assert assess_net_mass(model, tare + model.min_net_kg, tare) is Outcome.OK
        assert assess_net_mass(model, tare + model.max_net_kg + step, tare) is Outcome.OVERFILLED
        assert assess_net_mass(model, tare + model.min_net_kg - step, tare) is Outcome.UNDERFILLED


def test_tolerance_is_data() -> None:
    strict = CylinderModelSpec("YSP35.5", Decimal("14.5"), Decimal("0.2"))
    assert assess_net_mass(strict, Decimal("14.75"), 0) is Outcome.OVERFILLED


def test_net_mass() -> None:
    assert net_mass("30.30", "15.3") == Decimal("15.00")


@pytest.mark.parametrize(
    ("gross", "tare"),
    [("15", "15.3"), ("-1", "0"), ("30", "-15"), ("abc", "15"), ("NaN", "1"), (True, 1)],
)
def test_impossible_readings(gross: object, tare: object) -> None:
    with pytest.raises(MassError) as caught:
        net_mass(gross, tare)  # type: ignore[arg-type]
    assert caught.value.code == "mass_invalid"
