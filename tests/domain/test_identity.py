"""Resident ID numbers (GB 11643), credit codes (GB 32100) and phone numbers."""

from __future__ import annotations

from datetime import date

import pytest

from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.identity import (
    IdentityError,
    credit_code_check_char,
    id_number_birth_date,
    id_number_check_char,
    mask_id_number,
    normalize_phone,
    parse_credit_code,
    validate_credit_code,
    validate_id_number,
)

TODAY = date(2026, 5, 9)

# Written independently of the module: ISO 7064 MOD 11-2 holds when the weighted sum of
# all 18 characters, X counting 10 and weight 2^(17-i), is 1 modulo 11.


def _mod11_2_ok(number: str) -> bool:
    values = [10 if char == "X" else int(char) for char in number]
    return sum(value * 2 ** (17 - i) for i, value in enumerate(values)) % 11 == 1


def _with_id_check(body: str) -> str:
    return next(body + c for c in "0123456789X" if _mod11_2_ok(body + c))


# GB 32100: weights 3^i mod 31, check = 31 - sum mod 31 (31 written as 0).
_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _with_credit_check(body: str) -> str:
    total = sum(_CHARS.index(c) * (3**i % 31) for i, c in enumerate(body))
    return body + _CHARS[(31 - total % 31) % 31]


# --- ID numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),
        ("  11010519491231002X\n", "11010519491231002X"),
        (_with_id_check("50022519920229123"), None),  # Chongqing, Feb 29 of a leap year
        (_with_id_check("50011119000101001"), None),  # the earliest birth date allowed
        (_with_id_check("50011120260509001"), None),  # born today
    ],
)
def test_valid_id_numbers_are_normalised(raw: str, expected: str | None) -> None:
    assert validate_id_number(raw, today=TODAY) == (expected or raw.strip().upper())


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("110105194912310021", "id_number_checksum"),
        ("110105194912310020", "id_number_checksum"),
        ("11010519491231002", "id_number_length"),
        ("11010519491231002X1", "id_number_length"),
        ("", "id_number_length"),
        ("1101051949123100XX", "id_number_format"),
        ("11010519491231002Y", "id_number_format"),
        ("1101051949I231002X", "id_number_format"),
        ("１１０１０５１９４９１２３１００２X", "id_number_format"),  # full-width digits
        ("11010519491231002２", "id_number_format"),  # full-width check digit
        (_with_id_check("01010519491231002"), "id_number_region"),
        (_with_id_check("11010519490230002"), "id_number_birth_date"),  # 30 February
        (_with_id_check("11010519000229002"), "id_number_birth_date"),  # 1900 not leap
        (_with_id_check("11010518991231002"), "id_number_birth_date"),  # before 1900
        (_with_id_check("11010520260510002"), "id_number_birth_date"),  # tomorrow
        (_with_id_check("11010519491300002"), "id_number_birth_date"),  # month 13
        ("440524188001010014", "id_number_birth_date"),  # GB 11643's own 1880 example
    ],
)
def test_invalid_id_numbers_raise_stable_codes(raw: str, code: str) -> None:
    with pytest.raises(IdentityError) as caught:
        validate_id_number(raw, today=TODAY)
    assert caught.value.code == code
    assert caught.value.message_en and caught.value.message_zh
    assert caught.value.details == {"message_zh": caught.value.message_zh}


def test_checksum_matches_independent_formulation() -> None:
    assert _mod11_2_ok("11010519491231002X")
    assert not _mod11_2_ok("110105194912310021")
    assert id_number_check_char("11010519491231002") == "X"
    assert id_number_check_char("44052418800101001") == "4"
    for body in ("50011119850612341", "50022919991231000", "65010220000101777"):
        assert id_number_check_char(body) == _with_id_check(body)[-1]


def test_identity_error_is_a_domain_error_and_a_value_error() -> None:
    with pytest.raises(DomainError) as caught:
        validate_id_number("110105194912310021", today=TODAY)
    assert caught.value.kind == "invalid"
    assert isinstance(caught.value, ValueError)


