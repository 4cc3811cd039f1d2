"""``cylinder-trace divisions``: load and list the administrative divisions."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from cylinder_trace.db import get_database
from cylinder_trace.divisions.files import DivisionFileInvalid, read_divisions
from cylinder_trace.divisions.services import divisions_under, load_divisions
from cylinder_trace.domain.jurisdiction import DivisionCodeError


@click.group("divisions")
def divisions_cli() -> None:
    """Administrative divisions (GB/T 2260)."""


@divisions_cli.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def load_command(path: Path) -> None:
    """Add or rename divisions from a UTF-8 CSV of code,name (a header row is optional).

    Every row is checked first: a file with any bad row (not a division code, no name, a
    repeated code) loads nothing and names each bad row; exit status 1.
    """
    try:
        rows = read_divisions(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as error:
        raise click.ClickException(f"{path} is not UTF-8 text ({error.reason})") from None
    except DivisionFileInvalid as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        raise click.ClickException(error.message) from None
    with get_database().session_scope() as session:
        report = load_divisions(session, rows)
    click.echo(f"{report.added} added, {report.renamed} renamed, {report.unchanged} unchanged")


@divisions_cli.command("list")
@click.option("--under", help="Only this division and those below it (e.g. 500000).")
@with_appcontext
def list_command(under: str | None) -> None:
    """Print the known divisions, code and name, one a line."""
    with get_database().session_scope() as session:
        try:
            divisions = divisions_under(session, under)
        except DivisionCodeError as error:
            raise click.ClickException(error.message) from None
        for division in divisions:
            click.echo(f"{division.code} {division.name}")
