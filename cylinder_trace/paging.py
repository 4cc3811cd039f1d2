"""Pages of a list: cursors that stay as fast deep in a list as on its first page, and
counts that stay cheap however long the list is.

A cursor names the last row of a page by its sort key (a list's ``ORDER BY`` columns, the
last one unique); the next page is the rows after it: ``WHERE (k1, k2) > (:v1, :v2)``,
which an index in that order answers by reading just the page, where ``OFFSET`` would read
and throw away every row before it. A count stops at a limit: below it, it is exact; at it,
the answer says "at least" (``Page.total_exact``), for counting a million rows to print a
number costs more than the page itself.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, select, tuple_
from sqlalchemy.orm import Session

from cylinder_trace.domain.errors import DomainError

CURSOR_MAX = 200


@dataclass(frozen=True, slots=True)
class Keyset:
    """A list's sort key: its ORDER BY columns, ascending, the last one unique."""

    columns: tuple[Any, ...]

    def order(self, statement: Select[Any]) -> Select[Any]:
        return statement.order_by(None).order_by(*self.columns)

    def after(self, statement: Select[Any], cursor: str) -> Select[Any]:
        """The rows after the one ``cursor`` names (a 422 ``invalid_cursor`` for a bad one)."""
        values = self.decode(cursor)
        typed = [
            literal(value, column.type) for value, column in zip(values, self.columns, strict=True)
        ]
        condition: ColumnElement[bool]
        if len(self.columns) == 1:
            condition = self.columns[0] > typed[0]
        else:
            condition = tuple_(*self.columns) > tuple_(*typed)
        return statement.where(condition)

    def cursor(self, row: Any) -> str:
        """The cursor naming ``row`` (an ORM object with the key's attributes)."""
        values = [_plain(getattr(row, column.key)) for column in self.columns]
        text = json.dumps(values, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(text).decode().rstrip("=")

    def decode(self, cursor: str) -> list[Any]:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            if not isinstance(values, list) or len(values) != len(self.columns):
                raise ValueError("wrong length")
            return [
                _typed(value, column) for value, column in zip(values, self.columns, strict=True)
            ]
        except (ValueError, TypeError, UnicodeError, binascii.Error) as exc:
            raise DomainError(
                "The cursor is not one this list handed out; start again from the first page.",
                code="invalid_cursor",
                details={"after": ["Not a cursor of this list."]},
            ) from exc


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _python_type(column: Any) -> type:
    kind = column.type
    try:
        return kind.python_type
    except NotImplementedError:  # a TypeDecorator that does not say: its underlying type's
        return kind.impl_instance.python_type


def _typed(value: Any, column: Any) -> Any:
    kind = _python_type(column)
    if kind is datetime:
        if not isinstance(value, str):
            raise ValueError("not an instant")
        return datetime.fromisoformat(value)
    if kind is date:
        if not isinstance(value, str):
            raise ValueError("not a date")
        return date.fromisoformat(value)
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("not an integer")
        return value
    if kind is str:
        if not isinstance(value, str):
            raise ValueError("not a text")
        return value
    raise ValueError(f"unsupported key type {kind}")


@dataclass(slots=True)
class Page:
    """One page of a list: its rows, the count (exact, or a lower bound), the next cursor."""

    items: list[Any]
    total: int
    total_exact: bool
    next_cursor: str | None
    by_cursor: bool  # asked for by ``after`` rather than by page number


def capped_count(session: Session, statement: Select[Any], limit: int) -> tuple[int, bool]:
    """How many rows ``statement`` selects, counting no further than ``limit``: (count,
    exact). At the limit the count is a lower bound."""
    capped = statement.order_by(None).limit(limit + 1).subquery()
    count = session.scalar(select(func.count()).select_from(capped)) or 0
    return (limit, False) if count > limit else (count, True)


def page_of(
    session: Session,
    statement: Select[Any],
    *,
    keyset: Keyset,
    page_size: int,
    offset: int = 0,
    after: str | None = None,
    count_limit: int,
) -> Page:
    """One page of ``statement`` in ``keyset`` order: the rows after the cursor ``after``
    or, without one, from ``offset``; the count is ``capped_count``'s."""
    ordered = keyset.order(statement)
    total, exact = capped_count(session, ordered, count_limit)
    if after is not None:
        window = keyset.after(ordered, after).limit(page_size + 1)
    else:
        window = ordered.limit(page_size + 1).offset(offset)
    rows = list(session.scalars(window).unique())
    more = len(rows) > page_size
    rows = rows[:page_size]
    next_cursor = keyset.cursor(rows[-1]) if more and rows else None
    return Page(rows, total, exact, next_cursor, by_cursor=after is not None)
