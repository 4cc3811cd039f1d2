"""The key material of the configuration: label keys, PII keys, the checkpoint key.

Parsed and checked here, as ``Settings`` field values; ``cylinder_trace.registry`` turns
them into the app's label and card signers and its PII vault. Production refuses to start
without real keys; development and testing derive them from SECRET_KEY.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cylinder_trace.config.values import ConfigError
from cylinder_trace.qr_labels.signing import LabelSigner, parse_keys

MIN_SECRET_LENGTH = 32
# PII keys (customers/crypto.py's vault uses them).
PII_KEY_BYTES = 32
PII_MIN_HASH_KEY_BYTES = 32
PII_KEY_ID_RE = re.compile(r"\A[0-9A-Za-z]{1,16}\Z")
PII_DEV_KEY_ID = "dev"


def derived_key(secret_key: str, purpose: str) -> bytes:
    """A development key derived from SECRET_KEY, so `make run` needs no key set-up."""
    return hmac.new(secret_key.encode("utf-8"), purpose.encode("ascii"), hashlib.sha256).digest()


def label_settings(environ: Mapping[str, str], env: str, secret_key: str) -> dict[str, object]:
    base_url = environ.get("CT_LABEL_BASE_URL") or ""
    spec = environ.get("CT_LABEL_KEYS") or ""
    if env == "production" and (not base_url or not spec):
        raise ConfigError(
            "CT_LABEL_BASE_URL and CT_LABEL_KEYS must be set in production: labels glued to "
            "cylinders must keep verifying, so their keys cannot be derived or defaulted."
        )
    try:
        keys = parse_keys(spec) if spec else {"1": derived_key(secret_key, "label-key-1")}
    except ValueError as exc:
        raise ConfigError(f"CT_LABEL_KEYS: {exc}") from exc
    key_id = environ.get("CT_LABEL_KEY_ID") or next(iter(keys))
    base_url = base_url or "HTTP://127.0.0.1:5000/C/"
    try:
        LabelSigner(base_url, keys, key_id)
    except ValueError as exc:
        raise ConfigError(f"label signing settings: {exc}") from exc
    return {"label_base_url": base_url, "label_keys": keys, "label_key_id": key_id}


def b64decode_lenient(text: str) -> bytes:
    """Standard or URL-safe base64, padding optional; binascii.Error when it is neither."""
    value = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(value + "=" * (-len(value) % 4), validate=True)


def parse_pii_key_ring(spec: str) -> dict[str, bytes]:
    """Parse ``CT_PII_KEYS``: ``"kid:base64,kid:base64"``, the first key being the current one.

    Every key is 32 bytes (AES-256) in standard or URL-safe base64; generate one with
    ``python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"``.
    """
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kid, sep, value = item.partition(":")
        kid = kid.strip()
        if not sep or not PII_KEY_ID_RE.match(kid):
            raise ConfigError(
                "CT_PII_KEYS entries look like KEYID:BASE64KEY, the key id 1-16 letters or digits"
            )
        if kid in keys:
            raise ConfigError(f"CT_PII_KEYS names key id {kid!r} twice")
        try:
            key = b64decode_lenient(value)
        except binascii.Error:
            raise ConfigError(f"CT_PII_KEYS key {kid!r} is not valid base64") from None
        if len(key) != PII_KEY_BYTES:
            raise ConfigError(f"CT_PII_KEYS key {kid!r} must be {PII_KEY_BYTES} bytes")
        keys[kid] = key
    if not keys:
        raise ConfigError("CT_PII_KEYS names no key")
    return keys


def parse_pii_hash_key(spec: str) -> bytes:
    """Parse ``CT_PII_HASH_KEY``: base64 of at least 32 random bytes."""
    try:
        key = b64decode_lenient(spec)
    except binascii.Error:
        raise ConfigError("CT_PII_HASH_KEY is not valid base64") from None
    if len(key) < PII_MIN_HASH_KEY_BYTES:
        raise ConfigError(f"CT_PII_HASH_KEY must be at least {PII_MIN_HASH_KEY_BYTES} bytes")
    return key


def derive_pii_key(secret_key: str, purpose: str) -> bytes:
    """A development/testing key derived from SECRET_KEY with HKDF-SHA256, one per purpose."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=PII_KEY_BYTES,
        salt=None,
        info=f"cylinder-trace/{purpose}".encode("ascii"),
    ).derive(secret_key.encode("utf-8"))


def pii_settings(environ: Mapping[str, str], env: str, secret_key: str) -> dict[str, object]:
    """The PII key settings, as ``Settings`` field values.

    Production refuses to start without ``CT_PII_KEYS`` and ``CT_PII_HASH_KEY``: a key
    derived from SECRET_KEY would make every stored number unreadable, and every lookup
    fail, the day SECRET_KEY is rotated. Development and testing derive both from
    SECRET_KEY so that ``make run`` works with no set-up.
    """
    keys_spec = (environ.get("CT_PII_KEYS") or "").strip()
    hash_spec = (environ.get("CT_PII_HASH_KEY") or "").strip()
    if env == "production" and (not keys_spec or not hash_spec):
        raise ConfigError(
            "CT_PII_KEYS and CT_PII_HASH_KEY must be set in production: ID numbers are stored "
            "encrypted under them and must stay readable whatever happens to SECRET_KEY."
        )
    if keys_spec:
        keys = parse_pii_key_ring(keys_spec)
    else:
        keys = {PII_DEV_KEY_ID: derive_pii_key(secret_key, "pii-encryption/v1")}
    hash_key = (
        parse_pii_hash_key(hash_spec) if hash_spec else derive_pii_key(secret_key, "pii-lookup/v1")
    )
    return {"pii_keys": keys, "pii_key_id": next(iter(keys)), "pii_hash_key": hash_key}


def checkpoint_settings(
    environ: Mapping[str, str], env: str, secret_key: str, instance: Path
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
        else derived_key(secret_key, "scan-checkpoint-key")
    )
    path = Path(environ.get("CT_CHECKPOINT_PATH") or instance / "scan-checkpoints.jsonl")
    return {"checkpoint_path": path.resolve(), "checkpoint_key": key}
