"""``cylinder-trace scans verify-chains``: prove that no scan record was edited or removed."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from cylinder_trace.db import get_database
from cylinder_trace.scans.chain import verify_chains


@click.group("scans")
def scans_cli() -> None:
    """Scan records."""


@scans_cli.command("verify-chains")
@with_appcontext
def verify_chains_command() -> None:
    """Recompute every scan chain; name each record that was altered or removed.

    Exits with status 1 when anything was found, so a scheduled job can alert on it.
    """
    with get_database().session_scope() as session:
        checked, problems = verify_chains(session)
    for problem in problems:
        click.echo(str(problem))
    click.echo(f"{checked} records checked, {len(problems)} problems")
    if problems:
        raise SystemExit(1)
