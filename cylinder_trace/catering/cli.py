"""``cylinder-trace catering prune-files``: remove check photos no check refers to."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext

from cylinder_trace.catering.files import prune_unreferenced_files
from cylinder_trace.db import get_database, utcnow
from cylinder_trace.web.current import registry


@click.group("catering")
def catering_cli() -> None:
    """Catering users' checks."""


@catering_cli.command("prune-files")
@click.option(
    "--older-than-hours",
    type=click.IntRange(min=1),
    default=24,
    show_default=True,
    help="Only files untouched this long (a newer one may belong to a check being saved).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@with_appcontext
def prune_files(older_than_hours: int, dry_run: bool) -> None:
    """Remove stored photos and signatures that no check refers to.

    They are left behind when saving a check fails after its files were written. Files a
    check refers to are never touched. Safe to run while the service runs, e.g. daily.
    """
    store = registry().file_store
    with get_database().session_scope() as session:
        result = prune_unreferenced_files(
            session,
            store,
            older_than=timedelta(hours=older_than_hours),
            now=utcnow(),
            dry_run=dry_run,
        )
    verb = "would remove" if dry_run else "removed"
    click.echo(
        f"{store.root}: {result.referenced} files in use, {result.too_recent} too recent to "
        f"judge; {verb} {len(result.removed)} unreferenced ({result.bytes_removed:,} bytes) "
        f"and {result.removed_partial} unfinished uploads"
    )
