"""/api/v1/health"""

from __future__ import annotations

import time
from typing import Any

import marshmallow as ma
from flask.views import MethodView
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from cylinder_trace.db import get_database
from cylinder_trace.version import __version__
from cylinder_trace.web.api import Blueprint

blp = Blueprint("health", __name__, url_prefix="/health", description="Service health.")


class DatabaseHealthSchema(ma.Schema):
    ok = ma.fields.Boolean()
    backend = ma.fields.String(metadata={"example": "postgresql"})
    latency_ms = ma.fields.Float(allow_none=True)
    error = ma.fields.String(allow_none=True)


class HealthSchema(ma.Schema):
    status = ma.fields.String(metadata={"example": "ok"})
    version = ma.fields.String()
    database = ma.fields.Nested(DatabaseHealthSchema)


@blp.route("")
class Health(MethodView):
    @blp.access(public=True)
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="The database does not answer")
    def get(self) -> Any:
        """Report the version and whether the database answers

        Public, so that load balancers and monitors can call it without a token.
        """
        database = get_database()
        started = time.perf_counter()
        # A connection of its own: health must not depend on, or disturb, a request session.
        try:
            with database.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            db = {
                "ok": True,
                "backend": database.backend,
                "latency_ms": round((time.perf_counter() - started) * 1000, 2),
                "error": None,
            }
        except SQLAlchemyError as exc:
            db = {
                "ok": False,
                "backend": database.backend,
                "latency_ms": None,
                "error": type(exc).__name__,
            }
        body = {"status": "ok" if db["ok"] else "degraded", "version": __version__, "database": db}
        return body, 200 if db["ok"] else 503
