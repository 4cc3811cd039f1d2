"""Protecting resident ID numbers at rest (PIPL Art. 28, 51): encryption and keyed lookup.

Why AES-256-GCM (``cryptography``'s AESGCM) rather than Fernet:

* the stored value names the key that encrypted it (``v1:<key id>:<data>``), so decryption
  picks that key directly and rotation is explicit: new values use the current key, old
  ones keep decrypting while their key stays configured, and ``needs_reencryption`` tells
  a re-encryption job which rows to rewrite. MultiFernet instead tries every key in turn;
* GCM authenticates associated data: each value is bound to its purpose and key id
  (``customers.id_number|v1|<kid>``), so a ciphertext copied into another column, or
  relabelled with another key id, fails to decrypt instead of being read as something else;
* 256-bit keys and a smaller value (about 80 characters for an ID number; Fernet's
  AES-128-CBC + HMAC token with its timestamp is about 140).

Nonces are 96 random bits per value. Far fewer than 2^32 values are ever encrypted under
one key here (one per customer registration), which keeps nonce reuse negligible.

Looking a number up never decrypts: ``lookup_hash`` is HMAC-SHA256 under a separate key.
A plain SHA-256 would be no protection at all, since the space of valid ID numbers (region,
birth date, sequence) is small enough to enumerate. The hash key cannot rotate without
recomputing every stored hash, which needs every number decrypted: keep it stable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT_VERSION: Final = "v1"
KEY_BYTES: Final = 32
MIN_HASH_KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
KEY_ID_RE: Final = re.compile(r"\A[0-9A-Za-z]{1,16}\Z")
DEV_KEY_ID: Final = "dev"
_EXTENSION: Final = "cylinder_trace.pii_vault"


class PiiConfigError(ValueError):
    """The PII key configuration is missing or broken; config.py turns it into ConfigError."""


class DecryptionFailed(Exception):
    """A stored value could not be decrypted: unknown key id, wrong purpose, or tampered.

    The message never contains the value itself.
    """


def _b64decode(text: str) -> bytes:
    value = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(value + "=" * (-len(value) % 4), validate=True)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def parse_key_ring(spec: str) -> dict[str, bytes]:
    """Parse ``CT_PII_KEYS``: ``"kid:base64,kid:base64"``, the first key being the current one.

    Every key is 32 bytes (AES-256) in standard or URL-safe base64; generate one with
    ``python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"``.
    """
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kid, sep, value = item.partition(":")
        kid = kid.strip()
        if not sep or not KEY_ID_RE.match(kid):
            raise PiiConfigError(
                "CT_PII_KEYS entries look like KEYID:BASE64KEY, the key id 1-16 letters or digits"
            )
        if kid in keys:
            raise PiiConfigError(f"CT_PII_KEYS names key id {kid!r} twice")
        try:
            key = _b64decode(value)
        except binascii.Error:
            raise PiiConfigError(f"CT_PII_KEYS key {kid!r} is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise PiiConfigError(f"CT_PII_KEYS key {kid!r} must be {KEY_BYTES} bytes")
        keys[kid] = key
    if not keys:
        raise PiiConfigError("CT_PII_KEYS names no key")
    return keys


def parse_hash_key(spec: str) -> bytes:
    """Parse ``CT_PII_HASH_KEY``: base64 of at least 32 random bytes."""
    try:
        key = _b64decode(spec)
    except binascii.Error:
        raise PiiConfigError("CT_PII_HASH_KEY is not valid base64") from None
    if len(key) < MIN_HASH_KEY_BYTES:
        raise PiiConfigError(f"CT_PII_HASH_KEY must be at least {MIN_HASH_KEY_BYTES} bytes")
    return key


def derive_key(secret_key: str, purpose: str) -> bytes:
    """A development/testing key derived from SECRET_KEY with HKDF-SHA256, one per purpose."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=None,
        info=f"cylinder-trace/{purpose}".encode("ascii"),
    ).derive(secret_key.encode("utf-8"))


