"""One error format for every failure: ``{"code", "status", "message", "details"}``.

Domain errors carry their own stable code; HTTP errors (bad JSON, validation, unknown
routes) and database constraint violations are given one here, so a client never sees
another shape, an HTML page or a stack trace.
"""

from __future__ import annotations

import logging
import re
import traceback
from http import HTTPStatus
from typing import Any

import marshmallow as ma
from flask import Flask, Response, jsonify
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from cylinder_trace.db import Base, describe_database_error
from cylinder_trace.domain.errors import DomainError
from cylinder_trace.web.constraints import CONSTRAINT_ERRORS

log = logging.getLogger(__name__)

KIND_STATUS = {
    "invalid": 422,
    "refused": 422,
    "conflict": 409,
    "not_found": 404,
    "forbidden": 403,
    "unauthenticated": 401,
}

STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}


class ErrorSchema(ma.Schema):
    """The body of every error response."""

    code = ma.fields.String(required=True, metadata={"example": "inspection_overdue"})
    status = ma.fields.Integer(required=True, metadata={"example": 422})
    message = ma.fields.String(required=True)
    details = ma.fields.Dict(metadata={"description": "Machine-readable context, per code"})


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> Response:
    response = jsonify(
        {"code": code, "status": status, "message": message, "details": details or {}}
    )
    response.status_code = status
    return response


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    details: dict[str, Any] = {}
    message = error.description or HTTPStatus(status).phrase
    if status == 422 and "messages" in data:
        # webargs puts field errors under the request location: {"json": {"field": [...]}}.
        details = {"fields": data["messages"]}
        message = "The request has invalid fields; see details.fields."
    elif "message" in data:
        message = data["message"]
    code = data.get("code") or STATUS_CODES.get(
        status, HTTPStatus(status).phrase.lower().replace(" ", "_")
    )
    response = error_response(status, code, message, data.get("details") or details)
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        # RFC 9110: a 405 names the methods the resource has.
        response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return response


def _domain_error(error: DomainError) -> Response:
    status = KIND_STATUS[error.kind]
    response = error_response(status, error.code, error.message, error.details)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="cylinder-trace"'
    return response


_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)$")
_SQLITE_CHECK = re.compile(r"CHECK constraint failed: (\w+)")


def _constraint_name(error: IntegrityError) -> str | None:
    diag = getattr(error.orig, "diag", None)
    if diag is not None and getattr(diag, "constraint_name", None):
        return diag.constraint_name
    text = str(error.orig)
    if match := _SQLITE_CHECK.search(text):
        return match.group(1)
    if match := _SQLITE_UNIQUE.search(text):
        # SQLite names the columns, not the constraint: find the constraint by them.
        columns = [part.strip() for part in match.group(1).split(",")]
        table = columns[0].split(".")[0]
        names = {column.split(".")[1] for column in columns}
        table_obj = Base.metadata.tables.get(table)
        if table_obj is not None:
            for candidate in [*table_obj.constraints, *table_obj.indexes]:
                cols = {column.name for column in getattr(candidate, "columns", [])}
                if cols == names and candidate.name:
                    return str(candidate.name)
    return None


def _integrity_error(error: IntegrityError) -> Response:
    name = _constraint_name(error)
    if name and name in CONSTRAINT_ERRORS:
        code, message = CONSTRAINT_ERRORS[name]
        return error_response(409, code, message, {"constraint": name})
    log.warning("integrity error without a registered meaning: %s", describe_database_error(error))
    return error_response(
        409,
        "constraint_violation",
        "The change conflicts with data already stored; nothing was changed.",
        {"constraint": name} if name else {},
    )


def _operational_error(error: OperationalError) -> Response:
    log.error("database unavailable: %s", describe_database_error(error))
    return error_response(
        503, "database_unavailable", "The database did not answer; try again shortly."
    )


def _unexpected(error: Exception) -> Response:
    database_error = _database_error_in(error)
    if database_error is None:
        log.exception("unhandled error", exc_info=error)
    else:
        # Where it happened, without any exception's message (they repeat the values).
        where = "".join(traceback.format_tb(error.__traceback__))
        log.error(
            "unhandled database error: %s\n%s", describe_database_error(database_error), where
        )
    return error_response(500, "internal_error", "An unexpected error occurred.")


def _database_error_in(error: BaseException | None) -> DBAPIError | None:
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, DBAPIError):
            return error
        error, seen = error.__cause__ or error.__context__, seen + 1
    return None


def handle_error(error: Exception) -> Response:
    """Turn any exception into the one JSON error response."""
    if isinstance(error, DomainError):
        return _domain_error(error)
    if isinstance(error, HTTPException):
        if error.code == 500:
            return _unexpected(getattr(error, "original_exception", None) or error)
        return _http_error(error)
    if isinstance(error, IntegrityError):
        return _integrity_error(error)
    if isinstance(error, OperationalError):
        return _operational_error(error)
    return _unexpected(error)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_error)
    app.register_error_handler(DomainError, handle_error)
    app.register_error_handler(IntegrityError, handle_error)
    app.register_error_handler(OperationalError, handle_error)
    app.register_error_handler(Exception, handle_error)
