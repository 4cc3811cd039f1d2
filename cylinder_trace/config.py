"""Configuration from environment variables, with safe defaults.

Every setting has an environment variable; ``create_app(config)`` accepts a mapping of the
same names to override them (tests use that). The rule numbers that shared/domain.md marks
configurable come from a rules file (``CT_RULES_FILE``, default: the packaged one) and may
be overridden one by one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cylinder_trace.domain.rules import RulesError, RuleSettings, load_rules

# Used only outside production so that `make run` works with zero set-up.
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"
ENVIRONMENTS = ("production", "development", "testing")
MIN_SECRET_LENGTH = 32


class ConfigError(RuntimeError):
    """A configuration the service must not start with."""


@dataclass(frozen=True, slots=True)
class SignInLimits:
    """Failed sign-ins allowed on the pages within ``window`` (see ``auth.sign_in``)."""

    max_failures: int = 5  # per username
    max_failures_per_address: int = 30  # per client address, over all usernames
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class InputLimits:
    """What a request may hold, checked at the edge (``web/edge.py``, ``web/bounds.py``)."""

    max_request_bytes: int = 32 * 1024 * 1024  # any body: an import file, a visit's photos
    max_json_bytes: int = 4 * 1024 * 1024  # a JSON body: a batch of 1,000 scans is ~1 MiB
    max_json_depth: int = 32  # arrays and objects inside each other; the API needs 4
    max_form_field_bytes: int = 500_000  # one non-file field of a form
    # Dates and instants before this are no record of this service's world.
    earliest_date: date = date(2000, 1, 1)
    # An instant of something that happened may be this far ahead of the clock (a fast
    # device clock), no more; the services hold their own, tighter, rules.
    max_days_ahead: int = 7
    # Dates, deadlines and expiry times may lie ahead, but not further than this.
    max_years_ahead: int = 100


@dataclass(frozen=True, slots=True)
class Settings:
    """The validated configuration of one app instance."""

    env: str
    database_url: str
    secret_key: str
    time_zone: ZoneInfo
    rules: RuleSettings
    instance_path: Path
    label_base_url: str = "HTTP://127.0.0.1:5000/C/"
    label_keys: dict[str, bytes] = field(default_factory=dict)
    label_key_id: str = "1"
    # Resident ID numbers: AES-256-GCM keys by id (the first is current) and the lookup key.
    pii_keys: dict[str, bytes] = field(default_factory=dict)
    pii_key_id: str = ""
    pii_hash_key: bytes = b""
    sql_echo: bool = False
    log_level: str = "INFO"
    sign_in_limits: SignInLimits = field(default_factory=SignInLimits)
    # Reverse proxies in front of the service whose X-Forwarded-For/-Proto headers are trusted.
    trusted_proxies: int = 0
    input_limits: InputLimits = field(default_factory=InputLimits)
    # Signed checkpoints of the scan chains' heads, kept outside the database (append-only).
    checkpoint_path: Path | None = None
    checkpoint_key: bytes = b""

    @property
    def is_production(self) -> bool:
        return self.env == "production"


def instance_path(environ: Mapping[str, str]) -> Path:
    """Where local state lives (SQLite file, demo tokens): ``CT_INSTANCE_PATH`` or ./instance."""
    return Path(environ.get("CT_INSTANCE_PATH") or Path.cwd() / "instance").resolve()


def default_database_url(environ: Mapping[str, str]) -> str:
    return f"sqlite:///{instance_path(environ) / 'cylinder-trace.db'}"


def normalise_database_url(url: str) -> str:
    """Accept the common spellings of a PostgreSQL URL and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def database_url(environ: Mapping[str, str]) -> str:
    """The database URL the app and Alembic use: ``DATABASE_URL`` or a SQLite file."""
    return normalise_database_url(environ.get("DATABASE_URL") or default_database_url(environ))


def _int(environ: Mapping[str, Any], name: str) -> int | None:
    raw = environ.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def positive_int(source: Mapping[str, Any], name: str, default: int) -> int:
    """The whole number ``source[name]`` (1 or more), ``default`` when unset; else ConfigError."""
    value = _int(source, name)
    if value is None:
        return default
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, got {value}")
    return value


