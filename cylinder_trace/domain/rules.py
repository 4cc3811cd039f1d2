"""Rule settings: the numbers shared/domain.md marks configurable, held as data.

The defaults live in ``default_rules.toml`` beside this module. A deployment replaces
them with its own file and may override single numbers; nothing else in the code base
carries these numbers as literals.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any


class RulesError(ValueError):
    """A rules file or override that cannot be used."""


@dataclass(frozen=True, slots=True)
class CylinderModelSpec:
    """One GB 5842 cylinder model and its filling tolerance."""

    name: str
    nominal_net_kg: Decimal
    fill_tolerance_kg: Decimal
    indoor_allowed: bool = True

    @property
    def min_net_kg(self) -> Decimal:
        return self.nominal_net_kg - self.fill_tolerance_kg

    @property
    def max_net_kg(self) -> Decimal:
        return self.nominal_net_kg + self.fill_tolerance_kg


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    """One item of the catering door-to-door checklist."""

    code: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """All configurable rule numbers, validated and immutable."""

    inspection_interval_months: int
    design_life_years: int
    life_extension_years: int
    check_interval_days: int
    cylinder_models: dict[str, CylinderModelSpec] = field(default_factory=dict)
    catering_checklist: tuple[ChecklistItem, ...] = ()
    pre_fill_checklist: tuple[ChecklistItem, ...] = ()
    post_fill_checklist: tuple[ChecklistItem, ...] = ()
    # Catering hazards: days to fix a failed checklist item, by item code, else the default.
    hazard_deadline_days: int = 7
    catering_hazard_deadlines: dict[str, int] = field(default_factory=dict)
    # A fill's tare may differ this much from the registered (stamped) tare before the fill
    # is flagged ``tare_mismatch``.
    tare_tolerance_kg: Decimal = Decimal("0.20")

    def hazard_deadline_for(self, item_code: str) -> int:
        """Days allowed to fix a hazard found on this catering checklist item."""
        return self.catering_hazard_deadlines.get(item_code, self.hazard_deadline_days)

    def model(self, name: str) -> CylinderModelSpec | None:
        """The model spec by its GB 5842 name (``YSP35.5``), or None if unknown."""
        return self.cylinder_models.get(name)

    def with_overrides(self, **overrides: int | None) -> RuleSettings:
        """A copy with the given integer settings replaced; None values are ignored."""
        given = {key: value for key, value in overrides.items() if value is not None}
        for key, value in given.items():
            if key not in _INTEGER_FIELDS:
                raise RulesError(f"unknown rule setting {key!r}")
            _check_positive(key, value, allow_zero=key == "life_extension_years")
        return replace(self, **given)


_INTEGER_FIELDS = (
    "inspection_interval_months",
    "design_life_years",
    "life_extension_years",
    "check_interval_days",
)


def _check_positive(key: str, value: Any, *, allow_zero: bool = False) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise RulesError(f"{key} must be a whole number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise RulesError(f"{key} must be {'zero or more' if allow_zero else 'positive'}")
    return value


def _decimal(key: str, value: Any) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise RulesError(f"{key} must be a number, got {value!r}") from exc
    if not number.is_finite() or number < 0:
        raise RulesError(f"{key} must be a finite number of zero or more")
    return number


def _checklist(data: dict[str, Any], key: str) -> tuple[ChecklistItem, ...]:
    items = tuple(
        ChecklistItem(code=item["code"], zh=item["zh"], en=item["en"]) for item in data.get(key, [])
    )
    if len({item.code for item in items}) != len(items):
        raise RulesError(f"{key} codes must be unique")
    return items


def parse_rules(data: dict[str, Any]) -> RuleSettings:
    """Build settings from the parsed content of a rules TOML file."""
    models: dict[str, CylinderModelSpec] = {}
    for key, raw in data.get("cylinder_models", {}).items():
        name = raw.get("name", key)
        models[name] = CylinderModelSpec(
            name=name,
            nominal_net_kg=_decimal(f"{name}.nominal_net_kg", raw["nominal_net_kg"]),
            fill_tolerance_kg=_decimal(f"{name}.fill_tolerance_kg", raw["fill_tolerance_kg"]),
            indoor_allowed=bool(raw.get("indoor_allowed", True)),
        )
    if not models:
        raise RulesError("the rules define no cylinder model")
    checklist = tuple(
        ChecklistItem(code=item["code"], zh=item["zh"], en=item["en"])
        for item in data.get("catering_checklist", [])
    )
    codes = [item.code for item in checklist]
    if len(codes) != len(set(codes)):
        raise RulesError("catering checklist codes must be unique")
    return RuleSettings(
        inspection_interval_months=_check_positive(
            "inspection_interval_months", data.get("inspection_interval_months")
        ),
        design_life_years=_check_positive("design_life_years", data.get("design_life_years")),
        life_extension_years=_check_positive(
            "life_extension_years", data.get("life_extension_years", 0), allow_zero=True
        ),
        check_interval_days=_check_positive("check_interval_days", data.get("check_interval_days")),
        cylinder_models=models,
        catering_checklist=checklist,
        pre_fill_checklist=_checklist(data, "pre_fill_checklist"),
        post_fill_checklist=_checklist(data, "post_fill_checklist"),
        hazard_deadline_days=_check_positive(
            "hazard_deadline_days", data.get("hazard_deadline_days", 7)
        ),
        catering_hazard_deadlines=_catering_hazard_deadlines(data),
        tare_tolerance_kg=_decimal("tare_tolerance_kg", data.get("tare_tolerance_kg", "0.20")),
    )


def _catering_hazard_deadlines(data: dict[str, Any]) -> dict[str, int]:
    """``deadline_days`` of each catering checklist item that sets one."""
    return {
        item["code"]: _check_positive(f"{item['code']}.deadline_days", item["deadline_days"])
        for item in data.get("catering_checklist", [])
        if "deadline_days" in item
    }


def load_rules(path: str | Path | None = None) -> RuleSettings:
    """Load rule settings from a TOML file, or the packaged defaults when path is None."""
    if path is None:
        text = resources.files(__package__).joinpath("default_rules.toml").read_text("utf-8")
    else:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise RulesError(f"cannot read rules file {path}: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"rules file is not valid TOML: {exc}") from exc
    try:
        return parse_rules(data)
    except KeyError as exc:
        raise RulesError(f"rules file misses {exc}") from exc
