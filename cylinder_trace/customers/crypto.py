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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cylinder_trace.config import b64decode_lenient as _b64decode

FORMAT_VERSION: Final = "v1"
NONCE_BYTES: Final = 12


class PiiConfigError(ValueError):
    """A vault built from keys that do not fit together (the current key is not among them).

    The keys themselves are parsed and checked by ``config.load_settings`` (ConfigError).
    """


class DecryptionFailed(Exception):
    """A stored value could not be decrypted: unknown key id, wrong purpose, or tampered.

    The message never contains the value itself.
    """


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


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
