"""Shared set-up for benchmarks: a PostgreSQL database of their own, migrated and seeded."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from cylinder_trace.config import normalise_database_url  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/cylinder_trace_bench"
SECRET = "benchmark-secret-key-long-enough-0123456789"


def bench_database_url(given: str | None) -> str:
    return normalise_database_url(given or os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL)


def fresh_database(url: str) -> None:
    """Create the database if needed, empty it, and build the schema with the migrations."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
            )
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    config = Config(str(REPO / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def app_for(url: str):  # type: ignore[no-untyped-def]
    from cylinder_trace import create_app

    return create_app(
        {"DATABASE_URL": url, "CT_ENV": "testing", "SECRET_KEY": SECRET, "CT_LOG_LEVEL": "WARNING"}
    )


def step(label: str) -> Callable[[], None]:
    """Print ``label`` now and, when the returned function is called, the seconds since."""
    started = time.perf_counter()
    print(f"  {label} …", end="", flush=True)

    def done() -> None:
        print(f" {time.perf_counter() - started:6.1f} s", flush=True)

    return done


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def vacuum_analyze(engine: Any) -> None:
    """VACUUM ANALYZE the database after a bulk load, as a restored dump would be."""
    done = step("VACUUM ANALYZE")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    done()
