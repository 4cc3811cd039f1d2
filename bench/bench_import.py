"""Benchmark: importing 10,000 cylinders from CSV through the API, on PostgreSQL.

Run: ``.venv/bin/python bench/bench_import.py [--rows 10000] [--database-url URL]``.
Builds a fresh database (default: cylinder_trace_bench on the local server), seeds the demo
world, then POSTs one CSV file to /api/v1/cylinders/import as the demo station operator,
twice: the first run stores every row, the second must change nothing. Goal: < 10 s.
"""

from __future__ import annotations

import argparse
import io
import time

from common import app_for, bench_database_url, fresh_database
from sqlalchemy import func, select

from cylinder_trace.cylinders.models import Cylinder
from cylinder_trace.db import get_database
from cylinder_trace.demo.seed import seed_demo

MODELS = ("YSP35.5", "YSP118", "YSP12", "YSP4.7")


def make_csv(rows: int) -> bytes:
    lines = ["code,model,manufacturer,serial_no,manufactured_on,tare_kg,last_inspected_on"]
    for i in range(rows):
        year = 2020 + i % 6
        inspected = f"{year + 4}-0{1 + i % 9}-15" if year <= 2021 else ""
        lines.append(
            f"CQDZ-{i:08d},{MODELS[i % 4]},重庆钢瓶厂,SN{i:09d},{year}-0{1 + i % 9}-1{i % 10},"
            f"{15 + (i % 30) / 10:.2f},{inspected}"
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = bench_database_url(args.database_url)
    fresh_database(url)
    app = app_for(url)
    with app.app_context(), get_database().session_scope() as session:
        tokens = {t.role: t.token for t in seed_demo(session)}
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens['station_operator']}"}
    data = make_csv(args.rows)
    print(f"database: {url.split('@')[-1]}  rows: {args.rows}  file: {len(data) / 1e6:.2f} MB")
    for run in ("first import", "re-import"):
        started = time.perf_counter()
        response = client.post(
            "/api/v1/cylinders/import",
            data={"file": (io.BytesIO(data), "cylinders.csv")},
            headers=headers,
            content_type="multipart/form-data",
        )
        elapsed = time.perf_counter() - started
        report = response.get_json()
        assert response.status_code == 200, report
        print(
            f"{run:>13}: {elapsed:6.2f} s  ({args.rows / elapsed:8.0f} rows/s)  "
            f"created={report['created']} unchanged={report['unchanged']} "
            f"rejected={report['rejected']}"
        )
    with app.app_context(), get_database().session_scope() as session:
        stored = session.scalar(select(func.count()).select_from(Cylinder))
    print(f"cylinders stored: {stored}  goal: {args.rows} rows in under 10 s")


if __name__ == "__main__":
    main()
