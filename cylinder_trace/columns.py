"""What the database's columns can hold: the one source of the bounds input is checked by.

A request (``web/edge.py``, ``web/bounds.py``) or an imported file (``cylinders/importing``)
holding more than this would reach the database and fail there, as a 500.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer, Numeric

# What each integer column type holds; a value outside it can be neither stored nor
# compared (PostgreSQL casts the parameter to the column's type, and fails).
INTEGER_RANGES: dict[type, tuple[int, int]] = {
    BigInteger: (-(2**63), 2**63 - 1),
    Integer: (-(2**31), 2**31 - 1),
}

_SURROGATE = re.compile("[\ud800-\udfff]")


def integer_range(sql_type: Any) -> tuple[int, int]:
    """The (min, max) an integer column of this type (a class or an instance) holds."""
    kind = sql_type if isinstance(sql_type, type) else type(sql_type)
    for candidate, bounds in INTEGER_RANGES.items():
        if issubclass(kind, candidate):
            return bounds
    raise TypeError(f"no integer range for {sql_type!r}")


def numeric_limit(column: Any) -> Decimal:
    """The largest magnitude a ``Numeric(precision, scale)`` column (or its type) holds."""
    sql_type = getattr(column, "type", column)
    if not isinstance(sql_type, Numeric) or sql_type.precision is None:
        raise TypeError(f"{column!r} is not a Numeric column with a precision")
    scale = sql_type.scale or 0
    return Decimal(10) ** (sql_type.precision - scale) - Decimal(10) ** -scale


def storable_text(text: str) -> bool:
    """No NUL (PostgreSQL refuses it) and no unpaired surrogate (no encoder writes one)."""
    return "\x00" not in text and (text.isascii() or _SURROGATE.search(text) is None)
