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
