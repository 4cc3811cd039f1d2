"""Encryption at rest, keyed lookup hashes, key rotation, and the key configuration."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from cylinder_trace.config import ConfigError, load_settings
from cylinder_trace.customers.crypto import DecryptionFailed, PiiVault
from cylinder_trace.customers.services import ID_NUMBER_PURPOSE, reencrypt_id_number_batch
from cylinder_trace.web.current import registry
from tests.customers.helpers import BRIEF_ID, person, registered
from tests.singletons import use_singletons
from tests.world import World

PURPOSE = "customers.id_number"


def _key() -> bytes:
    return os.urandom(32)


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_encrypts_with_a_random_nonce_and_decrypts() -> None:
    vault = PiiVault({"k1": _key()}, "k1", _key())
    one, two = vault.encrypt(BRIEF_ID, purpose=PURPOSE), vault.encrypt(BRIEF_ID, purpose=PURPOSE)
    assert one != two  # equal numbers must not be recognisable from the ciphertext
    assert one.startswith("v1:k1:") and BRIEF_ID not in one
    assert vault.decrypt(one, purpose=PURPOSE) == vault.decrypt(two, purpose=PURPOSE) == BRIEF_ID


def test_tampered_relabelled_or_misused_values_do_not_decrypt() -> None:
    keys = {"k1": _key(), "k2": _key()}
    vault = PiiVault(keys, "k1", _key())
    stored = vault.encrypt(BRIEF_ID, purpose=PURPOSE)
    flipped = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    for bad in (flipped, stored.replace("v1:k1:", "v1:k2:"), "garbage", "v1:k1:", "v9:k1:abc"):
        with pytest.raises(DecryptionFailed):
            vault.decrypt(bad, purpose=PURPOSE)
    with pytest.raises(DecryptionFailed):
        vault.decrypt(stored, purpose="users.phone")


def test_key_rotation_keeps_old_values_readable() -> None:
    old_key, new_key, hash_key = _key(), _key(), _key()
    before = PiiVault({"old": old_key}, "old", hash_key)
    stored = before.encrypt(BRIEF_ID, purpose=PURPOSE)
    rotated = PiiVault({"new": new_key, "old": old_key}, "new", hash_key)
    assert rotated.decrypt(stored, purpose=PURPOSE) == BRIEF_ID
    assert rotated.needs_reencryption(stored)
    fresh = rotated.encrypt(BRIEF_ID, purpose=PURPOSE)
    assert rotated.key_id_of(fresh) == "new" and not rotated.needs_reencryption(fresh)
    assert rotated.lookup_hash(BRIEF_ID, purpose=PURPOSE) == before.lookup_hash(
        BRIEF_ID, purpose=PURPOSE
    )
    retired = PiiVault({"new": new_key}, "new", hash_key)
    with pytest.raises(DecryptionFailed, match="not configured"):
        retired.decrypt(stored, purpose=PURPOSE)


def test_rotation_end_to_end(
    app: Flask,
    client: FlaskClient,
    world: World,
    db_session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    created = registered(client, world, **person())
    with app.app_context():
        current = registry().pii_vault
    new_key = _key()
    rotated = PiiVault({"k2": new_key, **current.keys}, "k2", current.hash_key)
    use_singletons(app, monkeypatch, pii_vault=rotated)

    url = f"/api/v1/customers/{created['id']}/reveal-id-number"
    headers = world.auth("a_admin")
    assert client.post(url, json={"reason": "轮换前"}, headers=headers).get_json()["id_number"] == (
        BRIEF_ID
    )
    lookup = client.post("/api/v1/customers/lookup", json={"id_number": BRIEF_ID}, headers=headers)
    assert [c["id"] for c in lookup.get_json()] == [created["id"]]

    assert reencrypt_id_number_batch(db_session, rotated).reencrypted == 1
    assert reencrypt_id_number_batch(db_session, rotated).last_id is None
    stored = db_session.execute(text("SELECT id_number_encrypted FROM customers")).scalar_one()
    assert stored.startswith("v1:k2:")
    retired = PiiVault({"k2": new_key}, "k2", current.hash_key)
    use_singletons(app, monkeypatch, pii_vault=retired)
    assert client.post(url, json={"reason": "轮换后"}, headers=headers).get_json()["id_number"] == (
        BRIEF_ID
    )


def test_lookup_hash_is_keyed() -> None:
    one = PiiVault({"k": _key()}, "k", _key())
    other = PiiVault({"k": _key()}, "k", _key())
    digest = one.lookup_hash(BRIEF_ID, purpose=ID_NUMBER_PURPOSE)
    assert len(digest) == 64
    assert digest == one.lookup_hash(BRIEF_ID, purpose=ID_NUMBER_PURPOSE)
    assert digest != other.lookup_hash(BRIEF_ID, purpose=ID_NUMBER_PURPOSE)
    assert digest != hashlib.sha256(BRIEF_ID.encode()).hexdigest()


def test_the_vault_repr_shows_no_key() -> None:
    key = _key()
    vault = PiiVault({"k1": key}, "k1", key)
    assert key.hex() not in repr(vault) and str(key) not in repr(vault)


PRODUCTION = {
    "CT_ENV": "production",
    "SECRET_KEY": "x" * 40,
    "DATABASE_URL": "sqlite://",
    "CT_LABEL_BASE_URL": "HTTPS://TRACE.EXAMPLE.CN/C/",
    "CT_LABEL_KEYS": "1:" + "A" * 43,
    "CT_CHECKPOINT_KEY": "c" * 40,
}


@pytest.mark.parametrize("missing", ["CT_PII_KEYS", "CT_PII_HASH_KEY"])
def test_production_refuses_to_start_without_pii_keys(
    missing: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CT_PII_KEYS", raising=False)
    monkeypatch.delenv("CT_PII_HASH_KEY", raising=False)
    given = {**PRODUCTION, "CT_PII_KEYS": f"a:{_b64(_key())}", "CT_PII_HASH_KEY": _b64(_key())}
    del given[missing]
    with pytest.raises(ConfigError, match="CT_PII_KEYS and CT_PII_HASH_KEY must be set"):
        load_settings(given)


def test_production_reads_the_key_ring_first_key_current() -> None:
    new, old, lookup = _key(), _key(), _key()
    settings = load_settings(
        {
            **PRODUCTION,
            "CT_PII_KEYS": f"k2:{_b64(new)}, k1:{base64.urlsafe_b64encode(old).decode()}",
            "CT_PII_HASH_KEY": _b64(lookup),
        }
    )
    assert settings.pii_keys == {"k2": new, "k1": old}
    assert (settings.pii_key_id, settings.pii_hash_key) == ("k2", lookup)


@pytest.mark.parametrize(
    ("keys", "hash_key", "message"),
    [
        ("k1:" + _b64(b"short"), None, "must be 32 bytes"),
        ("k1:not base64!!", None, "not valid base64"),
        ("no-colon", None, "KEYID:BASE64KEY"),
        (f"k1:{_b64(b'a' * 32)},k1:{_b64(b'b' * 32)}", None, "twice"),
        (None, _b64(b"short"), "at least 32 bytes"),
        (None, "%%%", "not valid base64"),
    ],
)
def test_broken_pii_keys_are_refused(keys: str | None, hash_key: str | None, message: str) -> None:
    given = {"CT_ENV": "testing"}
    if keys is not None:
        given["CT_PII_KEYS"] = keys
    if hash_key is not None:
        given["CT_PII_HASH_KEY"] = hash_key
    with pytest.raises(ConfigError, match=message):
        load_settings(given)


def test_development_derives_keys_from_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CT_PII_KEYS", raising=False)
    monkeypatch.delenv("CT_PII_HASH_KEY", raising=False)
    one = load_settings({"CT_ENV": "development", "SECRET_KEY": "a" * 40})
    again = load_settings({"CT_ENV": "development", "SECRET_KEY": "a" * 40})
    other = load_settings({"CT_ENV": "development", "SECRET_KEY": "b" * 40})
    assert one.pii_keys == again.pii_keys != other.pii_keys
    assert one.pii_hash_key == again.pii_hash_key != other.pii_hash_key
    (key,) = one.pii_keys.values()
    assert len(key) == 32 and key != one.pii_hash_key
    assert key not in (one.label_keys.get("1"), "a" * 40)
