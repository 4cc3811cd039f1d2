"""The one base class for errors the domain core raises.

Each error carries a stable machine-readable ``code`` (``inspection_overdue``) and a
``kind`` that says what went wrong in terms the web layer maps to an HTTP status,
so the core never needs to know about HTTP.
"""

from __future__ import annotations

from typing import Any, Literal

ErrorKind = Literal["invalid", "refused", "conflict", "not_found", "forbidden", "unauthenticated"]


class DomainError(Exception):
    """A rule said no. ``code`` is stable; ``message`` is for people."""

    code: str = "domain_error"
    kind: ErrorKind = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        kind: ErrorKind | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if kind is not None:
            self.kind = kind
        self.details = details or {}


class NotFound(DomainError):
    code = "not_found"
    kind = "not_found"


class Conflict(DomainError):
    code = "conflict"
    kind = "conflict"


class Forbidden(DomainError):
    code = "forbidden"
    kind = "forbidden"


class Unauthenticated(DomainError):
    code = "unauthenticated"
    kind = "unauthenticated"
