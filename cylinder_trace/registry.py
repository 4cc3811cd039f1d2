"""The app's singletons, built once from its settings in ``create_app``.

| object | built from | used by |
| --- | --- | --- |
| ``label_signer`` | ``label_base_url``, ``label_keys``, ``label_key_id`` | labels, scans, pages |
| ``card_signer`` | the same keys, turned into card keys (``customers.cards``) | customer cards |
| ``pii_vault`` | ``pii_keys``, ``pii_key_id``, ``pii_hash_key`` | customers, scans |
| ``file_store`` | ``catering.files_dir`` | catering check photos and signatures |

One instance of each per app: two apps with different keys share nothing. The request's
code (API, pages, CLI) reads it with ``web.current.registry()`` and hands services the one
object they need; services never look the registry up themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from cylinder_trace.catering.files import FileStore
from cylinder_trace.config import Settings
from cylinder_trace.customers import cards
from cylinder_trace.customers.crypto import PiiVault
from cylinder_trace.cylinders import scanned_labels
from cylinder_trace.qr_labels.signing import LabelSigner

__all__ = ["Registry", "build_registry"]


@dataclass(frozen=True, slots=True)
class Registry:
    """The singletons of one app (``app.extensions[config.REGISTRY_EXTENSION]``)."""

    label_signer: LabelSigner
    card_signer: LabelSigner
    pii_vault: PiiVault
    file_store: FileStore

    def __repr__(self) -> str:
        # The signers and the vault hold keys; a log line names only what is there.
        return f"<Registry signers, {self.pii_vault!r}, files in {self.file_store.root}>"


def build_registry(settings: Settings) -> Registry:
    """Build every singleton from ``settings`` (already checked by ``load_settings``)."""
    return Registry(
        label_signer=scanned_labels.signer_for(settings),
        card_signer=cards.signer_for(settings),
        pii_vault=PiiVault.from_settings(settings),
        file_store=FileStore(settings.catering.files_dir),
    )
