"""``cylinder-trace scans``: verify the chains; rebuild cylinder rows from their scans."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from cylinder_trace.db import get_database, utcnow
from cylinder_trace.scans.append_only import append_only_grants, grant_append_only
from cylinder_trace.scans.attribution import misattributed_scans
from cylinder_trace.scans.chain import cylinders_without_chain, verify_chains
from cylinder_trace.scans.checkpoints import CheckpointError, latest_checkpoint, take_checkpoint
from cylinder_trace.scans.rebuild import rebuild_projections
from cylinder_trace.web.current import settings


@click.group("scans")
def scans_cli() -> None:
    """Scan records."""


@scans_cli.command("verify-chains")
@with_appcontext
def verify_chains_command() -> None:
    """Recompute every scan chain; name each record that was altered or removed.

    Also holds the chains to the newest signed checkpoint (CT_CHECKPOINT_PATH), names
    every cylinder without a chain, every scan whose company is not the one its cylinder or
    scanner says, and every cylinder row its scans do not support.
    Exits with status 1 when anything was found, so a scheduled job can alert on it.
    """
    config = settings()
    found: list[str] = []
    try:
        checkpoint = latest_checkpoint(config.checkpoint_path, config.checkpoint_key)
    except CheckpointError as error:
        checkpoint = None
        found.append(f"checkpoint: {error}")
    with get_database().session_scope() as session:
        checked, problems = verify_chains(session, checkpoint)
        found += [str(problem) for problem in problems]
        found += [
            f"{code}: a cylinder without a chain" for code in cylinders_without_chain(session)
        ]
        found += [str(scan) for scan in misattributed_scans(session)]
        replayed, differences = rebuild_projections(
            session, config.rules, config.time_zone, write=False
        )
        found += [str(difference) for difference in differences]
    for line in found:
        click.echo(line)
    against = (
        f"checkpoint of {checkpoint.taken_at} ({len(checkpoint.heads)} chains)"
        if checkpoint is not None
        else "no checkpoint"
    )
    click.echo(
        f"{checked} records checked against {against}, {replayed} cylinders replayed, "
        f"{len(found)} problems"
    )
    if found:
        raise SystemExit(1)


@scans_cli.command("checkpoint")
@with_appcontext
def checkpoint_command() -> None:
    """Append a signed checkpoint of every chain head to CT_CHECKPOINT_PATH.

    Run it often (every few minutes, from a scheduler): records written after the newest
    checkpoint are not yet protected against someone who can write the database.
    """
    config = settings()
    with get_database().session_scope() as session:
        checkpoint = take_checkpoint(
            session, config.checkpoint_path, config.checkpoint_key, utcnow()
        )
    click.echo(
        f"checkpoint {checkpoint.taken_at}: {len(checkpoint.heads)} chains, "
        f"{checkpoint.records} records, in {config.checkpoint_path}"
    )


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
    config = settings()
    with get_database().session_scope() as session:
        checked, differences = rebuild_projections(
            session, config.rules, config.time_zone, write=not check
        )
    for difference in differences:
        click.echo(str(difference))
    verb = "differ" if check else "rewritten"
    rows = len({difference.code for difference in differences})
    click.echo(f"{checked} cylinders replayed, {rows} rows {verb}")
    if check and differences:
        raise SystemExit(1)


@scans_cli.command("grant-append-only")
@click.argument("role")
@click.option("--print", "print_only", is_flag=True, help="Print the statements; run nothing.")
@with_appcontext
def grant_append_only_command(role: str, print_only: bool) -> None:
    """Give ROLE (the service's database role) its rights, with scan records append-only.

    Run as the database owner after every migration: the role may insert scans but not
    update or delete them (only their current verdict, review_code). PostgreSQL only.
    """
    if print_only:
        for statement in append_only_grants(role):
            click.echo(statement + ";")
        return
    with get_database().session_scope() as session:
        if session.get_bind().dialect.name != "postgresql":
            raise click.ClickException("roles need PostgreSQL; SQLite has none")
        for statement in grant_append_only(session, role):
            click.echo(statement + ";")
