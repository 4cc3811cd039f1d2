"""Customer cards: a signed QR that delivery staff scan instead of typing an ID number.

The payload is ``{base}K/{card_code}.{kid}{sig}`` made by the label machinery's
``LabelSigner``, with two separations from cylinder labels so that neither can ever pass
as the other:

* its own keys: each label key is turned into a card key by HMAC-SHA256 under a fixed
  purpose string, so a signature valid for a cylinder code is not valid for a card even
  if the codes were equal, and card keys rotate along with the label keys (same key ids);
* its own path: the label base URL's last segment (``…/C/``) is replaced by ``K/``, so
  the two kinds of payload look different to a person and to the route behind them.

The card code is random (80 bits), never the database id, so it reveals nothing about how
many customers a company has and cannot be guessed from a neighbour's card.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
from typing import Final
from urllib.parse import urlsplit

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy import select
from sqlalchemy.orm import Session

from cylinder_trace.config import Settings
from cylinder_trace.customers.models import Customer
from cylinder_trace.domain.errors import DomainError
from cylinder_trace.qr_labels.signing import LabelInvalid, LabelSigner

CARD_PATH: Final = "K/"
CARD_CODE_PREFIX: Final = "K"
# Crockford-style: no I, L, O, U, so a code read aloud or retyped is unambiguous.
_CARD_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CARD_CODE_CHARS: Final = 16  # 16 x 5 bits = 80 random bits
_KEY_PURPOSE: Final = b"cylinder-trace/customer-card/v1"


class CustomerCardInvalid(DomainError):
    """A scanned customer card we did not issue, or one for no (reachable) customer."""

    code = "customer_card_invalid"
    kind = "refused"


def new_card_code() -> str:
    """A fresh random card code such as ``K7Q2M…``: upper-case, valid as a label code."""
    return CARD_CODE_PREFIX + "".join(
        secrets.choice(_CARD_ALPHABET) for _ in range(_CARD_CODE_CHARS)
    )


def card_base_url(label_base_url: str) -> str:
    """The label base URL with its last path segment replaced by ``K/``."""
    parts = urlsplit(label_base_url)
    prefix = label_base_url[: len(label_base_url) - len(parts.path)]
    segments = [segment for segment in parts.path.split("/") if segment]
    if segments:
        segments.pop()
    return prefix + "/" + "".join(f"{segment}/" for segment in segments) + CARD_PATH


def card_keys(label_keys: dict[str, bytes]) -> dict[str, bytes]:
    """One card key per label key, same ids, derived so neither can sign for the other."""
    return {
        kid: hmac.new(key, _KEY_PURPOSE, hashlib.sha256).digest() for kid, key in label_keys.items()
    }


def signer_for(settings: Settings) -> LabelSigner:
    """The card signer for these settings (the label base URL and keys); the registry holds
    the app's one."""
    return LabelSigner(
        card_base_url(settings.label_base_url),
        card_keys(settings.label_keys),
        settings.label_key_id,
    )


def card_payload(customer: Customer, signer: LabelSigner) -> str:
    """The signed QR payload printed on the customer's card (``signer``: the registry's
    ``card_signer``)."""
    return signer.sign(customer.card_code)


def card_png(payload: str, *, box_size: int = 8) -> bytes:
    """The card's QR symbol as a PNG (4-module quiet zone, error correction M)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(payload)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def resolve_customer_card(
    session: Session,
    payload: str,
    *,
    signer: LabelSigner,
    company_id: int | None = None,
) -> Customer:
    """The customer behind a scanned card payload.

    Raises ``customer_card_invalid`` when the signature does not verify (forged, altered,
    a cylinder label, a retired key), when no customer has that card code, or when the
    customer belongs to another company than ``company_id``: the scanning company may not
    learn that another company's customer exists. Whether the customer is active is left
    to the caller, which can tell the person at the door why the sale is refused.
    """
    message = "This is not a customer card issued by cylinder-trace for your company."
    try:
        card_code = signer.verify(payload.strip())
    except LabelInvalid as exc:
        raise CustomerCardInvalid(message, details={"reason": exc.reason}) from None
    customer = session.scalar(select(Customer).where(Customer.card_code == card_code))
    if customer is None or (company_id is not None and customer.company_id != company_id):
        raise CustomerCardInvalid(message, details={"reason": "unknown_card"})
    return customer
