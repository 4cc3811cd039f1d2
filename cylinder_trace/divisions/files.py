"""Reading a CSV of divisions (``code,name``), every row checked before any is used."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources

from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.jurisdiction import DivisionCodeError, division_level

NAME_MAX = 100
PACKAGED = "gbt2260.csv"


@dataclass(frozen=True, slots=True)
class DivisionRow:
    code: str
    name: str
    level: str


class DivisionFileInvalid(DomainError):
    """A divisions file with rows that are not divisions: nothing of it is loaded."""

    code = "divisions_file_invalid"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            f"{len(problems)} row(s) of the file are not divisions; nothing was loaded.",
            details={"rows": problems},
        )
        self.problems = problems


def read_divisions(text: str) -> list[DivisionRow]:
    """The rows of a ``code,name`` CSV (a header row is optional); DivisionFileInvalid
    naming every bad row (line number and why) if any is bad, or a code repeats."""
    rows: list[DivisionRow] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not fields or not any(field.strip() for field in fields):
            continue
        if number == 1 and fields[0].strip().lower() == "code":
            continue
        if len(fields) != 2:
            problems.append(f"line {number}: expected code,name, got {len(fields)} fields")
            continue
        code, name = fields[0].strip(), fields[1].strip()
        try:
            level = division_level(code)
        except DivisionCodeError as error:
            problems.append(f"line {number}: {error.message}")
            continue
        if not name or len(name) > NAME_MAX:
            problems.append(f"line {number}: a name of 1 to {NAME_MAX} characters is needed")
            continue
        if code in seen:
            problems.append(f"line {number}: {code} repeats line {seen[code]}")
            continue
        seen[code] = number
        rows.append(DivisionRow(code, name, str(level)))
    if problems:
        raise DivisionFileInvalid(problems)
    return rows


def packaged_divisions() -> list[DivisionRow]:
    """The divisions the package ships (province level; Chongqing in full)."""
    text = resources.files("cylinder_trace.divisions").joinpath(PACKAGED).read_text("utf-8")
    return read_divisions(text)
