"""The constraint table names real constraints, and the handler answers with its code."""

from __future__ import annotations

from sqlalchemy import Index, UniqueConstraint

from cylinder_trace.models import Base
from cylinder_trace.web.constraints import CONSTRAINT_ERRORS


def _unique_names() -> set[str]:
    names: set[str] = set()
    for table in Base.metadata.tables.values():
        names.update(
            str(c.name) for c in table.constraints if isinstance(c, UniqueConstraint) and c.name
        )
        names.update(str(i.name) for i in table.indexes if isinstance(i, Index) and i.unique)
    return names


def test_every_entry_names_a_unique_constraint_of_the_models() -> None:
    assert set(CONSTRAINT_ERRORS) <= _unique_names()


def test_codes_are_snake_case_and_messages_sentences() -> None:
    for code, message in CONSTRAINT_ERRORS.values():
        assert code.isascii() and code == code.lower() and " " not in code
        assert message[0].isupper() and message.endswith((".", "again."))
