"""What recording scans needs from its surroundings, gathered once per request or command."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from cylinder_trace.customers.crypto import PiiVault
from cylinder_trace.domain.rules import RuleSettings
from cylinder_trace.domain.weeks import local_date
from cylinder_trace.fastpath.jsontext import dumps_sorted
from cylinder_trace.principal import Principal
from cylinder_trace.qr_labels.signing import LabelSigner

if TYPE_CHECKING:
    from cylinder_trace.config import Settings


class Keys(Protocol):
    """The app's singletons recording needs: ``registry.Registry`` is one (named by shape,
    as the registry also builds what depends on scans)."""

    @property
    def label_signer(self) -> LabelSigner: ...
    @property
    def card_signer(self) -> LabelSigner: ...
    @property
    def pii_vault(self) -> PiiVault: ...


@dataclass(frozen=True, slots=True)
class ScanContext:
    principal: Principal
    rules: RuleSettings
    signer: LabelSigner
    vault: PiiVault
    card_signer: LabelSigner  # customer cards (registry.card_signer)
    now: datetime
    today: date  # business date (China)
    tz: ZoneInfo
    language: str = "en"  # of the messages in answers ("zh" or "en")

    @classmethod
    def at(
        cls,
        now: datetime,
        *,
        principal: Principal,
        settings: Settings,
        registry: Keys,
        language: str = "en",
    ) -> ScanContext:
        """The context of scans by ``principal`` at ``now``, "today" in the business zone,
        with the app's signers and vault from ``registry``."""
        zone = settings.time_zone
        today = local_date(now, zone)
        return cls(
            principal,
            settings.rules,
            registry.label_signer,
            registry.pii_vault,
            registry.card_signer,
            now,
            today,
            zone,
            language,
        )

    def content_hash(self, item: dict[str, Any]) -> str:
        """A keyed hash of what the scanner sent, to tell a retry from a different scan.

        Keyed, because an item may carry a buyer's ID number: a plain hash of it could be
        reversed by trying every possible number.
        """
        text = dumps_sorted(item, ensure_ascii=True, default=str).decode("ascii")
        return self.vault.lookup_hash(text, purpose="scans.content")


def plain_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
