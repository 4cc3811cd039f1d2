"""Database plumbing: the declarative base, engines for SQLite and PostgreSQL, sessions.

Services take a ``Session`` and flush; they never commit. The request (see ``app.py``) or the
CLI command (``session_scope``) is the one place that commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, TypeVar

from flask import current_app, g
from sqlalchemy import CheckConstraint, DateTime, Engine, MetaData, String, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An instant: stored in UTC, always returned timezone-aware.

    SQLite keeps no offset, and PostgreSQL returns the session's zone; this type makes
    both give back the same aware UTC value, and refuses naive datetimes on the way in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given where an instant is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


E = TypeVar("E", bound=StrEnum)


class EnumText(TypeDecorator[E]):
    """A StrEnum stored as its text value; pair it with ``enum_check`` for the database side."""

    impl = String(32)
    cache_ok = True

    def __init__(self, enum: type[E]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


def enum_check(column: str, enum: type[StrEnum], name: str | None = None) -> CheckConstraint:
    """A CHECK that the column holds one of the enum's values."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=name or f"{column}_valid")


def digits_check(column: str, length: int, name: str | None = None) -> CheckConstraint:
    """A CHECK that the column is exactly ``length`` ASCII digits, portable to SQLite and PG."""
    return CheckConstraint(
        f"length({column}) = {length} AND ltrim({column}, '0123456789') = ''",
        name=name or f"{column}_digits",
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and emits BEGIN lazily; the
    # SQLAlchemy-documented recipe hands transaction control to SQLAlchemy instead.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 10000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


NEVER_AUTOMATICALLY = 2**31 - 1


def describe_database_error(error: BaseException) -> str:
    """What may be logged of a database error: its kind, state, constraint and place.

    Never the driver's message: PostgreSQL repeats the offending values in it ("Failing
    row contains (...)", "Key (id_number_hash)=(...) already exists", "invalid input syntax
    for type integer: ..."), and those are personal data.
    """
    orig = getattr(error, "orig", None) or error
    parts = [f"{type(error).__name__}({type(orig).__module__}.{type(orig).__name__})"]
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)
    if sqlstate:
        parts.append(f"state {sqlstate}")
    diag = getattr(orig, "diag", None)
    for name in ("table_name", "column_name", "constraint_name"):
        value = getattr(diag, name, None) if diag is not None else None
        if value:
            parts.append(f"{name.removesuffix('_name')} {value}")
    statement = getattr(error, "statement", None)
    if statement:
        # The statement's text holds placeholders, not values.
        parts.append("in: " + " ".join(str(statement).split())[:300])
    return "; ".join(parts)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for SQLite (WAL, foreign keys on) or PostgreSQL (psycopg 3)."""
    if url.startswith("sqlite"):
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 10}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        engine = create_engine(url, echo=echo, hide_parameters=True, **kwargs)
        _configure_sqlite(engine)
        return engine
    # psycopg would prepare every statement after 5 runs, and PostgreSQL then may switch to a
    # generic plan that ignores the values: a 500-item IN list went from 8 ms to 370 ms that
    # way. So nothing is prepared automatically (the threshold is never reached); the few
    # hot statements of fixed shape ask for it (cylinder_trace.bulk.fetch). Behind PgBouncer
    # that needs its max_prepared_statements (1.21+).
    return create_engine(
        url,
        echo=echo,
        # Parameters are names, phones, addresses and ID hashes: never in a message or a log.
        hide_parameters=True,
        # Recycling old connections instead of pinging before every checkout saves a round
        # trip per request; a connection dropped meanwhile fails one request, not silently.
        pool_recycle=1800,
        pool_size=5,
        max_overflow=10,
        connect_args={"prepare_threshold": NEVER_AUTOMATICALLY},
    )


class Database:
    """The engine and session factory of one app; tests may rebind the factory."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.engine = make_engine(url, echo=echo)
        self.session_factory: sessionmaker[Session] = sessionmaker(
            bind=self.engine, expire_on_commit=False
        )
        # A ``replicas.ReplicaMonitor`` when reads may go to a streaming replica (set by
        # create_app: the monitor shares this engine).
        self.replica: Any = None

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def new_session(self) -> Session:
        return self.session_factory()

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """A session for a CLI command or a script: commits if the block succeeds."""
        session = self.new_session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
        if self.replica is not None:
            self.replica.replica.dispose()


def get_database() -> Database:
    return current_app.extensions["cylinder_trace.db"]


def copy_rows(session: Session, table: str, rows: list[dict[str, Any]]) -> bool:
    """Insert many rows by PostgreSQL COPY in the session's transaction; False elsewhere.

    COPY skips SQLAlchemy's type processing, so values are adapted here: enums as their
    text, dicts and lists as JSON. Measured here, 10,000 cylinder rows took 0.6 s by COPY
    against 2.5 s by the driver's executemany and 4 s through the ORM.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql" or not rows:
        return False
    from psycopg.types.json import Json

    def adapt(value: Any) -> Any:
        if isinstance(value, StrEnum):
            return value.value
        if isinstance(value, dict | list):
            return Json(value)
        return value

    columns = list(rows[0])
    raw = connection.connection.driver_connection
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for row in rows:
            copy.write_row([adapt(row[column]) for column in columns])
    return True


def keep_changes_on_error() -> None:
    """Commit this request's changes even though it answers with an error.

    For the one case where a refusal must itself be recorded (a refused fill, for the
    regulator) while the caller is told no.
    """
    g.keep_changes_on_error = True


# Requests that only read: an authority's may go to the replica.
READ_METHODS = frozenset({"GET", "HEAD"})


def read_from_replica() -> bool:
    """Let the rest of this request read a streaming replica, if there is one and it keeps
    up (``replicas``); True if it will. For requests that only read: the replica's session
    never writes, and the request's own session (the token's last use) still commits."""
    monitor = get_database().replica
    if monitor is None or not monitor.usable():
        return False
    g.replica_session = Session(bind=monitor.replica, expire_on_commit=False)
    return True


def get_session() -> Session:
    """The session of the current request, opened on first use (on the replica once
    ``read_from_replica`` said so)."""
    replica = g.get("replica_session")
    if replica is not None:
        return replica
    session = g.get("db_session")
    if session is None:
        session = get_database().new_session()
        g.db_session = session
    return session
