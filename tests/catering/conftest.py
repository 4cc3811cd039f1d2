"""A clock the catering API and pages read (``catering.status.clock``), set by each test."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from cylinder_trace.catering import status
from cylinder_trace.web import bounds


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Call ``now(instant)`` to make the catering API believe it is ``instant``."""

    def set_now(instant: datetime) -> None:
        assert instant.tzinfo is not None
        monkeypatch.setattr(status, "clock", lambda: instant)
        # The window of plausible instants (web/bounds.py) counts from the same present.
        monkeypatch.setattr(bounds, "clock", instant.timestamp)

    return set_now
