"""The baseline for bench_scans.py: a bare Flask endpoint that inserts one row per request.

No flask-smorest, no marshmallow, no ORM, no authentication: ``POST /insert`` parses the same
JSON body a scan carries, inserts one row with SQLAlchemy Core into a table of its own, commits
and answers 201 with the new id. The engine is the service's own
(``cylinder_trace.db.make_engine``: pool_size 5, max_overflow 10, psycopg 3, statements
prepared only on request), so the two differ by what the service does, not by how it
connects.

Run: ``DATABASE_URL=postgresql://... gunicorn -w 2 -b 127.0.0.1:PORT bench.baseline_app:app``
from the repository root. ``GET /api/v1/health`` answers like the service's, for the poller.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, request
from sqlalchemy import text

from cylinder_trace.db import make_engine

TABLE = "bench_baseline_scans"
CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id bigserial PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE,
    kind text NOT NULL,
    code text NOT NULL,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    data jsonb NOT NULL
)
"""
INSERT = text(
    f"INSERT INTO {TABLE} (event_id, kind, code, occurred_at, received_at, data) "
    "VALUES (:event_id, :kind, :code, :occurred_at, :received_at, CAST(:data AS jsonb)) "
    "RETURNING id"
)


def engine_for(url: str):  # type: ignore[no-untyped-def]
    """The service's own engine (cylinder_trace.db.make_engine), for a fair comparison."""
    return make_engine(url)


def database_url() -> str:
    url = os.environ["DATABASE_URL"]
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def create_table(url: str) -> None:
    engine = engine_for(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
        connection.execute(text(CREATE_TABLE))
    engine.dispose()


def create_baseline_app() -> Flask:
    app = Flask(__name__)
    engine = engine_for(database_url())

    @app.post("/insert")
    def insert() -> Response:
        body = request.get_json()
        data = {key: body[key] for key in ("gross_kg", "pre_fill_check") if key in body}
        with engine.begin() as connection:
            new_id = connection.execute(
                INSERT,
                {
                    "event_id": uuid.UUID(body["event_id"]),
                    "kind": body["kind"],
                    "code": body["code"],
                    "occurred_at": datetime.fromisoformat(body["occurred_at"]),
                    "received_at": datetime.now(UTC),
                    "data": json.dumps(data),
                },
            ).scalar_one()
        return Response(
            json.dumps({"id": new_id, "event_id": body["event_id"]}),
            status=201,
            mimetype="application/json",
        )

    @app.get("/api/v1/health")
    def health() -> Response:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return Response('{"status": "ok"}', mimetype="application/json")

    return app


app = create_baseline_app() if "DATABASE_URL" in os.environ else None
