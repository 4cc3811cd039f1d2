from __future__ import annotations

from pathlib import Path

import pytest
from flask import request

from cylinder_trace import create_app
from cylinder_trace.config import DEV_SECRET_KEY, ConfigError, load_settings


def test_production_refuses_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("CT_ENV", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app({"DATABASE_URL": "sqlite://"})
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        load_settings({"CT_ENV": "production", "SECRET_KEY": DEV_SECRET_KEY})


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ConfigError, match="at least 32"):
        load_settings({"CT_ENV": "production", "SECRET_KEY": "short"})


LABEL_KEYS = "1:" + "A" * 43 + ",2:" + "B" * 43


def test_production_starts_with_a_real_secret_and_label_keys() -> None:
    settings = load_settings(
        {
            "CT_ENV": "production",
            "SECRET_KEY": "x" * 40,
            "DATABASE_URL": "sqlite://",
            "CT_LABEL_BASE_URL": "HTTPS://TRACE.EXAMPLE.CN/C/",
            "CT_LABEL_KEYS": LABEL_KEYS,
            "CT_LABEL_KEY_ID": "2",
            "CT_PII_KEYS": "k1:" + "A" * 43 + "=",
            "CT_PII_HASH_KEY": "B" * 43 + "=",
            "CT_CHECKPOINT_KEY": "c" * 40,
            "CT_CHECKPOINT_PATH": "/var/lib/cylinder-trace/checkpoints.jsonl",
        }
    )
    assert settings.is_production
    assert str(settings.checkpoint_path) == "/var/lib/cylinder-trace/checkpoints.jsonl"
    assert settings.secret_key == "x" * 40
    assert set(settings.label_keys) == {"1", "2"}
    assert settings.label_key_id == "2"


def test_production_refuses_to_run_without_label_keys() -> None:
    with pytest.raises(ConfigError, match="CT_LABEL_KEYS must be set in production"):
        load_settings(
            {
                "CT_ENV": "production",
                "SECRET_KEY": "x" * 40,
                "CT_PII_KEYS": "k1:" + "A" * 43 + "=",
                "CT_PII_HASH_KEY": "B" * 43 + "=",
            }
        )


def test_production_refuses_to_run_without_a_checkpoint_key() -> None:
    with pytest.raises(ConfigError, match="CT_CHECKPOINT_KEY must be set in production"):
        load_settings(
            {
                "CT_ENV": "production",
                "SECRET_KEY": "x" * 40,
                "CT_LABEL_BASE_URL": "HTTPS://TRACE.EXAMPLE.CN/C/",
                "CT_LABEL_KEYS": LABEL_KEYS,
                "CT_PII_KEYS": "k1:" + "A" * 43 + "=",
                "CT_PII_HASH_KEY": "B" * 43 + "=",
            }
        )


def test_development_derives_a_label_key_from_the_secret() -> None:
    one = load_settings({"CT_ENV": "development", "SECRET_KEY": "a" * 40})
    again = load_settings({"CT_ENV": "development", "SECRET_KEY": "a" * 40})
    other = load_settings({"CT_ENV": "development", "SECRET_KEY": "b" * 40})
    assert one.label_keys == again.label_keys != other.label_keys
    assert one.label_key_id == "1"


