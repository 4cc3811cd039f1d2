"""Signed QR payloads for cylinder labels.

A payload is ``{base}{code}.{kid}{sig}``, e.g.
``HTTPS://TRACE.EXAMPLE.CN/C/CQDZ-000123.1K7QWM3XH2PAB``:

* ``kid`` names the key that signed it (1-4 chars of ``0-9A-Z``), so keys can rotate while labels
  already glued to cylinders keep verifying for as long as their key stays configured;
* ``sig`` is HMAC-SHA256 over the key id and the code, truncated to 60 bits and written as 12
  RFC 4648 base32 characters. 60 bits is plenty against online guessing (every scan is a request to
  us) and keeps the symbol small.

Why this shape rather than ``?k=..&s=..``: every character after the base is in the QR
*alphanumeric* set (``0-9A-Z $%*+-./:``). If the configured base is written in upper case too
(``HTTPS://TRACE.EXAMPLE.CN/C/`` - scheme and host are case-insensitive, the path is matched
by our own route), the whole payload is encoded in alphanumeric mode, which for a typical code
means a version 3 symbol (29x29) instead of version 4 (33x33): bigger modules, faster scans.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit

__all__ = [
    "CODE_PATTERN",
    "CODE_RE",
    "KEY_ID_PATTERN",
    "SIGNATURE_LENGTH",
    "LabelInvalid",
    "LabelSigner",
    "parse_keys",
    "validate_code",
]

CODE_PATTERN: Final = r"[0-9A-Z-]{6,32}"
"""Cylinder code: upper-case letters, digits and ``-``, 6 to 32 characters."""
CODE_RE: Final = re.compile(rf"\A{CODE_PATTERN}\Z")

KEY_ID_PATTERN: Final = r"[0-9A-Z]{1,4}"
_KEY_ID_RE: Final = re.compile(rf"\A{KEY_ID_PATTERN}\Z")

SIGNATURE_LENGTH: Final = 12
_SIG_BITS: Final = SIGNATURE_LENGTH * 5
_B32_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TOKEN_RE: Final = re.compile(
    rf"\A(?P<code>{CODE_PATTERN})\.(?P<kid>{KEY_ID_PATTERN})(?P<sig>[A-Z2-7]{{{SIGNATURE_LENGTH}}})\Z"
)
# Domain separation: these keys must never produce a MAC that is valid in another context.
_MAC_CONTEXT: Final = b"cylinder-trace/label/v1"
_MIN_SECRET_BYTES: Final = 16
# Characters that would break the ZPL field (^ ~), the URL (? # whitespace) or our parser.
_BASE_FORBIDDEN: Final = re.compile(r"[\s^~?#\\\"'<>]")


class LabelInvalid(ValueError):
    """A scanned payload is not a label we issued.

    ``code`` is the stable API error code; ``reason`` says why (``malformed``, ``wrong_base``,
    ``unknown_key``, ``bad_signature``) for logs and audit, not for the public.
    """

    code: Final = "label_invalid"

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{self.code}: {reason}" + (f" ({detail})" if detail else ""))


def validate_code(code: str) -> str:
    """Return ``code`` if it is a well-formed cylinder code, else raise ``ValueError``."""
    if not isinstance(code, str) or not CODE_RE.match(code):
        raise ValueError(f"invalid cylinder code {code!r}: expected {CODE_PATTERN}")
    return code


def parse_keys(spec: str) -> dict[str, bytes]:
    """Parse a key list from configuration: ``"1:<base64url>,2:<base64url>"``.

    Secrets are base64 (standard or URL-safe, padding optional) so they survive environment
    variables; generate one with ``python -c "import secrets; print(secrets.token_urlsafe(32))"``.
    """
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kid, sep, value = item.partition(":")
        if not sep:
            raise ValueError(f"key entry {item!r} must look like KID:BASE64SECRET")
        kid = kid.strip()
        if kid in keys:
            raise ValueError(f"key id {kid!r} given twice")
        value = value.strip().replace("-", "+").replace("_", "/")
        try:
            keys[kid] = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
        except binascii.Error as exc:
            raise ValueError(f"key {kid!r} is not valid base64") from exc
    return keys


class LabelSigner:
    """Signs cylinder codes into QR payloads and verifies scanned payloads.

    ``keys`` maps key id to secret; ``current_key_id`` signs new labels. Retired keys stay in
    ``keys`` so old labels still verify; drop a key only when its labels may become invalid.
    """

    def __init__(self, base_url: str, keys: Mapping[str, bytes], current_key_id: str) -> None:
        parts = urlsplit(base_url)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise ValueError(f"label base URL must be http(s)://host/...: {base_url!r}")
        if not base_url.endswith("/") or parts.query or parts.fragment:
            raise ValueError(f"label base URL must end with '/' and have no query: {base_url!r}")
        if _BASE_FORBIDDEN.search(base_url) or not base_url.isascii():
            raise ValueError(f"label base URL has characters unsafe in a label: {base_url!r}")
        if not keys:
            raise ValueError("at least one label key is required")
        for kid, secret in keys.items():
            if not _KEY_ID_RE.match(kid):
                raise ValueError(f"key id {kid!r} must match {KEY_ID_PATTERN}")
            if len(secret) < _MIN_SECRET_BYTES:
                raise ValueError(f"key {kid!r} is shorter than {_MIN_SECRET_BYTES} bytes")
        if current_key_id not in keys:
            raise ValueError(f"current key id {current_key_id!r} is not among the keys")
        self.base_url = base_url
        # Scheme and host are case-insensitive (RFC 3986 §6.2.2.1), the rest is not: a scanner
        # or a person retyping "https://" for "HTTPS://" must not turn a real label invalid.
        split_at = len(parts.scheme) + 3 + len(parts.netloc)
        self._base_authority = base_url[:split_at].lower()
        self._base_path = base_url[split_at:]
        # A base path written in upper case is in QR's alphanumeric set: its case carries
        # nothing, so it is compared without case. One with lower case letters is compared
        # as written (the label encodes it in byte mode, so a scanner reads it exactly).
        self._base_path_caseless = base_url[split_at:] == base_url[split_at:].upper()
        self._keys = {kid: bytes(secret) for kid, secret in keys.items()}
        self.current_key_id = current_key_id

    @property
    def key_ids(self) -> frozenset[str]:
        """Key ids this signer accepts."""
        return frozenset(self._keys)

    def _signature(self, kid: str, code: str) -> str:
        mac = hmac.new(self._keys[kid], digestmod=hashlib.sha256)
        mac.update(_MAC_CONTEXT + b"\x00" + kid.encode("ascii") + b"\x00" + code.encode("ascii"))
        value = int.from_bytes(mac.digest()[:8], "big") >> (64 - _SIG_BITS)
        return "".join(
            _B32_ALPHABET[(value >> shift) & 31] for shift in range(_SIG_BITS - 5, -1, -5)
        )

    def token(self, code: str) -> str:
        """Return the signed path segment ``{code}.{kid}{sig}`` for ``code``."""
        validate_code(code)
        kid = self.current_key_id
        return f"{code}.{kid}{self._signature(kid, code)}"

    def sign(self, code: str) -> str:
        """Return the full QR payload (a URL) for ``code``, signed with the current key."""
        return self.base_url + self.token(code)

    def verify_token(self, token: str) -> str:
        """Verify a path segment as produced by :meth:`token` and return the cylinder code.

        Meant for the web route behind the base URL, which only sees the last path segment.
        """
        if not isinstance(token, str):
            raise LabelInvalid("malformed", "not text")
        # Every character of a token is in QR's alphanumeric set, which has upper case only:
        # a token read in lower case (a keyboard-wedge scanner with Caps Lock) is the same one.
        match = _TOKEN_RE.match(token.upper() if token.isascii() else token)
        if match is None:
            raise LabelInvalid("malformed")
        code, kid, sig = match.group("code", "kid", "sig")
        if kid not in self._keys:
            raise LabelInvalid("unknown_key", kid)
        if not hmac.compare_digest(sig, self._signature(kid, code)):
            raise LabelInvalid("bad_signature")
        return code

    def verify(self, payload: str) -> str:
        """Verify a scanned payload and return its cylinder code, or raise :class:`LabelInvalid`.

        The payload must be the configured base URL (scheme and host compared without case)
        followed by a signed token; nothing is stripped or guessed beyond that.
        """
        if not isinstance(payload, str) or not payload.isascii():
            raise LabelInvalid("malformed", "not ASCII text")
        authority_len = len(self._base_authority)
        path = payload[authority_len : authority_len + len(self._base_path)]
        if self._base_path_caseless:
            path = path.upper()
        if payload[:authority_len].lower() != self._base_authority or path != self._base_path:
            raise LabelInvalid("wrong_base")
        return self.verify_token(payload[authority_len + len(self._base_path) :])
