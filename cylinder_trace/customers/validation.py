"""Checking and normalising what a customer record is made of, with bilingual messages.

Every problem names its field and carries an English and a Chinese message: the people at
the counter and at the door read Chinese, API clients and logs read the stable ``code``.
All fields are checked before anything is refused, so a form shows every mistake at once.
No message ever repeats the value it refuses (it may be an ID number).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Any

from cylinder_trace.customers.models import CustomerKind, PremisesType
from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.identity import (
    IdentityError,
    normalize_phone,
    validate_credit_code,
    validate_id_number,
)
from cylinder_trace.domain.jurisdiction import DivisionCodeError, validate_division_code
from cylinder_trace.domain.messages import N_
from cylinder_trace.translations import translate


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    code: str
    message_en: str
    message_zh: str


class CustomerInvalid(DomainError):
    """One or more customer fields are wrong. ``details`` names them, in both languages.

    ``details`` is ``{"field", "message_en", "message_zh", "errors": [...]}``: the first
    problem flattened for simple clients, and every problem (each with its own ``code``)
    in ``errors``. The error's ``code`` is the first problem's.
    """

    kind = "invalid"

    def __init__(self, problems: list[FieldProblem]) -> None:
        first = problems[0]
        super().__init__(
            first.message_en,
            code=first.code,
            details={
                "field": first.field,
                "message_en": first.message_en,
                "message_zh": first.message_zh,
                "errors": [asdict(problem) for problem in problems],
            },
        )
        self.problems = problems


# The problems' English source texts: gettext msgids, translated through the catalogs
# (cylinder_trace/translations) into both languages of every answer.
MESSAGES: Mapping[str, str] = MappingProxyType(
    {
        "name_missing": N_("The name must not be empty."),
        "address_missing": N_("The address must not be empty."),
        "credit_code_required": N_("A business customer needs its unified social credit code."),
        "credit_code_not_for_person": N_(
            "A person has no credit code: register a business as a business customer."
        ),
        "responsible_person_required": N_(
            "A business customer needs the name of its responsible person."
        ),
        "responsible_person_not_for_person": N_(
            "Only a business customer has a responsible person."
        ),
        "catering_needs_business": N_(
            "A catering user is registered as a business, with its credit code."
        ),
        "premises_floor_zero": N_(
            "There is no floor 0: the ground floor is 1, the first basement -1."
        ),
        "division_code_invalid": N_(
            "Not a valid 6-digit administrative division code (e.g. 500111)."
        ),
        "company_id_required": N_(
            "A system admin must name the gas company (company_id) that supplies the customer."
        ),
        "reveal_reason_required": N_(
            "Say why the full ID number is needed (at least 2 characters); it is recorded."
        ),
        "id_number_not_in_url": N_(
            "Do not put ID numbers in a URL (URLs are logged): use POST /customers/lookup."
        ),
    }
)


def messages_of(code: str) -> tuple[str, str]:
    """The message of ``code`` (a key of MESSAGES) in English and in Chinese."""
    text = MESSAGES[code]
    return translate(text, "en"), translate(text, "zh")


def problem(field: str, code: str) -> FieldProblem:
    """The problem ``code`` (a key of MESSAGES) on ``field``, with both messages."""
    message_en, message_zh = messages_of(code)
    return FieldProblem(field, code, message_en, message_zh)


class Checker:
    """Collects problems while normalising fields one by one."""

    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def add(self, field: str, code: str) -> None:
        self.problems.append(problem(field, code))

    def identity(self, field: str, value: str, check: Callable[[str], str]) -> str | None:
        try:
            return check(value)
        except IdentityError as exc:
            self.problems.append(FieldProblem(field, exc.code, exc.message_en, exc.message_zh))
            return None

    def text(self, field: str, value: str | None, missing_code: str) -> str | None:
        cleaned = (value or "").strip()
        if not cleaned:
            self.add(field, missing_code)
            return None
        return cleaned

    def division(self, field: str, value: str) -> str | None:
        try:
            return validate_division_code(value)
        except DivisionCodeError:
            self.add(field, "division_code_invalid")
            return None

    def raise_if_any(self) -> None:
        if self.problems:
            raise CustomerInvalid(self.problems)


def check_id_number(value: str) -> str:
    """A valid ID number, normalised (lower-case x becomes X), or CustomerInvalid."""
    checker = Checker()
    number = checker.identity("id_number", value, validate_id_number)
    checker.raise_if_any()
    assert number is not None
    return number


def check_credit_code(value: str) -> str:
    """A valid credit code, normalised to upper case, or CustomerInvalid."""
    checker = Checker()
    code = checker.identity("credit_code", value, validate_credit_code)
    checker.raise_if_any()
    assert code is not None
    return code


def check_registration(data: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise a new customer's fields; raise CustomerInvalid listing all faults."""
    checker = Checker()
    kind = CustomerKind(data["kind"])
    business = kind == CustomerKind.BUSINESS
    clean: dict[str, Any] = {
        "kind": kind,
        "name": checker.text("name", data.get("name"), "name_missing"),
        "id_number": checker.identity("id_number", data["id_number"], validate_id_number),
        "phone": checker.identity("phone", data["phone"], normalize_phone),
        "address": checker.text("address", data.get("address"), "address_missing"),
        "division_code": checker.division("division_code", data["division_code"]),
        "credit_code": None,
        "responsible_person": None,
    }
    credit_code = (data.get("credit_code") or "").strip()
    responsible = (data.get("responsible_person") or "").strip()
    if business:
        if credit_code:
            clean["credit_code"] = checker.identity(
                "credit_code", credit_code, validate_credit_code
            )
        else:
            checker.add("credit_code", "credit_code_required")
        clean["responsible_person"] = checker.text(
            "responsible_person", responsible, "responsible_person_required"
        )
    else:
        if credit_code:
            checker.add("credit_code", "credit_code_not_for_person")
        if responsible:
            checker.add("responsible_person", "responsible_person_not_for_person")
    clean.update(_check_premises(checker, data, business=business))
    checker.raise_if_any()
    return clean


