"""``cylinder-trace db check``: warn when the database runs with settings unfit for scale."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from cylinder_trace.db import get_database
from cylinder_trace.tuning.advice import assess, read_parameters, table_findings


@click.group("db")
def db_cli() -> None:
    """The database server."""


@db_cli.command("check")
@click.option("--strict", is_flag=True, help="Exit with status 1 when anything is warned.")
@with_appcontext
def check_command(strict: bool) -> None:
    """Hold the PostgreSQL server's parameters to what a province's data needs.

    Prints one line per parameter (ok or WARN, the value, what it should be and why; see
    docs/postgresql.md), the tables' storage options, and the read replica's lag if
    CT_REPLICA_DATABASE_URL is set. On SQLite, says that production
    runs on PostgreSQL. Exits 0, or with --strict 1 when anything was warned.
    """
    engine = get_database().engine
    if engine.dialect.name != "postgresql":
        click.echo(
            f"WARN the database is {engine.dialect.name}: the embedded default for trying the "
            "service; production runs on PostgreSQL (docs/postgresql.md)."
        )
        raise SystemExit(1 if strict else 0)
    with engine.connect() as connection:
        version = connection.exec_driver_sql("SHOW server_version").scalar()
        findings = assess(read_parameters(connection))
        tables = table_findings(connection)
    click.echo(f"PostgreSQL {version}")
    for finding in findings:
        click.echo(str(finding))
    for line in tables:
        click.echo(line)
    replica = _replica_line()
    if replica is not None:
        click.echo(replica)
    warned = (
        sum(not finding.ok for finding in findings)
        + len(tables)
        + (1 if replica and replica.startswith("WARN") else 0)
    )
    if warned:
        click.echo(
            f"{warned} warning(s): the server runs with settings unfit for a province's data."
        )
    else:
        click.echo("no warnings")
    raise SystemExit(1 if strict and warned else 0)


def _replica_line() -> str | None:
    """How far behind the configured read replica is, if there is one."""
    monitor = get_database().replica
    if monitor is None:
        return None
    lag = monitor.lag()
    if lag is None:
        return "WARN replica: unreachable or not a replica; authorities read the primary"
    state = "ok  " if lag <= monitor.max_lag else "WARN"
    limit = f"{monitor.max_lag:g}"
    return f"{state} replica: {lag:.1f} s behind (serves authorities' reads up to {limit} s)"
