"""Benchmark: a province on one PostgreSQL (issue 15).

Run: ``.venv/bin/python bench/bench_scale.py [--cylinders 1000010] [--customers 400000]
[--requests 200] [--reuse] [--database-url URL] [--small-url URL] [--wal-compression lz4]
[--skip-reads]``.

Builds (unless ``--reuse``) a database of its own (default ``ct_scale_bench`` on the local
server) with the migrations, then fills it in SQL (``generate_series``; minutes on 2 cores):
12 gas companies over Chongqing's districts, each with 2 filling stations and 2 supply
points, ``--cylinders`` cylinders, each with a history of 7 or 13 scans (register, then
rounds of fill, dispatch, store, deliver to a registered customer, collect, receive empty,
a step every 1 to 7 days: about 10 scans a cylinder, 10 million for a million cylinders)
placed at random in the last 100 days,
1.5% of them refused or flagged, and ``--customers`` customers. The rows are consistent
with each other (a cylinder's row is its last scan's projection, each chain head its last
record's hash) but the hashes are not computed: ``scans verify-chains`` would reject them,
nothing here reads them. Indexes are dropped for the load and built afterwards, then the
database is VACUUM ANALYZEd, as a restored dump would be.

Then it times requests through the Flask test client (token check, SQL, serialisation),
``--requests`` of each, with random parameters: a station's fills of a day (as the station
operator and as the company admin), the review list of a company (as the city regulator)
and a company's own, cylinders due for inspection within 30 days (company admin,
regulator), the review list's page 1,000 by cursor and, for contrast, by page number,
customers, and one cylinder's timeline. Goal: p95 < 50 ms each.

Last, recording: single fill scans and batches of 500 fills, into this database and into a
small one built the same way with 400,000 cylinders and no history (``--small-url``, default
``ct_scale_bench_small``), ``--rounds`` rounds each (4), alternating small, large, large,
small; goal: the large one records at >= 0.9x the small one's rate (medians), both ways.
It also prints the WAL the server wrote per batch: into the large database most of it is
full-page images of index pages touched for the first time since the last checkpoint.
``--wal-compression pglz|lz4`` sets that parameter for the run's connections
(docs/postgresql.md recommends it); ``--skip-reads`` times recording alone. Exits 0
whatever the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from common import (
    app_for,
    bench_database_url,
    fresh_database,
    percentile,
    step,
    vacuum_analyze,
)
from sqlalchemy import Engine, event, func, select, text

from cylinder_trace.auth.tokens import issue_token
from cylinder_trace.db import get_database
from cylinder_trace.domain.roles import OrganisationKind, Role
from cylinder_trace.organisations.models import Organisation
from cylinder_trace.organisations.services import create_organisation
from cylinder_trace.paging import Keyset
from cylinder_trace.scans.models import Scan
from cylinder_trace.users.models import User
from cylinder_trace.users.services import create_user

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ct_scale_bench"
SMALL_URL = "postgresql://postgres@127.0.0.1:5432/ct_scale_bench_small"
CITY = "500000"
DISTRICTS = (
    "500101",
    "500103",
    "500105",
    "500106",
    "500107",
    "500108",
    "500109",
    "500110",
    "500111",
    "500112",
    "500113",
    "500115",
)
COMPANIES = len(DISTRICTS)
HISTORY_DAYS = 100
CYCLE = ("fill", "dispatch", "store", "deliver", "collect", "receive_empty")
PRE_OK = {"appearance": True, "valve": True, "residual_liquid": True, "marking": True}
GOAL_MS = 50.0


# --- building ---------------------------------------------------------------------------


def seed_organisations(app: Any) -> None:
    """Companies, their sites and people, and the city regulator (through the services)."""
    with app.app_context(), get_database().session_scope() as session:
        platform = create_organisation(
            session, kind=OrganisationKind.PLATFORM, name="运营中心", division_code=CITY
        )
        create_user(
            session,
            organisation=platform,
            username="root",
            full_name="root",
            role=Role.SYSTEM_ADMIN,
        )
        regulator = create_organisation(
            session, kind=OrganisationKind.REGULATOR, name="重庆市应急管理局", division_code=CITY
        )
        create_user(
            session,
            organisation=regulator,
            username="regulator",
            full_name="监管",
            role=Role.REGULATOR,
        )
        for index, district in enumerate(DISTRICTS):
            company = create_organisation(
                session,
                kind=OrganisationKind.GAS_COMPANY,
                name=f"燃气公司{index:02d}",
                division_code=district,
            )
            create_user(
                session,
                organisation=company,
                username=f"admin{index:02d}",
                full_name=f"管理员{index:02d}",
                role=Role.COMPANY_ADMIN,
            )
            for site in range(2):
                station = create_organisation(
                    session,
                    kind=OrganisationKind.FILLING_STATION,
                    name=f"燃气公司{index:02d}充装站{site}",
                    division_code=district,
                    parent=company,
                )
                create_user(
                    session,
                    organisation=station,
                    username=f"op{index:02d}{site}",
                    full_name="充装工",
                    role=Role.STATION_OPERATOR,
                )
                create_organisation(
                    session,
                    kind=OrganisationKind.SUPPLY_POINT,
                    name=f"燃气公司{index:02d}供应站{site}",
                    division_code=district,
                    parent=company,
                )


def world_of(app: Any) -> dict[str, Any]:
    """Ids of what ``seed_organisations`` made, and fresh tokens for its people."""
    with app.app_context(), get_database().session_scope() as session:
        organisations = session.scalars(select(Organisation).order_by(Organisation.id)).all()
        companies = [o for o in organisations if o.kind == OrganisationKind.GAS_COMPANY]
        world: dict[str, Any] = {
            "companies": [c.id for c in companies],
            "stations": {},
            "supply": {},
            "tokens": {},
        }
        for company in companies:
            sites = [o for o in organisations if o.parent_id == company.id]
            world["stations"][company.id] = [
                o.id for o in sites if o.kind == OrganisationKind.FILLING_STATION
            ]
            world["supply"][company.id] = [
                o.id for o in sites if o.kind == OrganisationKind.SUPPLY_POINT
            ]
        for user in session.scalars(select(User)):
            world["tokens"][user.username] = issue_token(session, name="bench", user=user)[1]
    return world


def _arrays(world: dict[str, Any]) -> dict[str, Any]:
    companies = world["companies"]
    return {
        "companies": companies,
        "station_a": [world["stations"][c][0] for c in companies],
        "station_b": [world["stations"][c][1] for c in companies],
        "supply_a": [world["supply"][c][0] for c in companies],
        "supply_b": [world["supply"][c][1] for c in companies],
    }


def _drop_indexes(connection: Any, table: str) -> list[str]:
    """Drop the table's indexes and UNIQUE constraints but its primary key; return the DDL
    that makes them again."""
    constraints = connection.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype = 'u'"
        ),
        {"t": table},
    ).all()
    again = [f'ALTER TABLE {table} ADD CONSTRAINT "{n}" {d}' for n, d in constraints]
    for name, _ in constraints:
        connection.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    indexes = connection.execute(
        text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t "
            "AND indexname NOT LIKE 'pk\\_%'"
        ),
        {"t": table},
    ).all()
    for name, definition in indexes:
        connection.execute(text(f'DROP INDEX "{name}"'))
        again.append(definition)
    return again


def build(
    engine: Engine, world: dict[str, Any], cylinders: int, customers: int, history: bool
) -> None:
    """Customers, cylinders and (with ``history``) their scans and chain heads, in SQL."""
    now = datetime.now(UTC).replace(microsecond=0)
    params = {
        **_arrays(world),
        "n": cylinders,
        "customers": customers,
        "now": now,
        # The histories end a day ago: the run's fills come after every stored scan.
        "start": now - timedelta(days=HISTORY_DAYS + 1),
        "today": now.date(),
        "k": COMPANIES,
        "days": HISTORY_DAYS,
        "districts": list(DISTRICTS),
    }
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL work_mem = '256MB'"))
        connection.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        rebuild = []
        for table in ("scans", "cylinders", "customers", "scan_chains"):
            rebuild += _drop_indexes(connection, table)

        def run(label: str, sql: str) -> None:
            done = step(label)
            connection.execute(text(sql), params)
            done()

        run(
            f"{customers:,} customers",
            """
            INSERT INTO customers (id, company_id, kind, name, id_number_encrypted,
                id_number_hash, id_number_masked, phone, address, division_code, is_catering,
                premises_type, has_outdoor_cylinder_area, has_cylinder_room, card_code, active,
                created_at, open_hazard_count)
            SELECT j, (CAST(:companies AS int[]))[1 + j % :k], 'person', '顾客' || j,
                'v1:k1:' || md5(j::text) || md5((j + 1)::text) || 'xyz',
                md5(j::text) || md5((-j)::text), '500111********' || lpad((j % 1000)::text, 3,
                '0') || 'X', '138' || lpad(j::text, 8, '0'), '重庆市某区某街道' || j || '号',
                (CAST(:districts AS text[]))[1 + j % :k], false, 'household', false,
                false, 'K' || j, true, :start - interval '30 days', 0
            FROM generate_series(1, :customers) AS j""",
        )
        # Cylinder i: company i % k, station and supply point by i % 2; 7 or 13 scans, so
        # that each ends a round empty at its station, ready to be filled.
        run(
            f"{cylinders:,} cylinders",
            """
            INSERT INTO cylinders (id, code, model, manufacturer, serial_no, manufactured_on,
                tare_kg, owner_company_id, filling_station_id, last_inspected_on,
                next_inspection_due, scrap_date, state, stopped, lost, overfilled,
                underfilled, registered_at, location_id, last_scan_at)
            SELECT i, 'CQS' || lpad(i::text, 8, '0'), 'YSP35.5', '重庆钢瓶厂', 'S' || i,
                made, 16.40, (CAST(:companies AS int[]))[1 + i % :k],
                CASE WHEN i % 2 = 0 THEN (CAST(:station_a AS int[]))[1 + i % :k]
                     ELSE (CAST(:station_b AS int[]))[1 + i % :k] END,
                inspected, inspected + interval '4 years', made + interval '15 years',
                CASE WHEN :history THEN 'empty_at_station' ELSE 'registered' END,
                false, false, false, false, registered,
                CASE WHEN i % 2 = 0 THEN (CAST(:station_a AS int[]))[1 + i % :k]
                     ELSE (CAST(:station_b AS int[]))[1 + i % :k] END,
                CASE WHEN :history THEN registered + (length - 1) * step ELSE registered END
            FROM (SELECT i, made, inspected, length, step,
                         :start + (i::bigint * 7919 % (:days * 1440 - (length - 1) * steps * 1440))
                         * interval '1 minute' AS registered
                  FROM (SELECT i, :today - (i % 3650) AS made,
                               :today - (i * 7 % 1460) AS inspected,
                               CASE WHEN i % 2 = 0 THEN 7 ELSE 13 END AS length,
                               1 + i % 7 AS steps, (1 + i % 7) * interval '1 day' AS step
                        FROM generate_series(1, :n) AS i) AS drawn) AS numbered""".replace(
                ":history", "true" if history else "false"
            ),
        )
        length = "CASE WHEN c.id % 2 = 0 THEN 7 ELSE 13 END" if history else "1"
        run(
            "scans",
            f"""
            INSERT INTO scans (event_id, content_hash, kind, outcome, scanned, chain_key, seq,
                cylinder_id, occurred_at, received_at, organisation_id, site_id, customer_id,
                company_id, data, interactive, result, result_code, review_code, prev_hash,
                record_hash)
            SELECT CAST(md5('e' || i || '-' || seq) AS uuid), md5('c' || i || '-' || seq)
                    || md5('C' || i || '-' || seq), kind, CASE WHEN kind = 'fill' THEN 'ok' END,
                c.code, c.code, seq, i, at, at + interval '1 minute', site, site,
                CASE WHEN kind = 'deliver' THEN :k * (1 + (i * 31 + seq) % (:customers / :k - 1))
                     + (i % :k) END,
                c.owner_company_id, '{{}}', true,
                CASE WHEN h < 70 THEN 'rejected' WHEN h < 145 THEN 'accepted_with_violation'
                     ELSE 'accepted' END,
                CASE WHEN h < 70 THEN 'inspection_overdue' WHEN h < 145 THEN 'location_mismatch'
                END,
                CASE WHEN h >= 70 AND h < 145 THEN 'location_mismatch' END,
                CASE WHEN seq > 1 THEN md5('r' || i || '-' || (seq - 1))
                     || md5('R' || i || '-' || (seq - 1)) END,
                md5('r' || i || '-' || seq) || md5('R' || i || '-' || seq)
            FROM (SELECT c.id AS i, seq, c.code, c.owner_company_id,
                         CASE WHEN seq = 1 THEN 'register' ELSE (CAST(ARRAY{list(CYCLE)} AS
                         text[]))[1 + (seq - 2) % 6] END AS kind,
                         c.registered_at + (seq - 1) * (1 + c.id % 7) * interval '1 day' AS at,
                         CASE WHEN seq = 1 OR (seq - 2) % 6 IN (0, 1, 5) THEN c.location_id
                              WHEN c.id % 2 = 0 THEN (CAST(:supply_a AS int[]))[1 + c.id % :k]
                              ELSE (CAST(:supply_b AS int[]))[1 + c.id % :k] END AS site,
                         CASE WHEN seq = 1 THEN 9999
                              ELSE ((c.id * 13 + seq) * 2654435761 % 10000)::int END AS h
                  FROM cylinders c, generate_series(1, {length}) AS seq) AS c
            """,
        )
        run(
            "chain heads",
            f"""
            INSERT INTO scan_chains (chain_key, length, head_hash)
            SELECT c.code, {length}, md5('r' || c.id || '-' || {length})
                   || md5('R' || c.id || '-' || {length})
            FROM cylinders c""",
        )
        for sequence, table in (
            ("customers_id_seq", "customers"),
            ("cylinders_id_seq", "cylinders"),
        ):
            connection.execute(text(f"SELECT setval('{sequence}', (SELECT max(id) FROM {table}))"))
        done = step(f"{len(rebuild)} indexes and unique constraints")
        for ddl in rebuild:
            connection.execute(text(ddl))
        done()
    vacuum_analyze(engine)


def describe(engine: Engine) -> None:
    with engine.connect() as connection:
        counts = connection.execute(
            text(
                "SELECT (SELECT count(*) FROM cylinders), (SELECT count(*) FROM scans), "
                "(SELECT count(*) FROM customers), (SELECT count(*) FROM scans WHERE "
                "result = 'rejected' OR review_code IS NOT NULL), "
                "pg_size_pretty(pg_database_size(current_database()))"
            )
        ).one()
    print(
        f"data: {counts[0]:,} cylinders, {counts[1]:,} scans ({counts[3]:,} for review), "
        f"{counts[2]:,} customers; {counts[4]}"
    )


# --- reading ----------------------------------------------------------------------------


def review_cursor(app: Any, company_id: int | None, row: int) -> str:
    """The cursor the review list hands out after its ``row``-th row (as a walk would)."""
    with app.app_context(), get_database().session_scope() as session:
        statement = select(Scan).where((Scan.result == "rejected") | Scan.review_code.is_not(None))
        if company_id is not None:
            statement = statement.where(Scan.company_id == company_id)
        keyset = Keyset((Scan.occurred_at, Scan.id))
        count = session.scalar(select(func.count()).select_from(statement.subquery()))
        row = min(row, count - 1)  # a small build has fewer pages
        scan = session.scalars(keyset.order(statement).offset(row - 1).limit(1)).one()
        return keyset.cursor(scan)


def read_benchmarks(
    app: Any, world: dict[str, Any], requests: int, rng: random.Random, cylinders: int
) -> list:
    client = app.test_client()
    tokens = world["tokens"]
    companies = world["companies"]
    today = datetime.now(UTC).date()
    due = (today + timedelta(days=30)).isoformat()

    def company_00_cylinder() -> int:
        return rng.randrange(1, cylinders // COMPANIES) * COMPANIES

    def day() -> str:
        return (today - timedelta(days=rng.randint(1, HISTORY_DAYS - 5))).isoformat()

    def station() -> tuple[int, int, str]:
        company = rng.randrange(COMPANIES)
        site = rng.randrange(2)
        return company, world["stations"][companies[company]][site], f"op{company:02d}{site}"

    def station_day(as_admin: bool) -> tuple[str, Any]:
        company, site, operator = station()
        who = f"admin{company:02d}" if as_admin else operator
        return who, f"/api/v1/scans?site_id={site}&kind=fill&day={day()}&page_size=100"

    cursors = {c: review_cursor(app, c, 999 * 10 + 1) for c in companies[:1]}
    city_cursor = review_cursor(app, None, 999 * 100 + 1)
    scenarios: list[tuple[str, Any]] = [
        ("a station's fills of a day (operator)", lambda: station_day(False)),
        ("a station's fills of a day (company admin)", lambda: station_day(True)),
        (
            "review list of a company (regulator)",
            lambda: (
                "regulator",
                f"/api/v1/scans?needs_review=true&company_id={rng.choice(companies)}",
            ),
        ),
        (
            "review list, own company (company admin)",
            lambda: (f"admin{rng.randrange(COMPANIES):02d}", "/api/v1/scans?needs_review=true"),
        ),
        (
            "cylinders due within 30 days (company admin)",
            lambda: (
                f"admin{rng.randrange(COMPANIES):02d}",
                f"/api/v1/cylinders?inspection_due_before={due}",
            ),
        ),
        (
            "cylinders due within 30 days (regulator)",
            lambda: ("regulator", f"/api/v1/cylinders?inspection_due_before={due}"),
        ),
        (
            "review list page 1 (regulator)",
            lambda: ("regulator", "/api/v1/scans?needs_review=true&page_size=100"),
        ),
        (
            "review list page 1,000 by cursor (regulator)",
            lambda: (
                "regulator",
                f"/api/v1/scans?needs_review=true&page_size=100&after={city_cursor}",
            ),
        ),
        (
            "company review page 1,000 by cursor, 10/page",
            lambda: (
                "regulator",
                f"/api/v1/scans?needs_review=true&company_id={companies[0]}&page_size=10"
                f"&after={cursors[companies[0]]}",
            ),
        ),
        (
            "customers page 1 (company admin)",
            lambda: (f"admin{rng.randrange(COMPANIES):02d}", "/api/v1/customers"),
        ),
        ("customers page 1 (regulator)", lambda: ("regulator", "/api/v1/customers")),
        (
            "a cylinder's timeline (company admin)",
            lambda: (
                f"admin{0:02d}",
                f"/api/v1/cylinders/CQS{company_00_cylinder():08d}/events",
            ),
        ),
    ]
    rows = []
    print(f"\n{'request':<50} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}  X-Pagination")
    for label, make in scenarios:
        # Each request draws its caller with its URL.
        times = []
        last = None
        for _ in range(requests + 5):
            who, url = make()
            started = time.perf_counter()
            last = client.get(url, headers={"Authorization": f"Bearer {tokens[who]}"})
            elapsed = (time.perf_counter() - started) * 1000
            assert last.status_code == 200, (url, last.get_data(as_text=True)[:300])
            times.append(elapsed)
        times = times[5:]
        p50, p95 = statistics.median(times), percentile(times, 0.95)
        meta = json.loads(last.headers.get("X-Pagination", "{}"))
        meta.pop("next_cursor", None)
        print(f"{label:<50} {p50:7.1f} {p95:7.1f} {max(times):7.1f}  {json.dumps(meta)[:60]}")
        rows.append((label, p50, p95))
    # Page 1,000 by number, for contrast: OFFSET reads and drops 99,900 rows first.
    headers = {"Authorization": f"Bearer {tokens['regulator']}"}
    times = []
    for _ in range(10):
        started = time.perf_counter()
        response = client.get(
            "/api/v1/scans?needs_review=true&page_size=100&page=1000", headers=headers
        )
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    print(
        f"{'(review list page=1000 by number, 10 requests)':<50} "
        f"{statistics.median(times):7.1f} {max(times):7.1f}"
    )
    return rows


# --- recording --------------------------------------------------------------------------


def fill(code: str, minutes_ago: float) -> dict[str, Any]:
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    return {
        "event_id": str(uuid.uuid4()),
        "kind": "fill",
        "code": code,
        "occurred_at": at.isoformat(),
        "gross_kg": "30.90",
        "pre_fill_check": PRE_OK,
    }


class Recorder:
    """Fills cylinders of one station of one database, each cylinder once."""

    def __init__(self, app: Any, world: dict[str, Any], rng: random.Random):
        self.client = app.test_client()
        # Company 01's cylinders at its station 1 that a fill may find now (an earlier run
        # with --reuse filled some), in random order.
        company = world["companies"][1]
        self.token = world["tokens"]["op011"]
        self.wal_per_batch: list[float] = []
        self.engine = engine = app.extensions["cylinder_trace.db"].engine
        with engine.connect() as connection:
            self.codes = list(
                connection.execute(
                    text(
                        "SELECT code FROM cylinders WHERE owner_company_id = :company "
                        "AND filling_station_id = :station "
                        "AND state IN ('empty_at_station', 'registered') "
                        "AND last_scan_at < now() - interval '1 hour' ORDER BY id"
                    ),
                    {"company": company, "station": world["stations"][company][1]},
                ).scalars()
            )
        rng.shuffle(self.codes)

    def take(self, count: int) -> list[str]:
        taken, self.codes = self.codes[:count], self.codes[count:]
        if len(taken) < count:
            raise SystemExit("not enough cylinders left to fill: build with more")
        return taken

    def singles(self, count: int) -> float:
        headers = {"Authorization": f"Bearer {self.token}"}
        bodies = [fill(code, 0) for code in self.take(count)]
        started = time.perf_counter()
        for body in bodies:
            response = self.client.post("/api/v1/scans", json=body, headers=headers)
            assert response.status_code == 201, response.get_json()
        return (time.perf_counter() - started) * 1000 / count

    def batches(self, count: int, size: int = 500) -> float:
        headers = {"Authorization": f"Bearer {self.token}"}
        bodies = [{"scans": [fill(code, 10) for code in self.take(size)]} for _ in range(count)]
        wal_before = self._wal_position()
        started = time.perf_counter()
        for body in bodies:
            response = self.client.post("/api/v1/scans/batch", json=body, headers=headers)
            assert response.status_code in (200, 207), response.get_json()
            assert all(r["status"] == "accepted" for r in response.get_json()["results"])
        elapsed = (time.perf_counter() - started) * 1000 / count
        self.wal_per_batch.append(self._wal_since(wal_before) / count)
        return elapsed

    def _wal_position(self) -> str:
        with self.engine.connect() as connection:
            return str(connection.exec_driver_sql("SELECT pg_current_wal_lsn()").scalar())

    def _wal_since(self, position: str) -> float:
        """Bytes of WAL the whole server wrote since ``position`` (the run is alone on it)."""
        with self.engine.connect() as connection:
            return float(
                connection.execute(
                    text("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), CAST(:at AS pg_lsn))"),
                    {"at": position},
                ).scalar()
            )


def recording(
    large: Recorder, small: Recorder, singles: int, batches: int, rounds: int
) -> dict[str, float]:
    """``rounds`` pairs of rounds, small-large-large-small, so that whatever else the server
    does (a checkpoint, autovacuum) weighs on both alike; the ratio of the medians."""
    times: dict[str, list[float]] = {
        "small single": [],
        "large single": [],
        "small batch": [],
        "large batch": [],
    }
    order = (("small", small), ("large", large), ("large", large), ("small", small))
    for _ in range((rounds + 1) // 2):
        for name, recorder in order:
            times[f"{name} single"].append(recorder.singles(singles))
            times[f"{name} batch"].append(recorder.batches(batches))
    print(
        f"\nrecording (ms per single scan / per batch of 500; {len(times['small single'])} "
        "rounds each, alternating)"
    )
    for name, values in times.items():
        print(f"  {name:<13} {' '.join(f'{v:8.2f}' for v in values)}")
    for name, recorder in (("small", small), ("large", large)):
        wal = " ".join(f"{value / 2**20:6.2f}" for value in recorder.wal_per_batch)
        print(f"  WAL per batch of 500, {name}: {wal} MiB")
    single = statistics.median(times["small single"]) / statistics.median(times["large single"])
    batch = statistics.median(times["small batch"]) / statistics.median(times["large batch"])
    print(
        f"  large/small rate (medians): single scans {single:.2f}x, batches of 500 "
        f"{batch:.2f}x (goal >= 0.9x both)"
    )
    return {"single": single, "batch": batch}


def _set_on_connect(engine: Engine, name: str, value: str) -> None:
    """``SET name = value`` on every new connection of ``engine`` (a superuser's setting)."""

    @event.listens_for(engine, "connect")
    def _set(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET {name} = {value}")
        dbapi_connection.commit()

    engine.dispose()  # connections made before this hook would lack the setting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cylinders", type=int, default=1_000_010)
    parser.add_argument("--customers", type=int, default=400_000)
    parser.add_argument("--small-cylinders", type=int, default=400_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--singles", type=int, default=300, help="single scans per round")
    parser.add_argument("--batches", type=int, default=6, help="batches of 500 per round")
    parser.add_argument("--rounds", type=int, default=4, help="recording rounds per database")
    parser.add_argument("--database-url")
    parser.add_argument("--small-url")
    parser.add_argument(
        "--wal-compression",
        choices=("off", "pglz", "lz4"),
        help="set for the run's connections (default: the server's)",
    )
    parser.add_argument("--skip-reads", action="store_true", help="time recording only")
    parser.add_argument("--reuse", action="store_true", help="time the large database a run built")
    args = parser.parse_args()
    url = bench_database_url(args.database_url or DEFAULT_URL)
    small_url = bench_database_url(args.small_url or SMALL_URL)
    print(f"database: {url.split('@')[-1]} and {small_url.split('@')[-1]}")
    apps = {}
    for name, target, cylinders, history in (
        ("large", url, args.cylinders, True),
        ("small", small_url, args.small_cylinders, False),
    ):
        # The small one takes seconds: always fresh, so its cylinders are all unfilled.
        rebuild = not args.reuse or not history
        if rebuild:
            print(f"building the {name} database:")
            done = step("schema (migrations)")
            fresh_database(target)
            done()
        app = app_for(target)
        engine = app.extensions["cylinder_trace.db"].engine
        if args.wal_compression:
            _set_on_connect(engine, "wal_compression", args.wal_compression)
        if rebuild:
            started = time.perf_counter()
            seed_organisations(app)
            customers = args.customers if history else 1_000
            build(engine, world_of(app), cylinders, customers, history)
            print(f"  built in {time.perf_counter() - started:.0f} s")
        describe(engine)
        apps[name] = app
    rng = random.Random(15)
    world = world_of(apps["large"])
    rows = (
        []
        if args.skip_reads
        else read_benchmarks(apps["large"], world, args.requests, rng, args.cylinders)
    )
    large = Recorder(apps["large"], world, rng)
    small = Recorder(apps["small"], world_of(apps["small"]), rng)
    ratios = recording(large, small, args.singles, args.batches, args.rounds)
    slow = [label for label, _, p95 in rows if p95 >= GOAL_MS]
    print(
        f"\nsummary: {len(rows) - len(slow)} of {len(rows)} lists under {GOAL_MS:.0f} ms p95"
        + (f"; over: {', '.join(slow)}" if slow else "")
        + f"; recording large/small {ratios['single']:.2f}x single, {ratios['batch']:.2f}x "
        "batches (goal >= 0.9x)"
    )


if __name__ == "__main__":
    main()