def _sign_in_limits(environ: Mapping[str, str]) -> SignInLimits:
    defaults = SignInLimits()
    return SignInLimits(
        max_failures=positive_int(environ, "CT_SIGN_IN_MAX_FAILURES", defaults.max_failures),
        max_failures_per_address=positive_int(
            environ, "CT_SIGN_IN_MAX_FAILURES_PER_ADDRESS", defaults.max_failures_per_address
        ),
        window=timedelta(
            minutes=positive_int(
                environ, "CT_SIGN_IN_WINDOW_MINUTES", int(defaults.window.total_seconds() // 60)
            )
        ),
    )


def _input_limits(environ: Mapping[str, str]) -> InputLimits:
    defaults = InputLimits()
    raw_date = environ.get("CT_EARLIEST_DATE") or ""
    try:
        earliest = date.fromisoformat(raw_date) if raw_date else defaults.earliest_date
    except ValueError as exc:
        raise ConfigError(
            f"CT_EARLIEST_DATE must be a date (YYYY-MM-DD), got {raw_date!r}"
        ) from exc
    names = {
        "max_request_bytes": "CT_MAX_REQUEST_BYTES",
        "max_json_bytes": "CT_MAX_JSON_BYTES",
        "max_json_depth": "CT_MAX_JSON_DEPTH",
        "max_form_field_bytes": "CT_MAX_FORM_FIELD_BYTES",
        "max_days_ahead": "CT_MAX_DAYS_AHEAD",
        "max_years_ahead": "CT_MAX_YEARS_AHEAD",
    }
    values = {
        key: positive_int(environ, name, getattr(defaults, key)) for key, name in names.items()
    }
    return InputLimits(earliest_date=earliest, **values)


def _trusted_proxies(environ: Mapping[str, str]) -> int:
    value = _int(environ, "CT_TRUSTED_PROXIES") or 0
    if value < 0:
        raise ConfigError(f"CT_TRUSTED_PROXIES must be 0 or more, got {value}")
    return value


def _bool(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _derived_key(secret_key: str, purpose: str) -> bytes:
    """A development key derived from SECRET_KEY, so `make run` needs no key set-up."""
    return hmac.new(secret_key.encode("utf-8"), purpose.encode("ascii"), hashlib.sha256).digest()


def _label_settings(environ: Mapping[str, str], env: str, secret_key: str) -> dict[str, object]:
    # Imported here: the label package loads fonts and layouts, which config need not.
    from cylinder_trace.labels.signing import LabelSigner, parse_keys

    base_url = environ.get("CT_LABEL_BASE_URL") or ""
    spec = environ.get("CT_LABEL_KEYS") or ""
    if env == "production" and (not base_url or not spec):
        raise ConfigError(
            "CT_LABEL_BASE_URL and CT_LABEL_KEYS must be set in production: labels glued to "
            "cylinders must keep verifying, so their keys cannot be derived or defaulted."
        )
    try:
        keys = parse_keys(spec) if spec else {"1": _derived_key(secret_key, "label-key-1")}
    except ValueError as exc:
        raise ConfigError(f"CT_LABEL_KEYS: {exc}") from exc
    key_id = environ.get("CT_LABEL_KEY_ID") or next(iter(keys))
    base_url = base_url or "HTTP://127.0.0.1:5000/C/"
    try:
        LabelSigner(base_url, keys, key_id)
    except ValueError as exc:
        raise ConfigError(f"label signing settings: {exc}") from exc
    return {"label_base_url": base_url, "label_keys": keys, "label_key_id": key_id}


def _pii_settings(environ: Mapping[str, str], env: str, secret_key: str) -> dict[str, object]:
    # Imported here, like the label settings: config needs no crypto until it reads these.
    from cylinder_trace.customers.crypto import PiiConfigError, pii_settings

    try:
        return pii_settings(environ, production=env == "production", secret_key=secret_key)
    except PiiConfigError as exc:
        raise ConfigError(str(exc)) from exc


def _checkpoint_settings(
    environ: Mapping[str, str], env: str, secret_key: str
) -> dict[str, object]:
    spec = environ.get("CT_CHECKPOINT_KEY") or ""
    if env == "production" and len(spec) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"CT_CHECKPOINT_KEY must be set in production (at least {MIN_SECRET_LENGTH} "
            "characters, kept outside the database): it signs the scan chains' checkpoints."
        )
    key = (
        hashlib.sha256(spec.encode("utf-8")).digest()
        if spec
        else _derived_key(secret_key, "scan-checkpoint-key")
    )
    path = Path(
        environ.get("CT_CHECKPOINT_PATH") or instance_path(environ) / "scan-checkpoints.jsonl"
    )
    return {"checkpoint_path": path.resolve(), "checkpoint_key": key}


def load_settings(overrides: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the configuration; raise ConfigError when it is unsafe or broken."""
    environ: dict[str, str] = dict(os.environ)
    if overrides:
        environ.update({key: str(value) for key, value in overrides.items()})

    env = environ.get("CT_ENV", "production").strip().lower()
    if env not in ENVIRONMENTS:
        raise ConfigError(f"CT_ENV must be one of {', '.join(ENVIRONMENTS)}, got {env!r}")

    secret_key = environ.get("SECRET_KEY") or DEV_SECRET_KEY
    if env == "production":
        if secret_key == DEV_SECRET_KEY:
            raise ConfigError(
                "SECRET_KEY is not set: refusing to run in production with the default secret. "
                "Set SECRET_KEY to a random string of at least 32 characters, "
                "or CT_ENV=development for local use."
            )
        if len(secret_key) < MIN_SECRET_LENGTH:
            raise ConfigError(f"SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")

    zone_name = environ.get("CT_TIME_ZONE", "Asia/Shanghai")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"CT_TIME_ZONE {zone_name!r} is not a known time zone") from exc

    try:
        rules = load_rules(environ.get("CT_RULES_FILE") or None).with_overrides(
            inspection_interval_months=_int(environ, "CT_INSPECTION_INTERVAL_MONTHS"),
            design_life_years=_int(environ, "CT_DESIGN_LIFE_YEARS"),
            life_extension_years=_int(environ, "CT_LIFE_EXTENSION_YEARS"),
            check_interval_days=_int(environ, "CT_CHECK_INTERVAL_DAYS"),
        )
    except RulesError as exc:
        raise ConfigError(f"rule settings: {exc}") from exc

    labels = _label_settings(environ, env, secret_key)
    pii = _pii_settings(environ, env, secret_key)
    checkpoints = _checkpoint_settings(environ, env, secret_key)

    return Settings(
        **labels,  # type: ignore[arg-type]
        **pii,  # type: ignore[arg-type]
        **checkpoints,  # type: ignore[arg-type]
        env=env,
        database_url=database_url(environ),
        secret_key=secret_key,
        time_zone=zone,
        rules=rules,
        instance_path=instance_path(environ),
        sql_echo=_bool(environ, "CT_SQL_ECHO"),
        log_level=environ.get("CT_LOG_LEVEL", "INFO").upper(),
        sign_in_limits=_sign_in_limits(environ),
        trusted_proxies=_trusted_proxies(environ),
        input_limits=_input_limits(environ),
    )
