"""Alembic environment: the models' metadata, and the URL the app itself would use."""

from __future__ import annotations

import os
from logging.config import fileConfig
from pathlib import Path

from alembic import context
from alembic.script import ScriptDirectory
from sqlalchemy.types import TypeDecorator

from cylinder_trace.config import database_url
from cylinder_trace.db import make_engine
from cylinder_trace.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _url() -> str:
    # Tests pass the URL through the config; everyone else through DATABASE_URL.
    return config.attributes.get("database_url") or database_url(os.environ)


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Migrations must not import the app's column types (they change; migrations must
    # not), so a TypeDecorator is written out as the plain type it stores.
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def next_revision_number(script: ScriptDirectory) -> str:
    """The id of the next migration: its place in applying order, four digits ("0013")."""
    return f"{len(list(script.walk_revisions())) + 1:04d}"


def _number_new_revision(context_, revision, directives) -> None:  # type: ignore[no-untyped-def]
    # `alembic revision` names the file after the id (alembic.ini: file_template), so a
    # numbered id keeps the listing in applying order.
    if directives:
        directives[0].rev_id = next_revision_number(ScriptDirectory.from_config(config))


def _configure(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        process_revision_directives=_number_new_revision,
        render_item=_render_item,
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = _url()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
