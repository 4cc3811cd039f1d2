"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, send_from_directory
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from swagger_ui_bundle import swagger_ui_path
from werkzeug.middleware.proxy_fix import ProxyFix

from cylinder_trace.config import (
    REGISTRY_EXTENSION,
    SETTINGS_CONFIG_KEY,
    Settings,
    load_settings,
)
from cylinder_trace.db import Database, make_engine
from cylinder_trace.replicas import ReplicaMonitor
from cylinder_trace.web import edge
from cylinder_trace.web.api import Api, fix_spec_fields, register_blueprints
from cylinder_trace.web.errors import handle_error, register_error_handlers
from cylinder_trace.web.headers import register_security_headers

SWAGGER_UI_ASSETS = "/api/docs/assets"


class ReusedSerializerSessionInterface(SecureCookieSessionInterface):
    """Flask's cookie sessions, with the signing serializer built once per set of keys.

    Flask builds it for every request, API calls without a cookie included; that was a
    twentieth of the CPU of recording one scan.
    """

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = app.extensions.get("cylinder_trace.session_serializer")
        if cached is None or cached[0] != keys:
            cached = (keys, super().get_signing_serializer(app))
            app.extensions["cylinder_trace.session_serializer"] = cached
        return cached[1]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides environment variables of the same names.

    Every setting is read and checked here (``config.load_settings``: a bad value raises
    ``ConfigError`` now, not at a first request), and the app's singletons are built from
    them (``registry.build_registry``); read them with ``web.current.settings()`` and
    ``web.current.registry()``.
    """
    settings = load_settings(config)
    from cylinder_trace.registry import build_registry

    registry = build_registry(settings)
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(
        {SETTINGS_CONFIG_KEY: settings},
        SECRET_KEY=settings.secret_key,
        TESTING=settings.env == "testing",
        API_TITLE="cylinder-trace",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=f"{SWAGGER_UI_ASSETS}/",
        API_SPEC_OPTIONS={
            "info": {
                "description": "Traceability of bottled LPG cylinders: registry, fills, scans, "
                "real-name sales and weekly safety checks. Every error has the body "
                "{code, status, message, details}."
            },
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "ct_…"}
                }
            },
        },
    )
    # Keep the error body in its documented order: code, status, message, details.
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    logging.basicConfig(level=settings.log_level)

    app.session_interface = ReusedSerializerSessionInterface()
    if settings.trusted_proxies:
        # The client's address and scheme as the proxies saw them (sign-in limits, the audit
        # of ID-number reveals, secure cookies). Without proxies these headers are whatever
        # the client wrote, so they are believed only when configured.
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    database = Database(settings.database_url, echo=settings.sql_echo)
    database.replica = _replica_monitor(settings, database.engine)
    app.extensions["cylinder_trace.db"] = database
    app.extensions[REGISTRY_EXTENSION] = registry
    _manage_request_sessions(app)
    # Before any route exists: the edge brings the converters that bound path integers.
    edge.install(app)

    api = Api(app)
    fix_spec_fields(api)
    _serve_swagger_ui_assets(app)
    register_error_handlers(app)
    register_security_headers(app)
    register_blueprints(api, _blueprints())

    from cylinder_trace.pages import bp as pages

    app.register_blueprint(pages)

    from cylinder_trace.cli import register_commands

    register_commands(app)
    return app


def _replica_monitor(settings: Settings, primary: Engine) -> ReplicaMonitor | None:
    """The watch on the streaming replica the authorities read, if one is configured; it
    asks the app's own engine (``primary``) how far the primary has written."""
    if settings.replica_database_url is None:
        return None
    return ReplicaMonitor(
        primary,
        make_engine(settings.replica_database_url),
        max_lag=settings.replica_max_lag_seconds,
        check_every=settings.replica_check_seconds,
    )


def _serve_swagger_ui_assets(app: Flask) -> None:
    """Serve Swagger UI from the installed package: no CDN, so the docs work offline."""

    @app.get(f"{SWAGGER_UI_ASSETS}/<path:filename>")
    def swagger_ui_asset(filename: str) -> Response:
        return send_from_directory(swagger_ui_path, filename, max_age=86400)


def _blueprints() -> list[Any]:
    from cylinder_trace.auth.api import blp as auth
    from cylinder_trace.catering.api import blp as catering
    from cylinder_trace.customers.api import blp as customers
    from cylinder_trace.cylinders.api import blp as cylinders
    from cylinder_trace.cylinders.history_api import blp as cylinder_history
    from cylinder_trace.cylinders.label_printing_api import blp as cylinder_labels
    from cylinder_trace.cylinders.label_printing_api import verify_blp as labels
    from cylinder_trace.devices.api import blp as devices
    from cylinder_trace.divisions.api import blp as divisions
    from cylinder_trace.health.api import blp as health
    from cylinder_trace.organisations.api import blp as organisations
    from cylinder_trace.scans.api import blp as scans
    from cylinder_trace.scans.search_api import blp as scan_search
    from cylinder_trace.users.api import blp as users

    return [
        health,
        auth,
        organisations,
        divisions,
        users,
        devices,
        cylinders,
        cylinder_history,
        cylinder_labels,
        labels,
        customers,
        catering,
        scans,
        scan_search,
    ]


def _manage_request_sessions(app: Flask) -> None:
    """The request is the one place that commits: on success, and only then."""

    @app.after_request
    def commit(response: Response) -> Response:
        session = g.get("db_session")
        if session is None:
            return response
        if response.status_code >= 400 and not g.get("keep_changes_on_error"):
            session.rollback()
            return response
        try:
            session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            return handle_error(exc)
        return response

    @app.teardown_request
    def close(_exc: BaseException | None) -> None:
        for name in ("db_session", "replica_session"):
            session = g.pop(name, None)
            if session is not None:
                session.close()
