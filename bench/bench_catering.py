"""Benchmark: the commerce bureau's catering review on 100,000 users and 5,000,000 checks.

Run: ``.venv/bin/python bench/bench_catering.py [--users 100000] [--checks 5000000]
[--households 100000] [--items recent|all] [--requests 200] [--explain] [--exports]
[--database-url URL] [--reuse]``.

Builds a fresh PostgreSQL database of its own (default ``ct_cat_bench`` on the local server)
with the migrations, then fills it in SQL (``generate_series``; a few minutes on 2 cores):
40 gas companies over Chongqing's 38 districts and counties, the catering users (85% in
their supplier's district) plus households, about a year of weekly visits per user (3%
nobody home) placed so that about 45% are checked this week, 35% due, 18% overdue
(2-12 weeks) and 2% never checked, hazards (8% of users with one open, some past their
deadline; 5% with one closed by the latest visit), and checklist items for each user's
two latest completed visits (``--items all``: for every completed visit, 35M rows). The
users' status columns are then set from those rows, as the check service keeps them, and
the database is VACUUM ANALYZEd.

Then it times requests through the Flask test client (token check, SQL, serialisation),
as a bureau reviewer of the whole city (500000) and of one district (Dazu, 500111): a page
of 50 of the due/overdue list (page 1 and random pages up to 20) and the summary; goal:
each under 100 ms. It prints p50/p95/max per request kind, and with ``--explain`` the
PostgreSQL plans of the list and summary queries.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from common import (
    app_for,
    bench_database_url,
    fresh_database,
    percentile,
    step,
    vacuum_analyze,
)
from sqlalchemy import Engine, event, select, text

from cylinder_trace.auth.tokens import issue_token
from cylinder_trace.db import get_database
from cylinder_trace.domain.roles import OrganisationKind, Role
from cylinder_trace.domain.rules import load_rules
from cylinder_trace.domain.weeks import business_week, week_start
from cylinder_trace.organisations.services import create_organisation
from cylinder_trace.users.models import User
from cylinder_trace.users.services import create_user

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/ct_cat_bench"
DISTRICTS = (
    "500101",
    "500102",
    "500103",
    "500104",
    "500105",
    "500106",
    "500107",
    "500108",
    "500109",
    "500110",
    "500111",
    "500112",
    "500113",
    "500114",
    "500115",
    "500116",
    "500117",
    "500118",
    "500119",
    "500120",
    "500151",
    "500152",
    "500153",
    "500154",
    "500155",
    "500156",
    "500229",
    "500230",
    "500231",
    "500233",
    "500235",
    "500236",
    "500237",
    "500238",
    "500240",
    "500241",
    "500242",
    "500243",
)
COMPANIES = 40
CITY, DAZU = "500000", "500111"


def seed_organisations(app: Any) -> dict[str, Any]:
    """Companies, couriers, a city and a district bureau with reviewer tokens (ORM)."""
    with app.app_context(), get_database().session_scope() as session:
        companies, couriers = [], []
        for index in range(COMPANIES):
            district = DISTRICTS[index % len(DISTRICTS)]
            company = create_organisation(
                session,
                kind=OrganisationKind.GAS_COMPANY,
                name=f"燃气公司{index:02d}",
                division_code=district,
            )
            courier = create_user(
                session,
                organisation=company,
                username=f"courier{index:02d}",
                full_name=f"送气工{index:02d}",
                role=Role.DELIVERY_STAFF,
            )
            companies.append((company.id, district))
            couriers.append(courier.id)
        tokens = {}
        for key, division in (("city", CITY), ("district", DAZU)):
            bureau = create_organisation(
                session,
                kind=OrganisationKind.COMMERCE_BUREAU,
                name=f"商务委{division}",
                division_code=division,
            )
            reviewer = create_user(
                session,
                organisation=bureau,
                username=f"reviewer{division}",
                full_name=f"审核员{division}",
                role=Role.BUREAU_REVIEWER,
            )
            tokens[key] = issue_token(session, name="bench", user=reviewer)[1]
    return {"companies": companies, "couriers": couriers, "tokens": tokens}


def reviewer_tokens(app: Any) -> dict[str, str]:
    """New tokens for the reviewers a previous run created (``--reuse``)."""
    tokens = {}
    with app.app_context(), get_database().session_scope() as session:
        for key, division in (("city", CITY), ("district", DAZU)):
            user = session.scalar(select(User).where(User.username == f"reviewer{division}"))
            assert user is not None, "no previous run to reuse"
            tokens[key] = issue_token(session, name="bench", user=user)[1]
    return tokens


def build(engine: Engine, seed: dict[str, Any], args: argparse.Namespace) -> None:
    now = datetime.now(UTC)
    this_week = week_start(business_week(now))
    companies = seed["companies"]
    params = {
        "users": args.users,
        "households": args.households,
        "checks": args.checks,
        "now": now,
        "week0": this_week,
        "company_ids": [company_id for company_id, _ in companies],
        "company_districts": [district for _, district in companies],
        "couriers": seed["couriers"],
        "districts": list(DISTRICTS),
        "codes": [item.code for item in load_rules().catering_checklist],
    }
    with engine.begin() as connection:

        def run(label: str, sql: str) -> None:
            done = step(label)
            connection.execute(text(sql), params)
            done()

        connection.execute(text("SELECT setseed(0.42)"))
        connection.execute(text("SET LOCAL work_mem = '256MB'"))
        connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        # Bulk load: the rows are consistent by construction, so skip the per-row foreign
        # key triggers (CHECK constraints and indexes still apply).
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        run(
            f"{args.users:,} catering users and {args.households:,} households",
            """
            INSERT INTO customers (id, company_id, kind, name, id_number_encrypted,
                id_number_hash, id_number_masked, credit_code, responsible_person, phone,
                address, division_code, is_catering, premises_type, premises_floor,
                has_outdoor_cylinder_area, has_cylinder_room, card_code, active, created_at,
                leak_alarm_installed, leak_alarm_working, hose_metal, self_closing_valve,
                cylinder_storage, cylinders_on_site, kg_on_site, open_hazard_count)
            SELECT i,
                (CAST(:company_ids AS int[]))[1 + i % 40],
                CASE WHEN catering THEN 'business' ELSE 'person' END,
                CASE WHEN catering THEN '餐馆' || i || '号火锅店' ELSE '住户' || i END,
                'v1:k1:' || md5(i::text) || md5((i + 1)::text) || 'xyz',
                md5(i::text) || md5((-i)::text),
                '500111********' || lpad((i % 1000)::text, 3, '0') || 'X',
                CASE WHEN catering THEN '9150' || lpad(i::text, 14, '0') END,
                CASE WHEN catering THEN '负责人' || i END,
                '138' || lpad(i::text, 8, '0'),
                '重庆市某区某街道' || i || '号',
                CASE WHEN (i * 7) % 100 < 85 THEN (CAST(:company_districts AS text[]))[1 + i % 40]
                     ELSE (CAST(:districts AS text[]))[1 + (i * 13) % 38] END,
                catering,
                CASE WHEN catering THEN 'restaurant' ELSE 'household' END,
                1, false, i % 10 = 0, 'K' || i, i % 200 <> 0,
                :now - (i % 1000) * interval '1 day',
                CASE WHEN catering THEN i % 20 <> 0 END,
                CASE WHEN catering THEN i % 20 > 1 END,
                CASE WHEN catering THEN i % 15 <> 0 END,
                CASE WHEN catering THEN i % 3 <> 0 END,
                CASE WHEN catering THEN (ARRAY['dedicated_room', 'floor', 'floor',
                    'dining_area'])[1 + i % 4] END,
                CASE WHEN catering THEN 1 + i % 6 END,
                CASE WHEN catering THEN (15 * (1 + i % 6))::numeric END,
                0
            FROM (SELECT i, i <= :users AS catering
                  FROM generate_series(1, :users + :households) AS i) AS numbers
            """,
        )
        connection.execute(
            text("SELECT setval('customers_id_seq', (SELECT max(id) FROM customers))")
        )
        # Per user: a lag (0 checked this week, 1 due, 2+ overdue, or never checked) and
        # that many weeks ago its latest visit, then one visit a week before that.
        run(
            "lags",
            """
            CREATE TEMP TABLE lags ON COMMIT DROP AS
            SELECT id AS customer_id, company_id,
                   CASE WHEN h < 20 THEN NULL WHEN h < 470 THEN 0 WHEN h < 820 THEN 1
                        ELSE 2 + h % 11 END AS lag,
                   h
            FROM (SELECT id, company_id, (id * 2654435761 % 1000)::int AS h
                  FROM customers WHERE is_catering) AS hashed;
            CREATE TEMP TABLE plan ON COMMIT DROP AS
            SELECT customer_id, company_id, lag, h,
                   row_number() OVER (ORDER BY customer_id) - 1 AS rank,
                   count(*) OVER () AS checked_users
            FROM lags WHERE lag IS NOT NULL;
            """,
        )
        run(
            f"{args.checks:,} checks",
            """
            INSERT INTO catering_checks (customer_id, outcome, checked_at, recorded_at,
                checked_by_id, signer_name)
            SELECT p.customer_id,
                CASE WHEN (p.customer_id * 31 + k * 17) % 100 < 3 AND k > 0
                     THEN 'nobody_home' ELSE 'completed' END,
                visit.at, visit.at + interval '3 minutes',
                (CAST(:couriers AS int[]))[
                    array_position(CAST(:company_ids AS int[]), p.company_id)],
                CASE WHEN (p.customer_id * 31 + k * 17) % 100 < 3 AND k > 0 THEN NULL
                     ELSE '负责人' || p.customer_id END
            FROM plan AS p
            CROSS JOIN LATERAL generate_series(
                0,
                :checks / p.checked_users - 1
                    + CASE WHEN p.rank < :checks % p.checked_users THEN 1 ELSE 0 END
            ) AS k
            CROSS JOIN LATERAL (
                SELECT CASE WHEN p.lag + k = 0
                    THEN :week0 + random() * (:now - :week0)
                    ELSE :week0 - (p.lag + k) * interval '7 days' + interval '8 hours'
                         + random() * interval '5 days 12 hours' END AS at
            ) AS visit
            ORDER BY p.customer_id, k
            """,
        )
        run(
            "latest two completed visits per user",
            """
            CREATE TEMP TABLE recent ON COMMIT DROP AS
            SELECT l.customer_id, l.h, r.id AS check_id, r.checked_at, r.rn
            FROM lags AS l
            CROSS JOIN LATERAL (
                SELECT c.id, c.checked_at,
                       row_number() OVER (ORDER BY c.checked_at DESC) AS rn
                FROM catering_checks AS c
                WHERE c.customer_id = l.customer_id AND c.outcome = 'completed'
                ORDER BY c.checked_at DESC LIMIT 2
            ) AS r
            """,
        )
        run(
            "hazards",
            """
            INSERT INTO catering_hazards (customer_id, item_code, note, deadline,
                opened_by_check_id, opened_at, closed_by_check_id, closed_at)
            SELECT o.customer_id, (CAST(:codes AS text[]))[1 + o.customer_id % 7], '待整改',
                (o.checked_at AT TIME ZONE 'Asia/Shanghai')::date + 7,
                o.check_id, o.checked_at,
                CASE WHEN o.h % 100 >= 8 THEN c.check_id END,
                CASE WHEN o.h % 100 >= 8 THEN c.checked_at END
            FROM recent AS o
            LEFT JOIN recent AS c ON c.customer_id = o.customer_id AND c.rn = 1
            WHERE (o.h % 100 < 8 AND o.rn = 1) OR (o.h % 100 BETWEEN 8 AND 12 AND o.rn = 2)
            """,
        )
        items_from = (
            "(SELECT id AS check_id FROM catering_checks WHERE outcome = 'completed')"
            if args.items == "all"
            else "(SELECT check_id FROM recent)"
        )
        run(
            f"checklist items ({args.items})",
            f"""
            INSERT INTO catering_check_items (check_id, code, position, result)
            SELECT v.check_id, (CAST(:codes AS text[]))[n], n - 1,
                CASE WHEN hz.id IS NULL THEN 'pass' ELSE 'fail' END
            FROM {items_from} AS v
            CROSS JOIN generate_series(1, 7) AS n
            LEFT JOIN catering_hazards AS hz
                ON hz.opened_by_check_id = v.check_id AND hz.item_code = (CAST(:codes AS text[]))[n]
            """,
        )
        run(
            "status columns from the checks and hazards",
            """
            UPDATE customers AS c
            SET last_check_at = s.last_check, last_visit_at = s.last_visit,
                open_hazard_count = coalesce(h.n, 0), next_hazard_deadline = h.earliest
            FROM (SELECT customer_id,
                         max(checked_at) FILTER (WHERE outcome = 'completed') AS last_check,
                         max(checked_at) AS last_visit
                  FROM catering_checks GROUP BY customer_id) AS s
            LEFT JOIN (SELECT customer_id, count(*) AS n, min(deadline) AS earliest
                       FROM catering_hazards WHERE closed_at IS NULL
                       GROUP BY customer_id) AS h ON h.customer_id = s.customer_id
            WHERE c.id = s.customer_id
            """,
        )
    vacuum_analyze(engine)


def describe(engine: Engine) -> None:
    with engine.connect() as connection:
        counts = connection.execute(
            text(
                """
                SELECT (SELECT count(*) FROM customers WHERE is_catering),
                       (SELECT count(*) FROM customers),
                       (SELECT count(*) FROM catering_checks),
                       (SELECT count(*) FROM catering_check_items),
                       (SELECT count(*) FROM catering_hazards),
                       (SELECT count(*) FROM catering_hazards WHERE closed_at IS NULL),
                       pg_size_pretty(pg_total_relation_size('catering_checks')),
                       pg_size_pretty(pg_total_relation_size('customers'))
                """
            )
        ).one()
    print(
        f"catering users {counts[0]:,} (customers {counts[1]:,}), checks {counts[2]:,}, "
        f"items {counts[3]:,}, hazards {counts[4]:,} ({counts[5]:,} open); "
        f"checks table {counts[6]}, customers table {counts[7]}"
    )


@contextmanager
def captured_sql(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def explain(engine: Engine, client: Any, label: str, url: str, headers: dict[str, str]) -> None:
    with captured_sql(engine) as statements:
        assert client.get(url, headers=headers).status_code == 200
    print(f"\n--- plans: {label} ({url})")
    # In one transaction, like the request: its SET LOCAL settings apply to what follows.
    with engine.begin() as connection:
        for statement, parameters in statements:
            if statement.startswith("SET LOCAL"):
                connection.exec_driver_sql(statement, parameters)
                print(statement)
            if "customers" not in statement and "catering" not in statement:
                continue
            plan = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, parameters
            ).all()
            print("\n".join(row[0] for row in plan), "\n")


def time_requests(
    client: Any, headers: dict[str, str], urls: Callable[[], str], count: int
) -> tuple[list[float], Any]:
    for _ in range(10):
        client.get(urls(), headers=headers)
    times, last = [], None
    for _ in range(count):
        url = urls()
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)
        last = response
    return times, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--checks", type=int, default=5_000_000)
    parser.add_argument("--items", choices=("recent", "all"), default="recent")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument(
        "--exports", action="store_true", help="also time one CSV and one XLSX export each"
    )
    parser.add_argument("--database-url")
    parser.add_argument(
        "--reuse", action="store_true", help="time the database a previous run built"
    )
    args = parser.parse_args()
    url = bench_database_url(args.database_url or DEFAULT_URL)
    print(f"database: {url.split('@')[-1]}")
    started = time.perf_counter()
    if not args.reuse:
        print("building:")
        done = step("schema (migrations)")
        fresh_database(url)
        done()
    app = app_for(url)
    engine = app.extensions["cylinder_trace.db"].engine
    if args.reuse:
        tokens = reviewer_tokens(app)
    else:
        seed = seed_organisations(app)
        build(engine, seed, args)
        tokens = seed["tokens"]
        print(f"  built in {time.perf_counter() - started:.0f} s")
    describe(engine)

    client = app.test_client()
    rng = random.Random(7)
    list_url = "/api/v1/catering-users?status=due&status=overdue&page_size=50"
    scenarios: list[tuple[str, str, Callable[[], str]]] = [
        ("city", "due/overdue page 1", lambda: list_url),
        ("city", "due/overdue page 1-20", lambda: f"{list_url}&page={rng.randint(1, 20)}"),
        ("city", "summary", lambda: "/api/v1/catering-users/summary"),
        ("district", "due/overdue page 1", lambda: list_url),
        ("district", "due/overdue page 1-20", lambda: f"{list_url}&page={rng.randint(1, 20)}"),
        ("district", "summary", lambda: "/api/v1/catering-users/summary"),
        ("city", "past-deadline hazards page 1", lambda: f"{list_url}&hazard=past_deadline"),
        ("city", "all users by name page 1", lambda: "/api/v1/catering-users?sort=name"),
    ]
    print(f"\n{'reviewer':<9} {'request':<30} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}  rows")
    for who, label, urls in scenarios:
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        times, last = time_requests(client, headers, urls, args.requests)
        total = last.headers.get("X-Pagination", "")
        if label == "summary":
            total = f"users={last.get_json()['total']['catering_users']}"
        print(
            f"{who:<9} {label:<30} {statistics.median(times):7.1f} "
            f"{percentile(times, 0.95):7.1f} {max(times):7.1f}  {total}"
        )
    print("goal: a page of the due/overdue list and the summary each under 100 ms")

    if args.exports:
        print(f"\n{'reviewer':<9} {'export (one request)':<30} {'seconds':>7}  size")
        for who in ("district", "city"):
            headers = {"Authorization": f"Bearer {tokens[who]}"}
            for kind in ("csv", "xlsx"):
                started = time.perf_counter()
                response = client.get(f"/api/v1/catering-users/export.{kind}", headers=headers)
                elapsed = time.perf_counter() - started
                assert response.status_code == 200
                label = f"all users, {kind.upper()}"
                print(f"{who:<9} {label:<30} {elapsed:7.1f}  {len(response.data) / 1e6:.1f} MB")

    if args.explain:
        for who in ("city", "district"):
            headers = {"Authorization": f"Bearer {tokens[who]}"}
            explain(engine, client, f"{who} list", f"{list_url}&page=3", headers)
            explain(engine, client, f"{who} summary", "/api/v1/catering-users/summary", headers)


if __name__ == "__main__":
    main()
