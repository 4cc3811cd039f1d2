"""Administrative division codes (GB/T 2260) and what a jurisdiction covers.

A code is 6 digits: province (2), city level (2), county level (2). ``xx0000`` is a
province-level unit, ``xxyy00`` a city-level one, anything else a county-level one.
Chongqing is a province-level municipality: 500000 covers its districts (5001xx, such as
Dazu 500111) and its counties (5002xx, such as 500229). Inside a municipality the
city-level codes 5001 and 5002 only group districts and counties; they are kept as
ordinary city-level jurisdictions.
"""

from __future__ import annotations

from enum import StrEnum

from cylinder_trace.domain.errors import DomainError

# Province-level prefixes of GB/T 2260, plus 71 (Taiwan), 81 (Hong Kong), 82 (Macao)
# which GB 11643 and GB 32100 codes can carry.
_PROVINCES = "11-15 21-23 31-37 41-46 50-54 61-65 71 81 82"
PROVINCE_PREFIXES: frozenset[str] = frozenset(
    str(number)
    for span in _PROVINCES.split()
    for number in range(int(span[:2]), int(span[-2:]) + 1)
)


class DivisionCodeError(DomainError, ValueError):
    """A string that is not a usable administrative division code."""

    kind = "invalid"


class DivisionLevel(StrEnum):
    """How much of the country a division code names."""

    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


def validate_division_code(code: str) -> str:
    """Return the code stripped of whitespace if it is a valid division code.

    Raises DivisionCodeError with code ``division_code_format`` (not 6 ASCII digits),
    ``division_code_province`` (unknown province prefix) or ``division_code_structure``
    (a county part under city part 00, like 500011, which GB/T 2260 never uses).
    """
    value = code.strip()
    if len(value) != 6 or not value.isascii() or not value.isdigit():
        raise DivisionCodeError(
            f"An administrative division code is 6 digits, got {code!r}.",
            code="division_code_format",
        )
    if value[:2] not in PROVINCE_PREFIXES:
        raise DivisionCodeError(
            f"{value} does not start with a province code.", code="division_code_province"
        )
    if value[2:4] == "00" and value[4:] != "00":
        raise DivisionCodeError(
            f"{value} has a county part but no city part.", code="division_code_structure"
        )
    return value


def is_division_code(code: str) -> bool:
    """Whether ``code`` passes validate_division_code."""
    try:
        validate_division_code(code)
    except DivisionCodeError:
        return False
    return True


def division_level(code: str) -> DivisionLevel:
    """Province, city or county level of a valid code."""
    value = validate_division_code(code)
    if value.endswith("0000"):
        return DivisionLevel.PROVINCE
    if value.endswith("00"):
        return DivisionLevel.CITY
    return DivisionLevel.COUNTY


def division_prefix(jurisdiction: str) -> str:
    """The digits every code under a jurisdiction starts with.

    ``500000`` gives ``"50"``, ``500100`` gives ``"5001"``, ``500111`` gives itself.
    """
    value = validate_division_code(jurisdiction)
    level = division_level(value)
    if level is DivisionLevel.PROVINCE:
        return value[:2]
    if level is DivisionLevel.CITY:
        return value[:4]
    return value


def division_range(jurisdiction: str) -> tuple[str, str]:
    """The first and last code under a jurisdiction: the one definition of "covers".

    Codes are 6 ASCII digits (validated on write), so those under a prefix are exactly the
    strings between the prefix padded with 0s and with 9s. The database form
    (``cylinder_trace.access.in_jurisdiction``) and ``covers`` both use this range; the
    range, unlike LIKE 'prefix%', is served by a plain b-tree index on PostgreSQL.
    """
    prefix = division_prefix(jurisdiction)
    return prefix.ljust(6, "0"), prefix.ljust(6, "9")


def covers(jurisdiction: str, code: str) -> bool:
    """Whether an authority over ``jurisdiction`` oversees the division ``code``.

    A jurisdiction covers itself and every code below it. An invalid ``jurisdiction``
    raises DivisionCodeError (it is configuration that must be fixed); an invalid
    ``code`` is covered by nothing, so a malformed record never widens anyone's reach.
    """
    low, high = division_range(jurisdiction)
    return is_division_code(code) and low <= code.strip() <= high
