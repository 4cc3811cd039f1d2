"""Configuration from environment variables, with safe defaults: the one ``Settings``.

Every setting has an environment variable; ``create_app(config)`` accepts a mapping of the
same names to override them (tests use that), and builds and checks ``Settings`` once, so a
bad value stops the service at start-up rather than at some first request. Nothing else
reads the environment for the app: the pages' cookie flag, the label font and layouts, the
catering limits and the time zone all live here. The rule numbers that shared/domain.md
marks configurable come from a rules file (``CT_RULES_FILE``, default: the packaged one) and
may be overridden one by one.

The key material (label, card and PII keys: ``config.keys``) becomes the app's signers and
vault in ``cylinder_trace.registry``; config imports only domain and support modules.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cylinder_trace.config.keys import (
    MIN_SECRET_LENGTH,
    b64decode_lenient,
    checkpoint_settings,
    label_settings,
    pii_settings,
)
from cylinder_trace.config.values import (
    ConfigError,
    flag,
    is_on,
    positive_int,
    seconds,
    whole_number,
)
from cylinder_trace.domain.rules import RulesError, RuleSettings, load_rules
from cylinder_trace.qr_labels.fonts import FONT_ENV_VAR, FontNotFound, LabelFont, locate_label_font

# Used only outside production so that `make run` works with zero set-up.
DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me"
ENVIRONMENTS = ("production", "development", "testing")
# Where create_app keeps the two objects (read them with web.current.settings()/registry()).
SETTINGS_CONFIG_KEY = "CT_SETTINGS"
REGISTRY_EXTENSION = "cylinder_trace.registry"
__all__ = [
    "DEV_SECRET_KEY",
    "ENVIRONMENTS",
    "MIN_SECRET_LENGTH",
    "REGISTRY_EXTENSION",
    "SETTINGS_CONFIG_KEY",
    "CateringSettings",
    "ConfigError",
    "InputLimits",
    "Settings",
    "SignInLimits",
    "b64decode_lenient",
    "database_url",
    "default_database_url",
    "instance_path",
    "load_catering_settings",
    "load_settings",
    "normalise_database_url",
    "positive_int",
]


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
class CateringSettings:
    """Operational settings of the catering checks: where files go, how large they may be.

    | variable | default | meaning |
    | --- | --- | --- |
    | ``CT_CATERING_FILES_DIR`` | ``<instance>/catering-files`` | photos and signatures |
    | ``CT_CATERING_PHOTO_MAX_BYTES`` | 5 MiB | largest photo |
    | ``CT_CATERING_PHOTOS_MAX`` | 6 | photos per check |
    | ``CT_CATERING_SIGNATURE_MAX_BYTES`` | 1 MiB | largest signature image |
    | ``CT_CATERING_CLOCK_SKEW_SECONDS`` | 300 | how far in the future ``checked_at`` may be |

    The rule numbers (check interval, checklist, hazard deadlines) are in the rules file; the
    one file store over ``files_dir`` is in the registry (``registry().file_store``).
    """

    files_dir: Path
    photo_max_bytes: int = 5 * 1024 * 1024
    photos_max: int = 6
    signature_max_bytes: int = 1024 * 1024
    clock_skew: timedelta = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Settings:
    """The validated configuration of one app instance."""

    env: str
    database_url: str
    secret_key: str
    time_zone: ZoneInfo
    rules: RuleSettings
    instance_path: Path
    catering: CateringSettings
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
    # The pages' session cookie is Secure (HTTPS only): CT_SESSION_COOKIE_SECURE, by default
    # in production only; 0 allows a plain-HTTP LAN.
    session_cookie_secure: bool = False
    # The CJK label font (CYLINDER_TRACE_LABEL_FONT, checked at start-up), or None to search
    # the package and system fonts when a label is first drawn.
    label_font: LabelFont | None = None
    # Directories searched for label layouts before the repository's labels/
    # (CYLINDER_TRACE_LABEL_LAYOUTS, an os.pathsep list; each must be a directory).
    label_layout_dirs: tuple[Path, ...] = ()
    # Large lists (scans, cylinders, customers) count their rows up to this many; beyond it
    # the answer gives the limit as a lower bound (CT_LIST_COUNT_LIMIT).
    list_count_limit: int = 10_000
    # A streaming replica for the authorities' reads (CT_REPLICA_DATABASE_URL), used while
    # it is at most CT_REPLICA_MAX_LAG_SECONDS behind, measured every
    # CT_REPLICA_CHECK_SECONDS (``replicas``).
    replica_database_url: str | None = None
    replica_max_lag_seconds: float = 30.0
    replica_check_seconds: float = 1.0

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
    value = whole_number(environ, "CT_TRUSTED_PROXIES") or 0
    if value < 0:
        raise ConfigError(f"CT_TRUSTED_PROXIES must be 0 or more, got {value}")
    return value


def load_catering_settings(environ: Mapping[str, Any], instance: Path) -> CateringSettings:
    """The catering settings of ``environ`` (already merged with the app's overrides)."""
    files_dir = environ.get("CT_CATERING_FILES_DIR") or instance / "catering-files"
    defaults = CateringSettings(files_dir=Path(files_dir))
    skew = int(defaults.clock_skew.total_seconds())
    return CateringSettings(
        files_dir=Path(files_dir).resolve(),
        photo_max_bytes=positive_int(
            environ, "CT_CATERING_PHOTO_MAX_BYTES", defaults.photo_max_bytes
        ),
        photos_max=positive_int(environ, "CT_CATERING_PHOTOS_MAX", defaults.photos_max),
        signature_max_bytes=positive_int(
            environ, "CT_CATERING_SIGNATURE_MAX_BYTES", defaults.signature_max_bytes
        ),
        clock_skew=timedelta(seconds=positive_int(environ, "CT_CATERING_CLOCK_SKEW_SECONDS", skew)),
    )


def _label_font(environ: Mapping[str, str]) -> LabelFont | None:
    spec = (environ.get(FONT_ENV_VAR) or "").strip()
    if not spec:
        return None
    try:
        return locate_label_font(spec)
    except FontNotFound as exc:
        raise ConfigError(str(exc)) from exc


def _label_layout_dirs(environ: Mapping[str, str]) -> tuple[Path, ...]:
    # Imported here: the layout module brings the QR library, which config itself need not.
    from cylinder_trace.qr_labels.layout import LAYOUTS_ENV_VAR, parse_layout_path

    dirs = tuple(p.resolve() for p in parse_layout_path(environ.get(LAYOUTS_ENV_VAR) or ""))
    for directory in dirs:
        if not directory.is_dir():
            raise ConfigError(f"{LAYOUTS_ENV_VAR}: {str(directory)!r} is not a directory")
    return dirs


def load_settings(overrides: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the configuration; raise ConfigError when it is unsafe or broken."""
    environ: dict[str, str] = dict(os.environ)
    for key, value in (overrides or {}).items():
        if value is None:  # an override of None unsets the variable
            environ.pop(key, None)
        else:
            environ[key] = str(value)

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
            inspection_interval_months=whole_number(environ, "CT_INSPECTION_INTERVAL_MONTHS"),
            design_life_years=whole_number(environ, "CT_DESIGN_LIFE_YEARS"),
            life_extension_years=whole_number(environ, "CT_LIFE_EXTENSION_YEARS"),
            check_interval_days=whole_number(environ, "CT_CHECK_INTERVAL_DAYS"),
        )
    except RulesError as exc:
        raise ConfigError(f"rule settings: {exc}") from exc

    labels = label_settings(environ, env, secret_key)
    pii = pii_settings(environ, env, secret_key)
    checkpoints = checkpoint_settings(environ, env, secret_key, instance_path(environ))

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
        sql_echo=is_on(environ, "CT_SQL_ECHO"),
        log_level=environ.get("CT_LOG_LEVEL", "INFO").upper(),
        sign_in_limits=_sign_in_limits(environ),
        trusted_proxies=_trusted_proxies(environ),
        input_limits=_input_limits(environ),
        catering=load_catering_settings(environ, instance_path(environ)),
        session_cookie_secure=flag(environ, "CT_SESSION_COOKIE_SECURE", env == "production"),
        label_font=_label_font(environ),
        label_layout_dirs=_label_layout_dirs(environ),
        list_count_limit=positive_int(environ, "CT_LIST_COUNT_LIMIT", 10_000),
        **_replica(environ),
    )


def _replica(environ: Mapping[str, str]) -> dict[str, Any]:
    url = (environ.get("CT_REPLICA_DATABASE_URL") or "").strip()
    if url and not normalise_database_url(url).startswith("postgresql"):
        raise ConfigError("CT_REPLICA_DATABASE_URL must be a PostgreSQL URL (a streaming replica)")
    return {
        "replica_database_url": normalise_database_url(url) if url else None,
        "replica_max_lag_seconds": seconds(environ, "CT_REPLICA_MAX_LAG_SECONDS", 30.0),
        "replica_check_seconds": seconds(environ, "CT_REPLICA_CHECK_SECONDS", 1.0),
    }
