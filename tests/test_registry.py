"""The registry: one instance of each of the app's singletons per app, none shared."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from cylinder_trace import create_app
from cylinder_trace.registry import Registry, build_registry
from cylinder_trace.web.current import registry, settings

PURPOSE = "customers.id_number"


def _app(tmp_path: Path, secret: str) -> Flask:
    return create_app(
        {
            "CT_ENV": "testing",
            "SECRET_KEY": secret,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'registry.db'}",
            "CT_INSTANCE_PATH": str(tmp_path),
        }
    )


def test_the_registry_holds_one_instance_of_each_singleton(tmp_path: Path) -> None:
    app = _app(tmp_path, "r" * 40)
    with app.app_context():
        first = registry()
        assert isinstance(first, Registry)
    with app.app_context(), app.test_request_context("/"):
        again = registry()
        assert again is first
        assert first.file_store.root == settings().catering.files_dir
    for _ in range(3):
        with app.app_context():
            assert registry().label_signer is first.label_signer


def test_two_apps_with_different_keys_share_nothing(tmp_path: Path) -> None:
    one = _app(tmp_path / "one", "a" * 40)
    two = _app(tmp_path / "two", "b" * 40)
    with one.app_context():
        first = registry()
    with two.app_context():
        second = registry()
    for name in ("label_signer", "card_signer", "pii_vault", "file_store"):
        assert getattr(first, name) is not getattr(second, name), name
    assert first.label_signer.sign("CQDZ-000001") != second.label_signer.sign("CQDZ-000001")
    assert first.card_signer.sign("K0000000000000001") != second.card_signer.sign(
        "K0000000000000001"
    )
    assert first.pii_vault.lookup_hash("x", purpose=PURPOSE) != second.pii_vault.lookup_hash(
        "x", purpose=PURPOSE
    )
    assert first.file_store.root != second.file_store.root
    # Each app's signer verifies its own labels only.
    payload = first.label_signer.sign("CQDZ-000001")
    assert first.label_signer.verify(payload) == "CQDZ-000001"


def test_the_registry_is_built_from_the_settings_alone(tmp_path: Path) -> None:
    app = _app(tmp_path, "c" * 40)
    with app.app_context():
        built = build_registry(settings())
        current = registry()
    sealed = current.pii_vault.encrypt("110101199003074578", purpose=PURPOSE)
    assert built.pii_vault.decrypt(sealed, purpose=PURPOSE) == "110101199003074578"
    assert built.label_signer.sign("CQDZ-000002") == current.label_signer.sign("CQDZ-000002")
    assert "key" not in repr(current).lower().replace("keys=", "")
