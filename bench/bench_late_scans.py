"""Benchmark: a batch of 500 late scans for 125 cylinders, re-judging what they precede.

Run: ``.venv/bin/python bench/bench_late_scans.py [--repeats 5] [--url postgresql://...]``.

On PostgreSQL (default database cylinder_trace_bench_late on the local server, rebuilt
from scratch), in this process through ``app.test_client()`` as the courier's handheld:

1. registers ``125 x (repeats + 1)`` cylinders and a customer (the demo world, as
   bench_scans does);
2. for each repeat, on 125 fresh cylinders: uploads the later half of each cylinder's day
   first (receive_empty, fill, dispatch, deliver: 500 scans, which arrive out of their
   context and are flagged), then the earlier half (fill, dispatch, deliver, collect: 500
   scans that all happened before those stored). That second batch is the late one: each
   cylinder's history is replayed and the stored scans' flags are cleared (500 verdict
   changes logged);
3. as the baseline, in the same run: a batch of 500 scans that follow the histories
   (no replay), on the same kind of cylinders;
4. prints per batch: the median time of each kind, their ratio, the SQL statements each
   request ran (a late batch must stay one round of statements, whatever its size: the
   count is also printed for a late batch of 25 cylinders), and the verdicts.

Exits 0 whatever the figures: it is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import bench_scans
from common import bench_database_url
from sqlalchemy import event, func, select

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/cylinder_trace_bench_late"
CYLINDERS = 125
LATER = ("receive_empty", "fill", "dispatch", "deliver")
EARLIER = ("fill", "dispatch", "deliver", "collect")


def _body(kind: str, code: str, at: datetime, customer_id: int, station_id: int) -> dict:
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "kind": kind,
        "code": code,
        "occurred_at": at.isoformat(),
    }
    if kind == "fill":
        body.update(gross_kg=bench_scans.GROSS, pre_fill_check=bench_scans.PRE_OK)
    if kind in ("fill", "dispatch", "receive_empty"):
        body["site_id"] = station_id
    if kind == "dispatch":
        body["vehicle_plate"] = "渝A12345"
    if kind == "deliver":
        body["buyer"] = {"customer_id": customer_id}
    return body


def day(codes: list[str], kinds: tuple[str, ...], start: datetime, world: Any, station: int):
    """One scan of each kind per cylinder, a minute apart per kind, as one list."""
    return [
        _body(kind, code, start + timedelta(minutes=step), world.customer_id, station)
        for step, kind in enumerate(kinds)
        for code in codes
    ]


class Statements:
    """Counts what a request sends to the database: SQLAlchemy's and the bulk writes."""

    def __init__(self, engine: Any) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._one)
        from cylinder_trace import bulk

        original = bulk.BulkWrite.execute
        counter = self

        def execute(self: Any) -> Any:
            if self.postgresql and self._parts:
                counter.count += 1
            return original(self)

        bulk.BulkWrite.execute = execute  # type: ignore[method-assign]

    def _one(self, *args: Any) -> None:
        self.count += 1


def upload(client: Any, headers: dict, scans: list[dict], meter: Statements) -> tuple[float, int]:
    before = meter.count
    started = time.perf_counter()
    response = client.post("/api/v1/scans/batch", json={"scans": scans}, headers=headers)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"upload failed: {response.status_code} {response.get_data(True)[:300]}")
    statuses = Counter(item["status"] for item in response.get_json()["results"])
    if statuses.get("rejected"):
        raise SystemExit(f"scans were rejected: {statuses}")
    return elapsed, meter.count - before


def run(args: argparse.Namespace) -> None:
    from cylinder_trace import create_app
    from cylinder_trace.db import get_database
    from cylinder_trace.organisations.models import Organisation
    from cylinder_trace.scans.models import Scan, ScanVerdictChange

    url = bench_database_url(args.url or DEFAULT_URL)
    total = CYLINDERS * (2 * args.repeats + 1) + 25
    instance = "/tmp/ct-bench-late"
    world = bench_scans.prepare(url, total, instance)
    app = create_app(bench_scans.service_config(url, instance))
    headers = {"Authorization": f"Bearer {world.tokens['delivery_staff']}"}
    client = app.test_client()
    with app.app_context():
        database = get_database()
        meter = Statements(database.engine)
        with database.session_scope() as session:
            station = session.scalar(
                select(Organisation.id).where(Organisation.kind == "filling_station")
            )
        late_times: list[float] = []
        following_times: list[float] = []
        late_statements: list[int] = []
        following_statements: list[int] = []
        start = datetime.now(UTC)
        # Warm up (plans, caches) on 25 cylinders; their late batch is also the small one.
        small = world.take(25)
        upload(
            client, headers, day(small, LATER, start + timedelta(minutes=20), world, station), meter
        )
        _, small_statements = upload(
            client,
            headers,
            day(small, EARLIER, start + timedelta(minutes=1), world, station),
            meter,
        )
        for _ in range(args.repeats):
            codes = world.take(CYLINDERS)
            later = day(codes, LATER, start + timedelta(minutes=20), world, station)
            upload(client, headers, later, meter)
            earlier = day(codes, EARLIER, start + timedelta(minutes=1), world, station)
            elapsed, statements = upload(client, headers, earlier, meter)
            late_times.append(elapsed)
            late_statements.append(statements)
            # The baseline: the same 500 scans on other cylinders, in the order they happened.
            fresh = world.take(CYLINDERS)
            elapsed, statements = upload(
                client,
                headers,
                day(fresh, EARLIER, start + timedelta(minutes=1), world, station),
                meter,
            )
            following_times.append(elapsed)
            following_statements.append(statements)
        with database.session_scope() as session:
            changes = session.scalar(select(func.count()).select_from(ScanVerdictChange))
            flagged = session.scalar(
                select(func.count()).select_from(Scan).where(Scan.review_code.is_not(None))
            )
        database.dispose()
    late, following = statistics.median(late_times), statistics.median(following_times)
    scans = CYLINDERS * len(EARLIER)
    print(f"batches of {scans} scans for {CYLINDERS} cylinders, {args.repeats} runs each")
    print(
        f"late batch (replays {CYLINDERS} histories): median {late * 1000:.0f} ms "
        f"= {scans / late:,.0f} scans/s; statements {sorted(set(late_statements))}"
    )
    print(
        f"in-order batch (no replay):              median {following * 1000:.0f} ms "
        f"= {scans / following:,.0f} scans/s; "
        f"statements {sorted(set(following_statements))}"
    )
    print(f"late / in-order time: {late / following:.2f}")
    print(f"statements of a late batch for 25 cylinders: {small_statements}")
    print(f"verdict changes logged: {changes:,}; scans still flagged: {flagged:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help=f"PostgreSQL URL (default: {DEFAULT_URL})")
    parser.add_argument("--repeats", type=int, default=5)
    run(parser.parse_args())


if __name__ == "__main__":
    main()
