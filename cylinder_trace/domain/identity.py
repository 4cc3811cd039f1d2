"""Real-name identifiers: resident ID numbers, unified social credit codes, phone numbers.

Validators return the normalised value or raise :class:`IdentityError` whose ``code``
is stable (API clients and translations key on it) and which carries an English and a
Chinese message for the user (the Chinese one also in ``details["message_zh"]``, so the
web layer's generic DomainError handler passes it on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.weeks import CHINA_TZ


class IdentityError(DomainError, ValueError):
    """An identifier that fails validation; ``code`` is stable, messages are for people."""

    kind = "invalid"

    def __init__(self, code: str, message_en: str, message_zh: str) -> None:
        super().__init__(message_en, code=code, details={"message_zh": message_zh})
        self.message_en = message_en
        self.message_zh = message_zh


# --- GB 11643 resident identity number -------------------------------------------------

ID_NUMBER_LENGTH = 18
# ISO 7064 MOD 11-2: weight of position i (from the left) is 2^(17-i) mod 11.
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK_CHARS = "10X98765432"
# Birth dates before 1900 cannot belong to a living card holder and usually mean a typo.
_EARLIEST_BIRTH = date(1900, 1, 1)


def id_number_check_char(body: str) -> str:
    """The ISO 7064 MOD 11-2 check character (0-9 or X) for the first 17 digits."""
    if len(body) != ID_NUMBER_LENGTH - 1 or not body.isascii() or not body.isdigit():
        raise ValueError("the body of an ID number is 17 digits")
    total = sum(int(digit) * weight for digit, weight in zip(body, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def _china_today() -> date:
    # date.today() would follow the process zone; business dates are Chinese dates.
    return datetime.now(CHINA_TZ).date()


def validate_id_number(value: str, *, today: date | None = None) -> str:
    """Validate an 18-character resident ID number and return it normalised.

    Normalising strips surrounding whitespace and upper-cases a final ``x``. Checks, in
    this order (the first failure is raised): length (``id_number_length``), characters
    (``id_number_format``), region code of 6 digits not starting with 0
    (``id_number_region``), a real birth date from 1900-01-01 to ``today``
    (``id_number_birth_date``; ``today`` defaults to the current date in China), and the
    check character (``id_number_checksum``).
    """
    number = value.strip().upper()
    if len(number) != ID_NUMBER_LENGTH:
        raise IdentityError(
            "id_number_length",
            f"An ID number has 18 characters, this one has {len(number)}.",
            f"身份证号码应为18位，当前为{len(number)}位。",
        )
    body, check = number[:17], number[17]
    if not (number.isascii() and body.isdigit() and (check == "X" or check.isdigit())):
        raise IdentityError(
            "id_number_format",
            "An ID number is 17 digits followed by a digit or X.",
            "身份证号码应为17位数字加1位数字或X。",
        )
    if body[0] == "0":
        raise IdentityError(
            "id_number_region",
            "The region code (first 6 digits) cannot start with 0.",
            "身份证号码前6位地址码不能以0开头。",
        )
    try:
        born = date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    except ValueError:
        born = None
    today = today if today is not None else _china_today()
    if born is None or not _EARLIEST_BIRTH <= born <= today:
        raise IdentityError(
            "id_number_birth_date",
            "The birth date (digits 7-14) is not a real date between 1900 and today.",
            "身份证号码第7-14位出生日期无效。",
        )
    if id_number_check_char(body) != check:
        raise IdentityError(
            "id_number_checksum",
            "The last character does not match: check the number for typos.",
            "身份证号码校验位不符，请核对是否输错。",
        )
    return number


def id_number_birth_date(number: str) -> date:
    """The birth date encoded in an already validated ID number."""
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def mask_id_number(value: str) -> str:
    """Mask an ID number for display: ``110105********002X``.

    Keeps the region (6) and the last 4 characters. Does not verify the checksum, so
    old records still display, but refuses anything that is not 18 characters rather
    than show a mask that leaks more or misleads.
    """
    number = value.strip().upper()
    if len(number) != ID_NUMBER_LENGTH:
        raise IdentityError(
            "id_number_length",
            f"An ID number has 18 characters, this one has {len(number)}.",
            f"身份证号码应为18位，当前为{len(number)}位。",
        )
    return number[:6] + "*" * 8 + number[14:]


# --- GB 32100 unified social credit code ----------------------------------------------

CREDIT_CODE_LENGTH = 18
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_CREDIT_VALUES = {char: index for index, char in enumerate(CREDIT_CODE_CHARS)}
_CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))

REGISTRATION_AUTHORITIES: dict[str, str] = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "工商 / 市场监管",
    "A": "中央军委改革和编制办公室",
    "N": "农业",
    "Y": "其他",
}
"""GB 32100 registration authority codes (first character)."""


@dataclass(frozen=True, slots=True)
class CreditCode:
    """The parts of a valid unified social credit code."""

    code: str
    authority: str
    entity_type: str
    division_code: str
    organisation_code: str


def credit_code_check_char(body: str) -> str:
    """The GB 32100 MOD 31 check character for the first 17 characters."""
    if len(body) != CREDIT_CODE_LENGTH - 1 or any(c not in _CREDIT_VALUES for c in body):
        raise ValueError("the body of a credit code is 17 characters of the GB 32100 set")
    total = sum(_CREDIT_VALUES[c] * w for c, w in zip(body, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def parse_credit_code(value: str) -> CreditCode:
    """Validate a unified social credit code and return its parts.

    Normalising strips surrounding whitespace and upper-cases. Codes, in order:
    ``credit_code_length``, ``credit_code_format`` (a character outside
    ``0-9A-HJ-NPQRTUWXY``), ``credit_code_authority`` (first character not a known
    registration authority), ``credit_code_entity_type`` (second character not 1-9),
    ``credit_code_division`` (characters 3-8 not digits), ``credit_code_checksum``.

    The entity type is not checked against a per-authority table, and the GB 11714
    check inside the organisation code is not enforced: both have been amended over the
    years and a false refusal would block a legitimate real-name purchase, whereas the
    MOD 31 check already catches typing errors.
    """
    code = value.strip().upper()
    if len(code) != CREDIT_CODE_LENGTH:
        raise IdentityError(
            "credit_code_length",
            f"A unified social credit code has 18 characters, this one has {len(code)}.",
            f"统一社会信用代码应为18位，当前为{len(code)}位。",
        )
    if any(char not in _CREDIT_VALUES for char in code):
        raise IdentityError(
            "credit_code_format",
            "A unified social credit code uses digits and capital letters except I, O, S, V, Z.",
            "统一社会信用代码只能包含数字和除I、O、S、V、Z以外的大写字母。",
        )
    if code[0] not in REGISTRATION_AUTHORITIES:
        raise IdentityError(
            "credit_code_authority",
            "The first character is not a known registration authority.",
            "统一社会信用代码第1位登记管理部门代码无效。",
        )
    if code[1] not in "123456789":
        raise IdentityError(
            "credit_code_entity_type",
            "The second character (entity type) must be a digit 1-9.",
            "统一社会信用代码第2位机构类别代码无效。",
        )
    if not code[2:8].isdigit():
        raise IdentityError(
            "credit_code_division",
            "Characters 3-8 (administrative division) must be digits.",
            "统一社会信用代码第3-8位行政区划码应为数字。",
        )
    if credit_code_check_char(code[:17]) != code[17]:
        raise IdentityError(
            "credit_code_checksum",
            "The last character does not match: check the code for typos.",
            "统一社会信用代码校验位不符，请核对是否输错。",
        )
    return CreditCode(code, code[0], code[1], code[2:8], code[8:17])


def validate_credit_code(value: str) -> str:
    """Validate a unified social credit code and return it normalised (see parse)."""
    return parse_credit_code(value).code


# --- Mainland phone numbers ------------------------------------------------------------

_PHONE_SEPARATORS = re.compile(r"[\s\-()（）]")
_COUNTRY_PREFIX = re.compile(r"^(?:\+86|0086|86(?=1[3-9]\d{9}$))")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Area codes: 010 and 02x have 3 digits, all others 0 + 3 digits, so the split of an
# unseparated number is unambiguous. Local numbers have 7 or 8 digits and never start
# with 0 (that would be a second trunk prefix).
_LANDLINE = re.compile(r"^(0(?:10|2\d)|0[3-9]\d\d)([1-9]\d{6,7})$")


def normalize_phone(value: str) -> str:
    """Validate a mainland China phone number and return it normalised.

    Mobiles (``1[3-9]`` + 9 digits, optionally with +86, 0086 or 86) become 11 digits,
    e.g. ``13812345678``. Landlines need the area code and become ``area-local``, e.g.
    ``023-12345678`` from ``02312345678``, ``(023) 1234 5678`` or ``+86 23 12345678``.
    Spaces, hyphens and brackets are ignored. Extensions are not supported. Raises
    IdentityError ``phone_format``.
    """
    digits = _PHONE_SEPARATORS.sub("", value.strip())
    match = _COUNTRY_PREFIX.match(digits)
    if match:
        digits = digits[match.end() :]
        # International form drops the trunk 0 of a landline area code (+86 10 ... is
        # Beijing 010, so "starts with 1" does not mean mobile).
        if not _MOBILE.match(digits) and not digits.startswith("0"):
            digits = "0" + digits
    if _MOBILE.match(digits):
        return digits
    landline = _LANDLINE.match(digits)
    if landline:
        return f"{landline.group(1)}-{landline.group(2)}"
    raise IdentityError(
        "phone_format",
        "Not a mainland mobile (11 digits starting 13-19) or a landline with area code.",
        "请输入11位手机号码，或带区号的固定电话（如023-12345678）。",
    )
