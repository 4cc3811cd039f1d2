"""``cylinder-trace cylinders ...``: bulk import (and label sheets, see labels)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from cylinder_trace.cylinders import import_files, importing
from cylinder_trace.db import get_database
from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.roles import OrganisationKind
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.web.current import registry, settings


@click.group("cylinders")
def cylinders_cli() -> None:
    """The cylinder registry."""


@cylinders_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--company", "company_id", type=int, required=True, help="Owner gas company id")
@click.option("--station", "station_id", type=int, help="Default filling station id")
@with_appcontext
def import_command(path: Path, company_id: int, station_id: int | None) -> None:
    """Register cylinders from a CSV or XLSX file, reporting each bad row.

    Good rows are stored even when others are bad; rows already registered with the same
    data are left as they are, so running the same file twice changes nothing.
    """
    config = settings()
    with get_database().session_scope() as session:
        owner = session.get(Organisation, company_id)
        if owner is None or owner.kind != OrganisationKind.GAS_COMPANY:
            raise click.ClickException(f"No gas company {company_id}.")
        stations = list(
            session.scalars(
                select(Organisation).where(
                    Organisation.parent_id == owner.id,
                    Organisation.kind == OrganisationKind.FILLING_STATION,
                )
            )
        )
        default = next((s for s in stations if s.id == station_id), None)
        if station_id is not None and default is None:
            raise click.ClickException(f"{station_id} is not a filling station of {owner.name}.")
        try:
            rows = list(
                import_files.rows_as_dicts(import_files.read_table(path.name, path.read_bytes()))
            )
        except DomainError as exc:
            raise click.ClickException(f"{exc.message} [{exc.code}]") from exc
        with click.progressbar(length=len(rows), label="Importing", file=sys.stderr) as bar:
            done = 0

            def advance(processed: int) -> None:
                nonlocal done
                bar.update(processed - done)
                done = processed

            report = importing.import_cylinders(
                session,
                rows,
                owner=owner,
                stations=stations,
                default_station=default,
                rules=config.rules,
                today=datetime.now(config.time_zone).date(),
                on_progress=advance,
            )
    for error in report.errors:
        click.echo(f"row {error.row}: {error.code}: {error.message} ({error.cylinder_code or '-'})")
    click.echo(
        f"{report.rows} rows: {report.created} created, {report.unchanged} unchanged, "
        f"{report.rejected} rejected"
    )


@cylinders_cli.command("labels")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--company", "company_id", type=int, help="Owner gas company id")
@click.option("--station", "station_id", type=int, help="Fixed filling station id")
@click.option("--from", "code_from", help="First code (inclusive)")
@click.option("--to", "code_to", help="Last code (inclusive)")
@click.option("--model", help="Only this model, e.g. YSP35.5")
@click.option("--layout", default="50x30", show_default=True, help="A layout in labels/")
@click.option(
    "--format", "fmt", type=click.Choice(["pdf", "zpl"]), default="pdf", show_default=True
)
@with_appcontext
def labels_command(
    out: Path,
    company_id: int | None,
    station_id: int | None,
    code_from: str | None,
    code_to: str | None,
    model: str | None,
    layout: str,
    fmt: str,
) -> None:
    """Print a label sheet (A4 PDF or ZPL) for a code range or a filter, with a progress bar.

    Scrapped cylinders are left out: their codes are revoked.
    """
    from cylinder_trace import qr_labels as labels
    from cylinder_trace.cylinders.label_printing_api import (
        iter_label_data,
        label_font,
        load_layout,
        sheet_cylinders,
    )
    from cylinder_trace.cylinders.models import Cylinder
    from cylinder_trace.cylinders.services import filter_cylinders

    filters = {
        "owner_company_id": company_id,
        "filling_station_id": station_id,
        "code_from": code_from,
        "code_to": code_to,
        "model": model,
    }
    config = settings()
    try:
        sheet_layout = load_layout(layout, config)
        font = label_font(config)
    except DomainError as exc:
        raise click.ClickException(f"{exc.message} [{exc.code}]") from exc
    statement = sheet_cylinders(filter_cylinders(select(Cylinder), filters))
    with get_database().session_scope() as session:
        total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        if total == 0:
            raise click.ClickException("No cylinder matches the filters.")
        data = iter_label_data(session, statement, registry().label_signer)
        with click.progressbar(length=total, label="Labels", file=sys.stderr) as bar:
            if fmt == "zpl":
                with out.open("w", encoding="utf-8") as handle:
                    for chunk in labels.labels_zpl(data, sheet_layout, font=font):
                        handle.write(chunk)
                        bar.update(1)
            else:
                done = 0

                def advance(count: int, _total: int | None = None) -> None:
                    nonlocal done
                    bar.update(count - done)
                    done = count

                labels.write_pdf(
                    data, sheet_layout, out, total=total, on_progress=advance, font=font
                )
    click.echo(f"{total} labels written to {out}")