def pii_settings(
    environ: Mapping[str, str], *, production: bool, secret_key: str
) -> dict[str, Any]:
    """The PII key settings from the environment, as ``Settings`` field values.

    Production refuses to start without ``CT_PII_KEYS`` and ``CT_PII_HASH_KEY``: a key
    derived from SECRET_KEY would make every stored number unreadable, and every lookup
    fail, the day SECRET_KEY is rotated. Development and testing derive both from
    SECRET_KEY so that ``make run`` works with no set-up.
    """
    keys_spec = (environ.get("CT_PII_KEYS") or "").strip()
    hash_spec = (environ.get("CT_PII_HASH_KEY") or "").strip()
    if production and (not keys_spec or not hash_spec):
        raise PiiConfigError(
            "CT_PII_KEYS and CT_PII_HASH_KEY must be set in production: ID numbers are stored "
            "encrypted under them and must stay readable whatever happens to SECRET_KEY."
        )
    if keys_spec:
        keys = parse_key_ring(keys_spec)
    else:
        keys = {DEV_KEY_ID: derive_key(secret_key, "pii-encryption/v1")}
    hash_key = parse_hash_key(hash_spec) if hash_spec else derive_key(secret_key, "pii-lookup/v1")
    return {"pii_keys": keys, "pii_key_id": next(iter(keys)), "pii_hash_key": hash_key}


@dataclass(frozen=True, slots=True)
class PiiVault:
    """Encrypts, decrypts and hashes personal identifiers with the configured keys."""

    keys: Mapping[str, bytes]
    current_key_id: str
    hash_key: bytes

    def __post_init__(self) -> None:
        if self.current_key_id not in self.keys:
            raise PiiConfigError("the current PII key id is not among the keys")

    @classmethod
    def from_settings(cls, settings: Any) -> PiiVault:
        return cls(settings.pii_keys, settings.pii_key_id, settings.pii_hash_key)

    def __repr__(self) -> str:
        # Keys must not reach a log line or a traceback either.
        return f"<PiiVault keys={sorted(self.keys)} current={self.current_key_id}>"

    @staticmethod
    def _aad(purpose: str, kid: str) -> bytes:
        return f"{purpose}|{FORMAT_VERSION}|{kid}".encode()

    def encrypt(self, plaintext: str, *, purpose: str) -> str:
        """Encrypt under the current key, bound to ``purpose`` (e.g. ``customers.id_number``)."""
        kid = self.current_key_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(self.keys[kid]).encrypt(
            nonce, plaintext.encode("utf-8"), self._aad(purpose, kid)
        )
        return f"{FORMAT_VERSION}:{kid}:{_b64encode(nonce + sealed)}"

    def decrypt(self, stored: str, *, purpose: str) -> str:
        """Decrypt a value ``encrypt`` produced for the same purpose; DecryptionFailed otherwise."""
        version, _, rest = stored.partition(":")
        kid, _, data = rest.partition(":")
        if version != FORMAT_VERSION or not data:
            raise DecryptionFailed("not an encrypted value of a known format")
        key = self.keys.get(kid)
        if key is None:
            raise DecryptionFailed(f"key {kid!r} is not configured (rotated out of CT_PII_KEYS?)")
        try:
            raw = _b64decode(data)
            plain = AESGCM(key).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], self._aad(purpose, kid)
            )
        except (binascii.Error, InvalidTag, ValueError):
            raise DecryptionFailed("does not decrypt: tampered, or another purpose") from None
        return plain.decode("utf-8")

    def key_id_of(self, stored: str) -> str:
        """The id of the key a stored value was encrypted with."""
        return stored.split(":", 2)[1] if stored.count(":") >= 2 else ""

    def needs_reencryption(self, stored: str) -> bool:
        """Whether a stored value is under a key other than the current one."""
        return self.key_id_of(stored) != self.current_key_id

    def lookup_hash(self, value: str, *, purpose: str) -> str:
        """Keyed HMAC-SHA256 (hex) of a normalised identifier, for equality lookups."""
        message = purpose.encode("ascii") + b"\x00" + value.encode("utf-8")
        return hmac.new(self.hash_key, message, hashlib.sha256).hexdigest()


def pii_vault() -> PiiVault:
    """The current app's vault, built once from its settings."""
    from flask import current_app

    vault = current_app.extensions.get(_EXTENSION)
    if vault is None:
        vault = PiiVault.from_settings(current_app.config["CT_SETTINGS"])
        current_app.extensions[_EXTENSION] = vault
    return vault
