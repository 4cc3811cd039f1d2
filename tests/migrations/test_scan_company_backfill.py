"""Migration 0013 gives every stored scan its company: the cylinder's owner, else the
scanning organisation's company (None for an authority's scan of an unknown code)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from cylinder_trace.db import make_engine
from tests.conftest import alembic_config

BEFORE = "b7c1d2e3f4a5"  # 0012
AT = "2026-11-01 08:00:00"

ORGANISATIONS = [
    # id, kind, parent
    (1, "gas_company", None),
    (2, "filling_station", 1),
    (3, "supply_point", 1),
    (4, "gas_company", None),
    (5, "filling_station", 4),
    (6, "regulator", None),
]
SCANS = [
    # id, cylinder_id, organisation_id, company_id expected
    (1, 1, 2, 1),  # A's cylinder at A's station
    (2, 1, 3, 1),  # ... at A's supply point
    (3, None, 5, 4),  # B's station tried A's cylinder: kept in a chain of B's
    (4, None, 1, 1),  # A's office scanned a code never registered
    (5, None, 6, None),  # the regulator scanned a code never registered
]


def test_stored_scans_get_their_company(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'backfill.db'}"
    config = alembic_config(url)
    command.upgrade(config, BEFORE)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for org_id, kind, parent in ORGANISATIONS:
                connection.execute(
                    text(
                        "INSERT INTO organisations (id, kind, name, parent_id, division_code, "
                        "active, created_at) VALUES (:id, :kind, :name, :parent, '500111', 1, :at)"
                    ),
                    {
                        "id": org_id,
                        "kind": kind,
                        "name": f"org {org_id}",
                        "parent": parent,
                        "at": AT,
                    },
                )
            connection.execute(
                text(
                    "INSERT INTO cylinders (id, code, model, manufacturer, serial_no, "
                    "manufactured_on, tare_kg, owner_company_id, filling_station_id, "
                    "next_inspection_due, scrap_date, state, stopped, lost, overfilled, "
                    "underfilled, registered_at) VALUES (1, 'CQDZ-500001', 'YSP35.5', 'm', 's', "
                    "'2024-01-01', 16.4, 1, 2, '2028-01-01', '2039-01-01', 'registered', 0, 0, "
                    "0, 0, :at)"
                ),
                {"at": AT},
            )
            for scan_id, cylinder_id, organisation_id, _ in SCANS:
                connection.execute(
                    text(
                        "INSERT INTO scans (id, event_id, content_hash, kind, scanned, chain_key, "
                        "seq, cylinder_id, occurred_at, received_at, organisation_id, data, "
                        "interactive, result, result_code, record_hash) VALUES (:id, :event, "
                        ":hash, 'store', 'CQDZ-500001', :chain, 1, :cylinder, :at, :at, :org, "
                        "'{}', 1, :result, :code, :hash)"
                    ),
                    {
                        "id": scan_id,
                        "event": f"{scan_id:032x}",
                        "hash": "0" * 64,
                        "chain": f"chain-{scan_id}",
                        "cylinder": cylinder_id,
                        "at": AT,
                        "org": organisation_id,
                        "result": "accepted" if cylinder_id else "rejected",
                        "code": None if cylinder_id else "cylinder_unknown",
                    },
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            found = dict(connection.execute(text("SELECT id, company_id FROM scans")).all())
        assert found == {scan_id: company for scan_id, _, _, company in SCANS}
        command.downgrade(config, BEFORE)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM scans")).scalar() == len(SCANS)
    finally:
        engine.dispose()
