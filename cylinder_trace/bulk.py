"""Set-wise reads and writes: one statement for many rows, whatever their number.

On PostgreSQL a list of keys travels as one array parameter (``= ANY(...)``) and rows to
write as one JSON document (``json_to_recordset``), so a statement about 500 rows has one
parameter instead of thousands of placeholders for the driver to parse and the server to
plan, and several such writes go together in one statement. Elsewhere (SQLite) the same
calls fall back to IN lists and executemany.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, any_, bindparam, insert, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement


def one_of(column: Any, values: Iterable[Any], dialect_name: str) -> ColumnElement[bool]:
    """``column`` equals one of ``values``: ``= ANY(array)`` on PostgreSQL, IN elsewhere."""
    values = list(values)
    if dialect_name == "postgresql":
        array = bindparam(None, values, type_=postgresql.ARRAY(column.type))
        return column == any_(array)
    return column.in_(values)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def _recordset(table: Table, names: Sequence[str], param: str, conn: Connection) -> str:
    """``json_to_recordset(%(param)s::json) AS v(name type, ...)``.

    The rows travel as one JSON document: encoding it is one C call, and PostgreSQL reads
    each value with its column type's own input function. Faster, measured here, than an
    array per column (which psycopg builds in Python) and than COPY row by row.
    """
    types = ", ".join(
        f"{name} {table.c[name].type.compile(dialect=conn.dialect)}" for name in names
    )
    return f"json_to_recordset(%({param})s::json) AS v({types})"


def _payload(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps(list(rows), default=_json_default, ensure_ascii=False)


class BulkWrite:
    """Inserts and updates of many rows, sent as one statement on PostgreSQL.

    There the parts become the data-modifying statements of one ``WITH``: PostgreSQL runs
    each to completion, all on the same snapshot, so the parts must touch different rows
    (they do: new scans, new chain heads, moved chain heads, cylinders). Elsewhere they
    run one after another, by executemany. Each part's rows are dicts with the same keys,
    holding values as the columns do (aware datetimes, enums, dicts for JSON).
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgresql = connection.dialect.name == "postgresql"
        self._parts: list[str] = []
        self._params: dict[str, str] = {}
        self._returning: Sequence[str] = ()
        self._returned = ""  # the WITH part whose rows the statement answers with
        self._generic: list[tuple[Any, list[dict[str, Any]], bool]] = []

    def insert(
        self, table: Table, rows: Sequence[dict[str, Any]], returning: Sequence[str] = ()
    ) -> None:
        """Insert ``rows``; at most one insert may ask for ``returning`` columns."""
        if not rows:
            return
        names = list(rows[0])
        if not self.postgresql:
            statement = insert(table)
            if returning:
                statement = statement.returning(*(table.c[name] for name in returning))
            self._generic.append((statement, list(rows), bool(returning)))
            return
        param = f"p{len(self._parts)}"
        columns = ", ".join(names)
        sql = (
            f"INSERT INTO {table.name} ({columns}) SELECT {columns} "
            f"FROM {_recordset(table, names, param, self.connection)}"
        )
        if returning:
            self._returning = returning
            sql += f" RETURNING {', '.join(returning)}"
        self._add(sql, param, rows, returning=bool(returning))

    def update(self, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
        """Update each row found by ``key`` with the row's other values."""
        if not rows:
            return
        names = list(rows[0])
        others = [name for name in names if name != key]
        if not self.postgresql:
            statement = (
                update(table)
                .where(table.c[key] == bindparam("_key"))
                .values({name: bindparam(f"v_{name}") for name in others})
            )
            params = [
                {"_key": row[key], **{f"v_{name}": row[name] for name in others}} for row in rows
            ]
            self._generic.append((statement, params, False))
            return
        param = f"p{len(self._parts)}"
        assignments = ", ".join(f"{name} = v.{name}" for name in others)
        self._add(
            f"UPDATE {table.name} SET {assignments} "
            f"FROM {_recordset(table, names, param, self.connection)} "
            f"WHERE {table.name}.{key} = v.{key}",
            param,
            rows,
        )

    def _add(
        self, sql: str, param: str, rows: Sequence[dict[str, Any]], *, returning: bool = False
    ) -> None:
        name = f"w{len(self._parts)}"
        self._parts.append(f"{name} AS ({sql})")
        self._params[param] = _payload(rows)
        if returning:
            self._returned = name

    def execute(self) -> list[tuple[Any, ...]]:
        """Run every part; return the rows of the insert that asked for ``returning``."""
        if not self.postgresql:
            returned: list[tuple[Any, ...]] = []
            for statement, rows, returns in self._generic:
                if returns:
                    result = self.connection.execute(
                        statement, rows, execution_options={"render_nulls": True}
                    )
                    returned = [tuple(row) for row in result]
                else:
                    self.connection.execute(statement, rows)
            return returned
        if not self._parts:
            return []
        final = f"SELECT * FROM {self._returned}" if self._returning else "SELECT 1"
        sql = f"WITH {', '.join(self._parts)} {final}"
        result = self.connection.exec_driver_sql(sql, self._params)
        return [tuple(row) for row in result] if self._returning else []