def test_birth_date_is_read_back() -> None:
    assert id_number_birth_date("11010519491231002X") == date(1949, 12, 31)


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("11010519491231002X", "110105********002X"),
        ("11010519491231002x", "110105********002X"),
        ("500111199001011234", "500111********1234"),
    ],
)
def test_mask_id_number(raw: str, masked: str) -> None:
    assert mask_id_number(raw) == masked


@pytest.mark.parametrize("raw", ["", "1101051949", "11010519491231002X0"])
def test_mask_refuses_wrong_length(raw: str) -> None:
    with pytest.raises(IdentityError) as caught:
        mask_id_number(raw)
    assert caught.value.code == "id_number_length"


# --- Credit codes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "91350100M000100Y43",
        "91350100m000100y43",
        " 91350100M000100Y43 ",
        "914403001922038216",
        "9144030071526726XG",
        _with_credit_check("52500000MJP1234XY"),
        _with_credit_check("Y1500111MA5U00001"),
    ],
)
def test_valid_credit_codes(raw: str) -> None:
    assert validate_credit_code(raw) == raw.strip().upper()


def test_credit_code_parts() -> None:
    parts = parse_credit_code("91350100M000100Y43")
    assert (parts.authority, parts.entity_type) == ("9", "1")
    assert (parts.division_code, parts.organisation_code) == ("350100", "M000100Y4")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("91350100M000100Y44", "credit_code_checksum"),
        ("91350100M000100Y4", "credit_code_length"),
        ("91350100M000100Y433", "credit_code_length"),
        ("91350100M000I00Y43", "credit_code_format"),
        ("91350100M000100O43", "credit_code_format"),
        ("91350100M000100S43", "credit_code_format"),
        ("9135010-M000100Y43", "credit_code_format"),
        (_with_credit_check("01350100M000100Y4"), "credit_code_authority"),
        (_with_credit_check("B1350100M000100Y4"), "credit_code_authority"),
        (_with_credit_check("90350100M000100Y4"), "credit_code_entity_type"),
        (_with_credit_check("9A350100M000100Y4"), "credit_code_entity_type"),
        (_with_credit_check("913501A0M000100Y4"), "credit_code_division"),
    ],
)
def test_invalid_credit_codes(raw: str, code: str) -> None:
    with pytest.raises(IdentityError) as caught:
        validate_credit_code(raw)
    assert caught.value.code == code


def test_credit_checksum_matches_independent_formulation() -> None:
    for body in ("91350100M000100Y4", "91440300192203821", "12500000MB1234567"):
        assert credit_code_check_char(body) == _with_credit_check(body)[-1]


# --- Phone numbers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("19912345678", "19912345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("023-12345678", "023-12345678"),
        ("02312345678", "023-12345678"),
        ("(023) 6123 4567", "023-61234567"),
        ("（023）61234567", "023-61234567"),
        ("+86 23 61234567", "023-61234567"),
        ("+86 10 61234567", "010-61234567"),  # Beijing: starts with 1, still a landline
        ("010-61234567", "010-61234567"),
        ("0755-1234567", "0755-1234567"),
        ("07551234567", "0755-1234567"),
        ("0851-86123456", "0851-86123456"),
    ],
)
def test_valid_phones_are_normalised(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12812345678",  # no mobile range starts 12
        "1381234567",  # 10 digits
        "138123456789",  # 12 digits
        "12345678",  # local number without area code
        "023-0234567",  # local part starting with 0
        "023-123456",  # local part too short
        "023-123456789",  # local part too long
        "011-61234567",  # no 3-digit area code 011
        "+1 415 555 0100",
        "86 23 61234567",  # bare 86 only accepted before a mobile
        "13812345678 ext 12",
    ],
)
def test_invalid_phones(raw: str) -> None:
    with pytest.raises(IdentityError) as caught:
        normalize_phone(raw)
    assert caught.value.code == "phone_format"
