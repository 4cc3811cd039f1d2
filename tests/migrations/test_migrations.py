"""The migrations build the schema the models describe, on the backend under test."""

from __future__ import annotations

import shutil
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from cylinder_trace.db import make_engine
from cylinder_trace.models import Base
from tests.conftest import REPO, alembic_config


def test_upgraded_schema_matches_the_models(migrated_url: str) -> None:
    engine = make_engine(migrated_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            assert compare_metadata(context, Base.metadata) == []
            assert (
                context.get_current_revision()
                == ScriptDirectory.from_config(alembic_config(migrated_url)).get_current_head()
            )
    finally:
        engine.dispose()


def test_every_table_has_named_constraints(migrated_url: str) -> None:
    engine = make_engine(migrated_url)
    try:
        inspector = inspect(engine)
        for table in Base.metadata.tables:
            assert inspector.get_pk_constraint(table)["name"] in (f"pk_{table}", None)
            for foreign_key in inspector.get_foreign_keys(table):
                assert foreign_key["name"].startswith(f"fk_{table}_")
    finally:
        engine.dispose()


def test_downgrade_to_base_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    engine = make_engine(url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    command.upgrade(config, "head")


def _chain(script: ScriptDirectory) -> list[str]:
    """The revisions' file names from the first to the head, following down_revision."""
    return [Path(revision.path).name for revision in reversed(list(script.walk_revisions()))]


def test_file_names_list_the_migrations_in_applying_order(tmp_path: Path) -> None:
    script = ScriptDirectory.from_config(alembic_config(f"sqlite:///{tmp_path / 'x.db'}"))
    names = _chain(script)
    assert names == sorted(names)
    assert [name[:5] for name in names] == [f"{n:04d}_" for n in range(1, len(names) + 1)]


def test_a_new_revision_gets_the_next_number(tmp_path: Path) -> None:
    # On a copy of the migrations, so the repository's stay as they are.
    shutil.copytree(REPO / "migrations", tmp_path / "migrations")
    config = alembic_config(f"sqlite:///{tmp_path / 'x.db'}")
    config.set_main_option("script_location", str(tmp_path / "migrations"))
    config.set_section_option("post_write_hooks", "hooks", "")
    before = _chain(ScriptDirectory.from_config(config))
    command.revision(config, message="add something")
    after = _chain(ScriptDirectory.from_config(config))
    assert after[:-1] == before
    assert after[-1] == f"{len(before) + 1:04d}_add_something.py"
