"""``cylinder-trace scans``: verify the chains; rebuild cylinder rows from their scans."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from cylinder_trace.db import get_database
from cylinder_trace.scans.chain import verify_chains
from cylinder_trace.scans.rebuild import rebuild_projections


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


@scans_cli.command("rebuild-projections")
@click.option(
    "--check", is_flag=True, help="Only report rows their scans do not support; change nothing."
)
@with_appcontext
def rebuild_projections_command(check: bool) -> None:
    """Replay every cylinder's scans and rewrite its row (state, flags, dates, whereabouts).

    The cylinder row is a cache of its history. Names every column the replay disagrees
    with; with --check writes nothing and exits with status 1 when anything differs.
    """
    settings = current_app.config["CT_SETTINGS"]
    with get_database().session_scope() as session:
        checked, differences = rebuild_projections(
            session, settings.rules, settings.time_zone, write=not check
        )
    for difference in differences:
        click.echo(str(difference))
    verb = "differ" if check else "rewritten"
    rows = len({difference.code for difference in differences})
    click.echo(f"{checked} cylinders replayed, {rows} rows {verb}")
    if check and differences:
        raise SystemExit(1)