def test_development_uses_safe_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = load_settings({"CT_ENV": "development", "CT_INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'cylinder-trace.db'}"
    assert settings.time_zone.key == "Asia/Shanghai"
    assert settings.rules.inspection_interval_months == 48
    assert settings.rules.design_life_years == 8
    assert settings.rules.check_interval_days == 7
    assert str(settings.rules.model("YSP35.5").nominal_net_kg) == "14.5"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_url_uses_psycopg3(given: str, expected: str) -> None:
    assert load_settings({"CT_ENV": "testing", "DATABASE_URL": given}).database_url == expected


def test_rule_numbers_are_overridable_from_the_environment() -> None:
    settings = load_settings(
        {
            "CT_ENV": "testing",
            "CT_INSPECTION_INTERVAL_MONTHS": "36",
            "CT_DESIGN_LIFE_YEARS": "10",
            "CT_LIFE_EXTENSION_YEARS": "4",
            "CT_CHECK_INTERVAL_DAYS": "14",
        }
    )
    rules = settings.rules
    assert (rules.inspection_interval_months, rules.design_life_years) == (36, 10)
    assert (rules.life_extension_years, rules.check_interval_days) == (4, 14)


def test_rules_file_replaces_the_defaults(tmp_path: Path) -> None:
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(
        "inspection_interval_months = 24\ndesign_life_years = 6\ncheck_interval_days = 7\n"
        '[cylinder_models.X]\nname = "YSP15"\nnominal_net_kg = "6"\nfill_tolerance_kg = "0.3"\n',
        "utf-8",
    )
    rules = load_settings({"CT_ENV": "testing", "CT_RULES_FILE": str(rules_file)}).rules
    assert rules.inspection_interval_months == 24
    assert list(rules.cylinder_models) == ["YSP15"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"CT_ENV": "staging"}, "CT_ENV must be one of"),
        ({"CT_CHECK_INTERVAL_DAYS": "weekly"}, "whole number"),
        ({"CT_CHECK_INTERVAL_DAYS": "0"}, "must be positive"),
        ({"CT_TIME_ZONE": "Mars/Olympus"}, "not a known time zone"),
        ({"CT_RULES_FILE": "/nonexistent/rules.toml"}, "cannot read rules file"),
        ({"CT_LABEL_KEYS": "1:not base64!"}, "CT_LABEL_KEYS"),
        ({"CT_LABEL_KEYS": "1:" + "A" * 43, "CT_LABEL_KEY_ID": "9"}, "not among the keys"),
        ({"CT_LABEL_BASE_URL": "ftp://x/c/"}, "label signing settings"),
    ],
)
def test_broken_configuration_is_refused(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({"CT_ENV": "testing", **overrides})


@pytest.mark.parametrize(("proxies", "seen"), [("", "10.0.0.1"), ("1", "203.0.113.7")])
def test_forwarded_addresses_are_believed_only_behind_configured_proxies(
    tmp_path: Path, proxies: str, seen: str
) -> None:
    app = create_app(
        {
            "CT_ENV": "testing",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'proxy.db'}",
            "CT_INSTANCE_PATH": str(tmp_path),
            "CT_TRUSTED_PROXIES": proxies,
        }
    )

    @app.get("/address-seen")
    def address_seen() -> str:
        return f"{request.remote_addr} {request.scheme}"

    response = app.test_client().get(
        "/address-seen",
        headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )
    assert response.get_data(as_text=True) == f"{seen} {'https' if proxies else 'http'}"


def test_trusted_proxies_is_a_count() -> None:
    with pytest.raises(ConfigError, match="CT_TRUSTED_PROXIES"):
        load_settings({"CT_ENV": "testing", "CT_TRUSTED_PROXIES": "-1"})
    with pytest.raises(ConfigError, match="CT_TRUSTED_PROXIES"):
        load_settings({"CT_ENV": "testing", "CT_TRUSTED_PROXIES": "yes"})


# One settings object: create_app's mapping overrides every setting, and a bad value stops
# create_app itself (not some first request).

REPO_LAYOUTS = Path(__file__).resolve().parents[2] / "labels"


def _app_config(tmp_path: Path, **overrides: str) -> dict[str, str]:
    return {
        "CT_ENV": "testing",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'settings.db'}",
        "CT_INSTANCE_PATH": str(tmp_path),
        **overrides,
    }


def test_create_app_overrides_every_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cylinder_trace.cylinders.api import business_today
    from cylinder_trace.cylinders.label_printing_api import label_font, load_layout
    from cylinder_trace.qr_labels.fonts import locate_label_font
    from cylinder_trace.web.current import registry, settings

    font = locate_label_font()
    layouts = tmp_path / "layouts"
    layouts.mkdir()
    text = (REPO_LAYOUTS / "70x40.toml").read_text(encoding="utf-8")
    (layouts / "shop.toml").write_text(text.replace('name = "70x40"', 'name = "shop"'), "utf-8")
    # The environment says one thing; create_app's mapping wins.
    monkeypatch.setenv("CT_CATERING_PHOTOS_MAX", "3")
    monkeypatch.setenv("CT_SESSION_COOKIE_SECURE", "0")
    app = create_app(
        _app_config(
            tmp_path,
            CT_CATERING_FILES_DIR=str(tmp_path / "photos"),
            CT_CATERING_PHOTOS_MAX="2",
            CT_CATERING_PHOTO_MAX_BYTES="1000",
            CT_CATERING_SIGNATURE_MAX_BYTES="500",
            CT_CATERING_CLOCK_SKEW_SECONDS="60",
            CT_SESSION_COOKIE_SECURE="yes",
            CYLINDER_TRACE_LABEL_FONT=f"{font.path}#{font.index}",
            CYLINDER_TRACE_LABEL_LAYOUTS=str(layouts),
            CT_TIME_ZONE="Pacific/Kiritimati",
        )
    )
    with app.app_context():
        config = settings()
        catering = config.catering
        assert catering.files_dir == tmp_path / "photos"
        assert (catering.photos_max, catering.photo_max_bytes) == (2, 1000)
        assert catering.signature_max_bytes == 500
        assert catering.clock_skew.total_seconds() == 60
        assert registry().file_store.root == tmp_path / "photos"
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert config.label_font == font
        assert label_font(config) == font
        assert config.label_layout_dirs == (layouts.resolve(),)
        assert load_layout("shop", config).name == "shop"
        assert config.time_zone.key == "Pacific/Kiritimati"
        # UTC+14: the business date is the zone's, not the server's.
        from datetime import datetime

        assert business_today() == datetime.now(config.time_zone).date()


