"""Command line: ``cylinder-trace ...`` or ``flask --app wsgi ...``.

Each command runs in one transaction and commits once at its end.
"""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select

from cylinder_trace.auth import tokens
from cylinder_trace.auth.models import ApiToken
from cylinder_trace.auth.page_sessions import end_user_sessions
from cylinder_trace.db import get_database, utcnow
from cylinder_trace.devices.models import Device
from cylinder_trace.devices.services import register_device
from cylinder_trace.domain.errors import DomainError
from cylinder_trace.domain.roles import DeviceKind, OrganisationKind, Role
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.organisations.services import create_organisation
from cylinder_trace.users.models import User
from cylinder_trace.users.services import create_user, set_password


def _fail_on_domain_error(error: DomainError) -> click.ClickException:
    return click.ClickException(f"{error.message} [{error.code}]")


def _get(session, model, ident: int, what: str):  # type: ignore[no-untyped-def]
    obj = session.get(model, ident)
    if obj is None:
        raise click.ClickException(f"No {what} {ident}.")
    return obj


@click.group("org")
def org_cli() -> None:
    """Organisations: gas companies, stations, supply points, bureaus, regulators."""


@org_cli.command("create")
@click.option("--kind", type=click.Choice([k.value for k in OrganisationKind]), required=True)
@click.option("--name", required=True)
@click.option("--division", "division_code", required=True, help="6-digit division code")
@click.option("--parent", "parent_id", type=int, help="Gas company id (stations, supply points)")
@click.option("--address")
@with_appcontext
def org_create(
    kind: str, name: str, division_code: str, parent_id: int | None, address: str | None
) -> None:
    """Register an organisation and print its id."""
    with get_database().session_scope() as session:
        parent = _get(session, Organisation, parent_id, "organisation") if parent_id else None
        try:
            org = create_organisation(
                session,
                kind=OrganisationKind(kind),
                name=name,
                division_code=division_code,
                parent=parent,
                address=address,
            )
        except DomainError as exc:
            raise _fail_on_domain_error(exc) from exc
        click.echo(f"{org.id}\t{org.kind.value}\t{org.name}")


@org_cli.command("list")
@with_appcontext
def org_list() -> None:
    """List all organisations."""
    with get_database().session_scope() as session:
        for org in session.scalars(select(Organisation).order_by(Organisation.id)):
            parent = org.parent_id or "-"
            click.echo(f"{org.id}\t{org.kind.value}\t{org.division_code}\t{parent}\t{org.name}")


@click.group("user")
def user_cli() -> None:
    """Users: one role in one organisation."""


@user_cli.command("create")
@click.option("--org", "org_id", type=int, required=True)
@click.option("--username", required=True)
@click.option("--name", "full_name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--phone")
@with_appcontext
def user_create(org_id: int, username: str, full_name: str, role: str, phone: str | None) -> None:
    """Register a user and print its id."""
    with get_database().session_scope() as session:
        org = _get(session, Organisation, org_id, "organisation")
        try:
            user = create_user(
                session,
                organisation=org,
                username=username,
                full_name=full_name,
                role=Role(role),
                phone=phone,
            )
        except DomainError as exc:
            raise _fail_on_domain_error(exc) from exc
        click.echo(f"{user.id}\t{user.username}\t{user.role.value}")


@user_cli.command("set-password")
@click.argument("username")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when left out (better: an option shows in the process list).",
)
@with_appcontext
def user_set_password(username: str, password: str) -> None:
    """Set the password a user signs in to the web pages with."""
    with get_database().session_scope() as session:
        user = session.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None:
            raise click.ClickException(f"No user {username!r}.")
        try:
            set_password(session, user, password)
        except DomainError as exc:
            raise _fail_on_domain_error(exc) from exc
        click.echo(f"password set for {user.username}")


@user_cli.command("end-sessions")
@click.argument("username")
@with_appcontext
def user_end_sessions(username: str) -> None:
    """Sign a user out of the web pages everywhere at once (API tokens stay: revoke those)."""
    with get_database().session_scope() as session:
        user = session.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None:
            raise click.ClickException(f"No user {username!r}.")
        ended = end_user_sessions(session, user)
        click.echo(f"{ended} session(s) of {user.username} ended")


@click.group("device")
def device_cli() -> None:
    """Registered scanning devices."""


@device_cli.command("create")
@click.option("--org", "org_id", type=int, required=True)
@click.option("--serial", "serial_no", required=True)
@click.option("--kind", type=click.Choice([k.value for k in DeviceKind]), default="handheld")
@click.option("--name", required=True)
@with_appcontext
def device_create(org_id: int, serial_no: str, kind: str, name: str) -> None:
    """Register a device and print its id."""
    with get_database().session_scope() as session:
        org = _get(session, Organisation, org_id, "organisation")
        try:
            device = register_device(
                session, organisation=org, serial_no=serial_no, kind=DeviceKind(kind), name=name
            )
        except DomainError as exc:
            raise _fail_on_domain_error(exc) from exc
        click.echo(f"{device.id}\t{device.serial_no}\t{device.kind.value}")


@click.group("token")
def token_cli() -> None:
    """API tokens (stored as hashes; the token is printed once)."""


@token_cli.command("create")
@click.option("--user", "user_id", type=int, help="User id")
@click.option("--device", "device_id", type=int, help="Device id")
@click.option("--name", default="cli", show_default=True)
@click.option("--days", type=int, help="Expire after this many days")
@with_appcontext
def token_create(user_id: int | None, device_id: int | None, name: str, days: int | None) -> None:
    """Issue a token for a user, a device, or both, and print it."""
    with get_database().session_scope() as session:
        user = _get(session, User, user_id, "user") if user_id else None
        device = _get(session, Device, device_id, "device") if device_id else None
        expires = utcnow() + timedelta(days=days) if days else None
        try:
            token, secret = tokens.issue_token(
                session, name=name, user=user, device=device, expires_at=expires
            )
        except DomainError as exc:
            raise _fail_on_domain_error(exc) from exc
        click.echo(f"token {token.id}: {secret}")


@token_cli.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def token_revoke(token_id: int) -> None:
    """Revoke a token by id."""
    with get_database().session_scope() as session:
        tokens.revoke_token(session, _get(session, ApiToken, token_id, "token"))
        click.echo(f"token {token_id} revoked")


def register_commands(app: Flask) -> None:
    """Add every command group of the service to ``app``'s ``flask`` command line."""
    from cylinder_trace.catering.cli import catering_cli
    from cylinder_trace.customers.cli import customers_cli
    from cylinder_trace.cylinders.cli import cylinders_cli
    from cylinder_trace.demo.seed import demo_cli
    from cylinder_trace.divisions.cli import divisions_cli
    from cylinder_trace.scans.cli import scans_cli
    from cylinder_trace.tuning.cli import db_cli

    groups = (
        org_cli,
        user_cli,
        device_cli,
        token_cli,
        demo_cli,
        cylinders_cli,
        scans_cli,
        customers_cli,
        catering_cli,
        db_cli,
        divisions_cli,
    )
    for group in groups:
        app.cli.add_command(group)