def check_changes(changes: dict[str, Any], *, kind: CustomerKind) -> dict[str, Any]:
    """Validate and normalise the fields a PATCH may change (identity numbers never change)."""
    checker = Checker()
    business = kind == CustomerKind.BUSINESS
    clean: dict[str, Any] = {}
    if "name" in changes:
        clean["name"] = checker.text("name", changes["name"], "name_missing")
    if "address" in changes:
        clean["address"] = checker.text("address", changes["address"], "address_missing")
    if "phone" in changes:
        clean["phone"] = checker.identity("phone", changes["phone"], normalize_phone)
    if "division_code" in changes:
        clean["division_code"] = checker.division("division_code", changes["division_code"])
    if "responsible_person" in changes:
        if business:
            clean["responsible_person"] = checker.text(
                "responsible_person", changes["responsible_person"], "responsible_person_required"
            )
        else:
            checker.add("responsible_person", "responsible_person_not_for_person")
    if "active" in changes:
        clean["active"] = bool(changes["active"])
    clean.update(_check_premises(checker, changes, business=business, partial=True))
    checker.raise_if_any()
    return clean


_PREMISES_FLAGS = ("has_outdoor_cylinder_area", "has_cylinder_room")


def _check_premises(
    checker: Checker, data: dict[str, Any], *, business: bool, partial: bool = False
) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if not partial or "is_catering" in data:
        clean["is_catering"] = bool(data.get("is_catering", False))
        if clean["is_catering"] and not business:
            checker.add("is_catering", "catering_needs_business")
    if not partial or "premises_type" in data:
        default = PremisesType.RESTAURANT if clean.get("is_catering") else PremisesType.HOUSEHOLD
        clean["premises_type"] = PremisesType(data.get("premises_type") or default)
    if not partial or "premises_floor" in data:
        floor = data.get("premises_floor")
        if floor == 0:
            checker.add("premises_floor", "premises_floor_zero")
        clean["premises_floor"] = floor
    for flag in _PREMISES_FLAGS:
        if not partial or flag in data:
            clean[flag] = bool(data.get(flag, False))
    return clean
