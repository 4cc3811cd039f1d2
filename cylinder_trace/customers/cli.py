"""``cylinder-trace customers reencrypt``: move stored ID numbers onto the current PII key."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from cylinder_trace.customers.services import (
    count_id_numbers_under_current_key,
    reencrypt_id_number_batch,
)
from cylinder_trace.db import get_database
from cylinder_trace.web.current import registry


@click.group("customers")
def customers_cli() -> None:
    """Customers (real-name purchase)."""


@customers_cli.command("reencrypt")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="ID numbers re-encrypted and committed together",
)
@click.option("--dry-run", is_flag=True, help="Decrypt and count, change nothing")
@with_appcontext
def reencrypt_command(batch_size: int, dry_run: bool) -> None:
    """Re-encrypt every customer ID number not under the current key (the first of CT_PII_KEYS).

    Unlike other commands this one commits after each batch, in customer id order, so a
    long run can be interrupted and run again: each committed batch is complete, and
    numbers already under the current key are left alone. A number no configured key
    decrypts is left as it is and named; the command then exits with status 1, and the
    old key must stay until it is dealt with.
    """
    vault = registry().pii_vault
    verb = "would be re-encrypted" if dry_run else "re-encrypted"
    reencrypted = 0
    failures: list[tuple[int, str]] = []
    with get_database().session_scope() as session:
        already_current = count_id_numbers_under_current_key(session, vault)
        after_id = 0
        while True:
            batch = reencrypt_id_number_batch(
                session, vault, after_id=after_id, batch_size=batch_size, dry_run=dry_run
            )
            if batch.last_id is None:
                break
            if not dry_run:
                session.commit()
            reencrypted += batch.reencrypted
            failures += batch.failures
            for customer_id, why in batch.failures:
                click.echo(f"customer {customer_id}: ID number not re-encrypted: {why}", err=True)
            click.echo(f"up to customer {batch.last_id}: {reencrypted} {verb}")
            after_id = batch.last_id
    click.echo(
        f"{reencrypted} {verb}, {already_current} already under key {vault.current_key_id}, "
        f"{len(failures)} failed" + (" (dry run: nothing changed)" if dry_run else "")
    )
    if failures:
        raise click.ClickException(
            f"Not re-encrypted: customers {_id_list([i for i, _ in failures])} (their ID "
            "numbers do not decrypt with any configured key, or do not match their lookup "
            "hash). Keep every old key in CT_PII_KEYS until they are dealt with."
        )


def _id_list(ids: list[int], shown: int = 10) -> str:
    listed = ", ".join(map(str, ids[:shown]))
    return listed if len(ids) <= shown else f"{listed} and {len(ids) - shown} more"
