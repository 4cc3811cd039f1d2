"""Every step the lifecycle rules allow from a state: the tests' generators walk with it."""

from __future__ import annotations

from datetime import UTC, datetime

from cylinder_trace.domain.lifecycle import (
    KIND_OUTCOMES,
    CylinderSnapshot,
    Outcome,
    ScanEvent,
    ScanKind,
    broken_rule,
)

# Any aware instant will do: the rules do not depend on when a scan happens.
_ANY_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def allowed_kinds(snapshot: CylinderSnapshot | None) -> list[tuple[ScanKind, Outcome | None]]:
    """Every (kind, outcome) that ``lifecycle.apply`` would accept from ``snapshot``."""
    return [
        (kind, outcome)
        for kind in ScanKind
        for outcome in KIND_OUTCOMES[kind]
        if broken_rule(snapshot, ScanEvent(kind, _ANY_TIME, outcome, buyer_id=0)) is None
    ]
