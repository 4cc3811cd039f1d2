"""The schema against what Citus needs to distribute it by company (docs/scale-out.md).

The checker is tested on small schemas made here, one breach each, and on one that meets
every rule. The real schema does not meet them yet: ``BACKLOG`` is what is left, and the
test holds the schema to it both ways, so a new table or key Citus could not distribute
fails here, and so does fixing one without crossing it off.
"""

from __future__ import annotations

import pytest
from sqlalchemy import (
    Column,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

from cylinder_trace.models import Base
from cylinder_trace.tuning import distribution
from cylinder_trace.tuning.distribution import problems, unclassified

BACKLOG = [
    "catering_check_files: no company_id column",
    "catering_check_items: no company_id column",
    "catering_checks: no company_id column",
    "catering_hazards: no company_id column",
    "customers: primary key without company_id",
    "customers: unique uq_customers_card_code without company_id",
    "cylinder_inspections: no company_id column",
    "cylinders: no company_id column",
    "id_number_reveals: no company_id column",
    "scan_chains: no company_id column",
    "scan_verdict_changes: no company_id column",
    "scans: company_id may be NULL",
    "scans: primary key without company_id",
    "scans: unique uq_scans_chain_key_seq without company_id",
    "scans: unique uq_scans_event_id without company_id",
    "scans: foreign key (customer_id) to distributed customers without company_id on both sides",
    "scans: foreign key (cylinder_id) to distributed cylinders without company_id on both sides",
]


def test_every_table_has_a_place_in_the_plan() -> None:
    assert unclassified(Base.metadata) == []


def test_the_schema_breaks_no_rule_beyond_the_known_backlog() -> None:
    assert problems(Base.metadata) == BACKLOG


def _schema(monkeypatch: pytest.MonkeyPatch) -> MetaData:
    monkeypatch.setattr(distribution, "REFERENCE", frozenset({"orgs"}))
    monkeypatch.setattr(distribution, "DISTRIBUTED", frozenset({"things", "parts"}))
    metadata = MetaData()
    Table("orgs", metadata, Column("id", Integer, primary_key=True))
    return metadata


def _things(metadata: MetaData, *extra: object) -> Table:
    return Table(
        "things",
        metadata,
        Column("company_id", Integer, primary_key=True),
        Column("id", Integer, primary_key=True),
        Column("code", String(10)),
        ForeignKeyConstraint(["company_id"], ["orgs.id"]),
        UniqueConstraint("company_id", "code", name="uq_things_code"),
        *extra,
    )


def test_a_schema_that_meets_every_rule_has_no_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    metadata = _schema(monkeypatch)
    _things(metadata)
    Table(
        "parts",
        metadata,
        Column("company_id", Integer, primary_key=True),
        Column("id", Integer, primary_key=True),
        Column("thing_id", Integer),
        ForeignKeyConstraint(["company_id", "thing_id"], ["things.company_id", "things.id"]),
    )
    assert problems(metadata) == []


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        (
            lambda m: Table("parts", m, Column("id", Integer, primary_key=True)),
            "parts: no company_id column",
        ),
        (
            lambda m: Table(
                "parts",
                m,
                Column("id", Integer, primary_key=True),
                Column("company_id", Integer, nullable=False),
            ),
            "parts: primary key without company_id",
        ),
        (
            lambda m: Table(
                "parts",
                m,
                Column("company_id", Integer, primary_key=True),
                Column("id", Integer, primary_key=True),
                Column("serial", String(10), unique=True),
            ),
            "parts: unique (unnamed) without company_id",
        ),
        (
            lambda m: Table(
                "parts",
                m,
                Column("company_id", Integer, primary_key=True),
                Column("id", Integer, primary_key=True),
                Column("thing_id", Integer),
                ForeignKeyConstraint(["thing_id"], ["things.id"]),
            ),
            "parts: foreign key (thing_id) to distributed things without company_id on both sides",
        ),
    ],
)
def test_each_breach_is_named(monkeypatch: pytest.MonkeyPatch, part, expected: str) -> None:  # type: ignore[no-untyped-def]
    metadata = _schema(monkeypatch)
    _things(metadata)
    part(metadata)
    assert problems(metadata) == [expected]


def test_a_reference_table_may_not_point_at_a_distributed_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    metadata = _schema(monkeypatch)
    _things(metadata)
    metadata.tables["orgs"].append_column(Column("favourite_id", Integer))
    metadata.tables["orgs"].append_constraint(ForeignKeyConstraint(["favourite_id"], ["things.id"]))
    assert problems(metadata) == ["orgs: reference table with a foreign key to distributed things"]