def test_the_defaults_of_the_new_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "CT_SESSION_COOKIE_SECURE",
        "CYLINDER_TRACE_LABEL_FONT",
        "CYLINDER_TRACE_LABEL_LAYOUTS",
        "CT_CATERING_FILES_DIR",
        "CT_CATERING_PHOTOS_MAX",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_app_config(tmp_path))
    assert settings.catering.files_dir == tmp_path.resolve() / "catering-files"
    assert (settings.catering.photos_max, settings.catering.photo_max_bytes) == (6, 5 << 20)
    assert settings.session_cookie_secure is False
    assert settings.label_font is None
    assert settings.label_layout_dirs == ()
    production = load_settings(
        {
            "CT_ENV": "production",
            "SECRET_KEY": "x" * 40,
            "CT_LABEL_BASE_URL": "HTTPS://TRACE.EXAMPLE.CN/C/",
            "CT_LABEL_KEYS": LABEL_KEYS,
            "CT_PII_KEYS": "k1:" + "A" * 43 + "=",
            "CT_PII_HASH_KEY": "B" * 43 + "=",
            "CT_CHECKPOINT_KEY": "c" * 40,
        }
    )
    assert production.session_cookie_secure is True
    plain_lan = load_settings(
        {"CT_ENV": "testing", "CT_SESSION_COOKIE_SECURE": "0", "SECRET_KEY": "x" * 40}
    )
    assert plain_lan.session_cookie_secure is False


def test_an_override_of_none_unsets_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CT_CATERING_PHOTOS_MAX", "3")
    settings = load_settings({"CT_ENV": "testing", "CT_CATERING_PHOTOS_MAX": None})  # type: ignore[dict-item]
    assert settings.catering.photos_max == 6


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"CT_CATERING_PHOTOS_MAX": "0"}, "CT_CATERING_PHOTOS_MAX must be at least 1"),
        ({"CT_CATERING_PHOTO_MAX_BYTES": "many"}, "CT_CATERING_PHOTO_MAX_BYTES must be a whole"),
        ({"CT_CATERING_CLOCK_SKEW_SECONDS": "-5"}, "CT_CATERING_CLOCK_SKEW_SECONDS"),
        ({"CT_SESSION_COOKIE_SECURE": "maybe"}, "CT_SESSION_COOKIE_SECURE must be"),
        ({"CYLINDER_TRACE_LABEL_FONT": "/nonexistent/font.ttf"}, "no such file"),
        ({"CYLINDER_TRACE_LABEL_LAYOUTS": "/nonexistent/layouts"}, "is not a directory"),
        ({"CT_TIME_ZONE": "Mars/Olympus"}, "not a known time zone"),
        ({"CT_PII_KEYS": "k1:tooshort"}, "CT_PII_KEYS key 'k1' must be 32 bytes"),
        ({"CT_PII_HASH_KEY": "c2hvcnQ="}, "CT_PII_HASH_KEY must be at least 32 bytes"),
    ],
)
def test_a_bad_value_stops_create_app(
    tmp_path: Path, overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        create_app(_app_config(tmp_path, **overrides))


def test_a_font_that_is_no_truetype_font_stops_create_app(tmp_path: Path) -> None:
    junk = tmp_path / "junk.ttf"
    junk.write_bytes(b"<html>not a font</html>")
    with pytest.raises(ConfigError, match=r"CYLINDER_TRACE_LABEL_FONT=.*not a TrueType"):
        create_app(_app_config(tmp_path, CYLINDER_TRACE_LABEL_FONT=str(junk)))
