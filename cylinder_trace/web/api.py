"""The flask-smorest Api and the Blueprint every resource uses.

``Blueprint.access`` is how an endpoint declares who may call it. It authenticates the
bearer token, checks the role, and documents the security requirement and the 401/403
responses in OpenAPI. A test asserts that every endpoint under /api/v1 has declared access.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

import flask_smorest
from flask import g, request
from flask_smorest.utils import resolve_schema_instance

from cylinder_trace.auth.tokens import authenticate
from cylinder_trace.db import READ_METHODS, get_session, read_from_replica
from cylinder_trace.domain.errors import Forbidden
from cylinder_trace.domain.roles import Role
from cylinder_trace.paging import Keyset, page_of
from cylinder_trace.principal import Principal
from cylinder_trace.web import docs, spec
from cylinder_trace.web.bounds import InputSchema
from cylinder_trace.web.current import settings
from cylinder_trace.web.edge import EdgeParser
from cylinder_trace.web.errors import ErrorSchema, handle_error
from cylinder_trace.web.listing import keyset_metadata

API_PREFIX = "/api/v1"
DEVICE = "device"  # pseudo-role: a token held by a device alone


class Api(flask_smorest.Api):
    """flask-smorest's Api: every error in the project's one JSON format, and the document
    corrected where apispec alone would say otherwise than the service does (web/spec.py)."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):  # type: ignore[override]
        return handle_error(error)

    def _init_spec(self, *, marshmallow_plugin: Any = None, **kwargs: Any) -> None:
        super()._init_spec(
            marshmallow_plugin=marshmallow_plugin or spec.marshmallow_plugin(), **kwargs
        )

    def _register_pagination_header(self) -> None:
        self.spec.components.header("PAGINATION", spec.PAGINATION_HEADER, lazy=True)

    def _register_doc_blueprint(self) -> None:
        super()._register_doc_blueprint()
        docs.register(self._app)

    def _openapi_swagger_ui(self) -> str:
        return docs.swagger_ui_page(self)


def fix_spec_fields(api: Api) -> None:
    """Corrections to how apispec describes some marshmallow fields."""
    spec.describe_fields(api)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def current_principal() -> Principal:
    """The authenticated caller of this request (after ``access`` has run)."""
    return g.principal


class Blueprint(flask_smorest.Blueprint):
    """A resource blueprint under /api/v1 with declared access on every endpoint."""

    # Reads the body the edge parsed and checked (web/edge.py), and bounds page numbers.
    ARGUMENTS_PARSER = EdgeParser()
    PAGINATION_ARGUMENTS_PARSER = EdgeParser()

    def _set_pagination_metadata(self, page_params: Any, result: Any, headers: Any) -> Any:
        metadata = keyset_metadata(page_params)
        if metadata is None:
            return super()._set_pagination_metadata(page_params, result, headers)
        headers = headers if headers is not None else {}
        headers[self.PAGINATION_HEADER_NAME] = json.dumps(metadata)
        return result, headers

    def arguments(self, schema: Any, *args: Any, **kwargs: Any) -> Any:
        """flask-smorest's ``arguments``, with the schema built once, and bounded.

        Given a class, webargs builds a new schema for every request, and building one
        deep-copies its fields: half a millisecond of CPU per request for nothing. A
        request schema derives from InputSchema, which bounds every field (web/bounds.py).
        """
        instance = resolve_schema_instance(schema)
        if not isinstance(instance, InputSchema):
            raise TypeError(f"{type(instance).__name__}: a request schema derives from InputSchema")
        return super().arguments(instance, *args, **kwargs)

    def access(
        self, *roles: Role | str, public: bool = False
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Declare who may call the endpoint: the listed roles (and ``DEVICE``), or anyone.

        The check runs before the body is parsed, so a caller without the right gets
        401/403 and never a validation error that could leak what the endpoint expects.
        """
        allowed = frozenset(str(role) for role in roles)
        if not public and not allowed:
            raise ValueError("name at least one role, or say public=True")

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                if not public:
                    principal = authenticate(get_session(), bearer_token())
                    g.principal = principal
                    if request.method in READ_METHODS and principal.jurisdiction is not None:
                        # An authority's lists and exports: the replica's work, if any.
                        read_from_replica()
                    caller_role = str(principal.role) if principal.role else DEVICE
                    if caller_role not in allowed:
                        raise Forbidden(
                            "Your role may not use this endpoint.",
                            details={"role": caller_role, "allowed": sorted(allowed)},
                        )
                return view(*args, **kwargs)

            wrapper._access = {"public": public, "roles": sorted(allowed)}  # type: ignore[attr-defined]
            if public:
                return self.doc(security=[])(wrapper)
            described = ", ".join(sorted(allowed))
            documented = self.doc(
                security=[{"bearerAuth": []}],
                description=_append_roles(view.__doc__, described),
            )(wrapper)
            documented = self.alt_response(401, response="UNAUTHORIZED")(documented)
            return self.alt_response(403, response="FORBIDDEN")(documented)

        return decorator


def _append_roles(doc: str | None, roles: str) -> str:
    text = (doc or "").strip()
    parts = text.split("\n\n", 1)
    body = parts[1] if len(parts) > 1 else ""
    return (body + "\n\n" if body else "") + f"Who may call: {roles}."


def register_blueprints(api: Api, blueprints: Iterable[Blueprint]) -> None:
    for blueprint in blueprints:
        api.register_blueprint(blueprint, url_prefix=f"{API_PREFIX}{blueprint.url_prefix or ''}")


def paginate_query(
    session: Any,
    statement: Any,
    pagination: Any,
    *,
    keyset: Keyset | None = None,
    after: str | None = None,
) -> list[Any]:
    """Run a select for one page of a ``@blp.paginate()`` endpoint and set the item count.

    With a ``keyset`` (the list's sort key) the list is a large one: it is sorted by the
    key, ``after`` (a cursor from an earlier page's ``next_cursor``) starts the page after
    that row, and the count stops at the ``list_count_limit`` setting (``paging``).
    """
    if keyset is None:
        from sqlalchemy import func, select

        pagination.item_count = session.scalar(
            select(func.count()).select_from(statement.order_by(None).subquery())
        )
        page = statement.limit(pagination.page_size).offset(pagination.first_item)
        return list(session.scalars(page).unique())
    found = page_of(
        session,
        statement,
        keyset=keyset,
        page_size=pagination.page_size,
        offset=pagination.first_item,
        after=after,
        count_limit=settings().list_count_limit,
    )
    pagination.item_count = found.total
    pagination.keyset_page = found
    return found.items
