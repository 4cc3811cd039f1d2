"""Set-wise reads and writes: one statement for many rows, whatever their number.

On PostgreSQL a list of keys travels as one array parameter (``= ANY(...)``) and rows to
write as one JSON document (``json_to_recordset``), so a statement about 500 rows has one
parameter instead of thousands of placeholders for the driver to parse and the server to
plan, and several such writes go together in one statement. Elsewhere (SQLite) the same
calls fall back to IN lists and executemany.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import orjson
import psycopg
from sqlalchemy import Connection, Table, any_, bindparam, insert, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ColumnElement


def one_of(
    column: Any, name: str, dialect_name: str, *, single: bool = False
) -> ColumnElement[bool]:
    """``column`` equals one of the list bound as ``name``: ``= ANY(array)`` on PostgreSQL.

    With ``single`` the parameter is one value and the test a plain ``=`` (bind it with
    ``keys_param``). This matters for prepared statements: PostgreSQL keeps planning one
    with an array parameter afresh on every execution, because the plan for the actual
    array (mostly of one key) always looks cheaper than the generic plan, which assumes ten
    keys; with a plain ``=`` both plans cost the same and the generic one is kept.
    """
    if single:
        return column == bindparam(name)
    if dialect_name == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def keys_param(name: str, keys: Sequence[Any]) -> dict[str, Any]:
    """The parameter for ``one_of(..., single=len(keys) == 1)``."""
    return {name: keys[0] if len(keys) == 1 else list(keys)}


# As bytes: psycopg would otherwise encode the text again on every execution.
_COMPILED: dict[Executable, bytes] = {}


def fetch(connection: Connection, statement: Executable, params: dict[str, Any]) -> list[Any]:
    """Rows of a statement built once (module level, bound parameters by name).

    On PostgreSQL it runs straight on the driver as a prepared statement (parsed once per
    connection, and planned once too where PostgreSQL settles on the generic plan: see
    ``one_of``), and values come back as psycopg gives them: no SQLAlchemy result
    processing. Elsewhere it runs through SQLAlchemy.
    """
    if connection.dialect.name != "postgresql":
        return list(connection.execute(statement, params))
    sql = _COMPILED.get(statement)
    if sql is None:
        compiled = str(statement.compile(dialect=connection.dialect))
        sql = _COMPILED[statement] = compiled.encode()
    with connection.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchall()


def _json_default(value: Any) -> Any:
    # orjson writes dates, instants, UUIDs and enums itself; only exact numbers come here,
    # sent as text so that PostgreSQL reads them digit for digit.
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def _recordset(table: Table, names: Sequence[str], param: str, conn: Connection) -> str:
    """``json_to_recordset(%(param)s::json) AS v(name type, ...)``.

    The rows travel as one JSON document: encoding it is one C call, and PostgreSQL reads
    each value with its column type's own input function. Faster, measured here, than an
    array per column (which psycopg builds in Python) and than COPY row by row.
    """
    return f"json_to_recordset(%({param})s::json) AS v({_column_list(table, tuple(names), conn)})"


_COLUMN_LISTS: dict[tuple[str, tuple[str, ...]], str] = {}


def _column_list(table: Table, names: tuple[str, ...], conn: Connection) -> str:
    """``name type, ...`` for the columns, compiled once (compiling types is not cheap)."""
    key = (table.name, names)
    text = _COLUMN_LISTS.get(key)
    if text is None:
        text = ", ".join(
            f"{name} {table.c[name].type.compile(dialect=conn.dialect)}" for name in names
        )
        _COLUMN_LISTS[key] = text
    return text


def _payload(rows: Sequence[dict[str, Any]]) -> str:
    # orjson writes dates, instants, UUIDs and enums itself (as PostgreSQL reads them),
    # several times faster than json.dumps calling back into Python for each of them.
    return orjson.dumps(list(rows), default=_json_default).decode("utf-8")


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
        self._writes = 0  # write parts so far (the others hold rows they read)
        self._params: dict[str, Any] = {}
        self._returning: Sequence[str] = ()
        self._returned = ""  # the WITH part whose rows the statement answers with
        self._guard = ""  # the WITH part whose rows later parts depend on (unless_stored)
        self._generic: list[tuple[Any, list[dict[str, Any]], bool]] = []

    def insert(
        self,
        table: Table,
        rows: Sequence[dict[str, Any]],
        returning: Sequence[str] = (),
        *,
        unless_stored: str | None = None,
        as_json: Sequence[str] | None = None,
    ) -> None:
        """Insert ``rows``; at most one insert may ask for ``returning`` columns.

        ``unless_stored`` (PostgreSQL only, first part only) names a unique column: rows
        whose value is already stored are left out, and if none goes in, neither does any
        later part. For a single new row that makes a look-up before the write unneeded.
        ``as_json`` (PostgreSQL) gives the rows already encoded, one JSON object each.
        """
        if not rows:
            return
        names = list(rows[0])
        if not self.postgresql:
            statement = insert(table)
            if returning:
                statement = statement.returning(*(table.c[name] for name in returning))
            self._generic.append((statement, list(rows), bool(returning)))
            return
        columns = ", ".join(names)
        if unless_stored is not None:
            if self._parts or not self.postgresql:
                raise ValueError("unless_stored: the first part, on PostgreSQL only")
            source = self._rows(table, names, rows, as_json)
            # Not NOT EXISTS: the planner turns that into an anti-join and, taking the
            # recordset for 100 rows, hashes a sequential scan of the whole table.
            sql = (
                f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {source} AS v "
                f"WHERE v.{unless_stored} <> ALL(ARRAY("
                f"SELECT stored.{unless_stored} FROM {table.name} AS stored "
                f"WHERE stored.{unless_stored} = ANY(ARRAY(SELECT {unless_stored} FROM {source}))"
                "))"
            )
            self._guard = self._next_name()
            returning = returning or (unless_stored,)
        else:
            param = self._param(rows, as_json)
            sql = (
                f"INSERT INTO {table.name} ({columns}) SELECT {columns} "
                f"FROM {_recordset(table, names, param, self.connection)}"
            )
            if self._guard:
                sql += f" WHERE EXISTS (SELECT 1 FROM {self._guard})"
        if returning:
            self._returning = returning
            sql += f" RETURNING {', '.join(returning)}"
        self._add(sql, returning=bool(returning))

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
        assignments = ", ".join(f"{name} = v.{name}" for name in others)
        source = self._rows(table, names, rows)
        # The keys again, as an array: the planner takes any recordset for 100 rows and
        # would rather hash-join a seq scan of the whole table than probe its index.
        self._add(
            f"UPDATE {table.name} SET {assignments} FROM {source} AS v "
            f"WHERE {table.name}.{key} = v.{key} "
            f"AND {table.name}.{key} = ANY(ARRAY(SELECT {key} FROM {source}))"
            + (f" AND EXISTS (SELECT 1 FROM {self._guard})" if self._guard else "")
        )

    def _rows(
        self,
        table: Table,
        names: Sequence[str],
        rows: Sequence[dict[str, Any]],
        as_json: Sequence[str] | None = None,
    ) -> str:
        """A WITH part holding the rows, for a part that reads them twice; its name.

        MATERIALIZED, so the JSON is parsed once (per reference it would be parsed again).
        """
        param = self._param(rows, as_json)
        name = f"{self._next_name()}_rows"
        source = _recordset(table, names, param, self.connection)
        self._parts.append(f"{name} AS MATERIALIZED (SELECT * FROM {source})")
        return name

    def _param(self, rows: Sequence[dict[str, Any]], as_json: Sequence[str] | None) -> str:
        param = f"p{len(self._params)}"
        self._params[param] = _payload(rows) if as_json is None else f"[{','.join(as_json)}]"
        return param

    def _next_name(self) -> str:
        """The name the next write part will get."""
        return f"w{self._writes}"

    def _add(self, sql: str, *, returning: bool = False) -> None:
        name = self._next_name()
        self._writes += 1
        self._parts.append(f"{name} AS ({sql})")
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
        with self.connection.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
            # Prepared: a batch's statement has the same text every time (one per set of parts).
            try:
                cursor.execute(sql, self._params, prepare=True)
            except psycopg.Error as error:
                # Raised as SQLAlchemy raises driver errors (IntegrityError...), so that callers
                # and the error handler need to know one family; the parameters (names, ID
                # hashes) are never put in the message.
                raise DBAPIError.instance(
                    sql, None, error, psycopg.Error, hide_parameters=True
                ) from error
            return cursor.fetchall() if self._returning else []
