"""Administrative division codes and jurisdictions."""

from __future__ import annotations

import pytest

from cylinder_trace.domain.jurisdiction import (
    DivisionCodeError,
    DivisionLevel,
    covers,
    division_level,
    division_prefix,
    is_division_code,
    validate_division_code,
)


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("500000", DivisionLevel.PROVINCE),
        ("500100", DivisionLevel.CITY),
        ("500200", DivisionLevel.CITY),
        ("500111", DivisionLevel.COUNTY),
        ("500229", DivisionLevel.COUNTY),
        ("110105", DivisionLevel.COUNTY),
        ("429004", DivisionLevel.COUNTY),  # Xiantao, directly under Hubei province
        (" 510100 ", DivisionLevel.CITY),
    ],
)
def test_valid_codes(code: str, level: DivisionLevel) -> None:
    assert validate_division_code(code) == code.strip()
    assert division_level(code) is level
    assert is_division_code(code)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("50011", "division_code_format"),
        ("5001110", "division_code_format"),
        ("50011a", "division_code_format"),
        ("５００１１１", "division_code_format"),
        ("", "division_code_format"),
        ("000000", "division_code_province"),
        ("100000", "division_code_province"),
        ("990101", "division_code_province"),
        ("500011", "division_code_structure"),
    ],
)
def test_invalid_codes(code: str, error: str) -> None:
    with pytest.raises(DivisionCodeError) as caught:
        validate_division_code(code)
    assert caught.value.code == error
    assert caught.value.kind == "invalid"
    assert not is_division_code(code)


@pytest.mark.parametrize(
    ("jurisdiction", "code", "covered"),
    [
        ("500000", "500111", True),  # Chongqing city covers Dazu district
        ("500000", "500229", True),  # and its counties
        ("500000", "500000", True),
        ("500000", "500100", True),
        ("500000", "510104", False),  # Chengdu is Sichuan
        ("500100", "500111", True),
        ("500100", "500229", False),
        ("500100", "500100", True),
        ("500100", "500000", False),  # a city does not cover its province
        ("500111", "500111", True),
        ("500111", "500112", False),
        ("500111", "500100", False),
        ("500000", "50011", False),  # a malformed code is covered by nothing
        ("500000", "50abcd", False),
        ("500000", "500011", False),
    ],
)
def test_covers(jurisdiction: str, code: str, covered: bool) -> None:
    assert covers(jurisdiction, code) is covered


@pytest.mark.parametrize("jurisdiction", ["5000", "", "000000", "500011"])
def test_invalid_jurisdiction_raises(jurisdiction: str) -> None:
    with pytest.raises(DivisionCodeError):
        covers(jurisdiction, "500111")


@pytest.mark.parametrize(
    ("jurisdiction", "prefix"),
    [("500000", "50"), ("500100", "5001"), ("500200", "5002"), ("500111", "500111")],
)
def test_division_prefix(jurisdiction: str, prefix: str) -> None:
    assert division_prefix(jurisdiction) == prefix


def test_prefix_agrees_with_covers() -> None:
    jurisdictions = ["500000", "500100", "500200", "500111", "510000", "510100"]
    codes = ["500000", "500100", "500111", "500229", "510000", "510104", "110105"]
    for jurisdiction in jurisdictions:
        for code in codes:
            assert covers(jurisdiction, code) is code.startswith(division_prefix(jurisdiction))
