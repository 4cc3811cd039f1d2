"""Reads on a streaming replica: the authorities' lists and exports, while it keeps up.

A replica answers the heavy reads of bureaus and regulators (city-wide lists, counts,
exports) and leaves the primary to the scans. Its data may be behind: a replica is used for
a request only while its lag is within ``CT_REPLICA_MAX_LAG_SECONDS``, measured at most
every ``CT_REPLICA_CHECK_SECONDS``; otherwise, or when it cannot be reached, the request
reads the primary. The lag is nil when the replica has replayed all the WAL the primary has
written, else the age of the last transaction it replayed.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

_REPLAYED = text(
    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= CAST(:written AS pg_lsn), "
    "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
)


class ReplicaMonitor:
    """Whether the replica may serve reads now (one measurement per ``check_every``)."""

    def __init__(
        self, primary: Engine, replica: Engine, *, max_lag: float, check_every: float
    ) -> None:
        self.primary = primary
        self.replica = replica
        self.max_lag = max_lag
        self.check_every = check_every
        self._lock = threading.Lock()
        self._checked_at = float("-inf")
        self._usable = False

    def usable(self) -> bool:
        """True when the replica's lag is within the limit (measured now if it is time)."""
        now = time.monotonic()
        with self._lock:
            if now - self._checked_at < self.check_every:
                return self._usable
            self._checked_at = now
        lag = self.lag()
        usable = lag is not None and lag <= self.max_lag
        with self._lock:
            self._usable = usable
        return usable

    def lag(self) -> float | None:
        """Seconds the replica is behind the primary (0: caught up), None if unreachable or
        not a replica."""
        try:
            with self.primary.connect() as connection:
                written = connection.exec_driver_sql("SELECT pg_current_wal_lsn()").scalar()
            with self.replica.connect() as connection:
                in_recovery, caught_up, age = connection.execute(
                    _REPLAYED, {"written": str(written)}
                ).one()
        except SQLAlchemyError as error:
            log.warning("replica unreachable, reading the primary: %s", type(error).__name__)
            return None
        if not in_recovery:
            log.warning("CT_REPLICA_DATABASE_URL is not a replica; reading the primary")
            return None
        if caught_up:
            return 0.0
        return float(age) if age is not None else None
