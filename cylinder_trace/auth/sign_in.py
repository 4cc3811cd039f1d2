"""Slowing down password guessing on the sign-in page: failed sign-ins, counted and limited.

Every failed sign-in is a row (username as typed, the client's address, when). A username
with ``max_failures`` failures within ``window``, or an address with
``max_failures_per_address`` (one address trying many usernames), is refused until the
oldest of those failures leaves the window, whatever password it sends then: a right
password found by guessing is worth nothing during the wait. Unknown usernames are counted
like real ones, so the limit does not tell which usernames exist. A successful sign-in
forgets its username's failures.

Rows are kept across workers and restarts (the database is the one shared place); old rows
go as new failures come in. The limits are settings (``config.SignInLimits``, CT_SIGN_IN_*).
Services flush; the request commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cylinder_trace.auth.models import ADDRESS_LENGTH, USERNAME_LENGTH, SignInFailure
from cylinder_trace.config import SignInLimits


def sign_in_wait(
    session: Session, username: str, address: str, now: datetime, limits: SignInLimits
) -> timedelta | None:
    """How long this username or address must wait before trying again; None if it may try."""
    since = now - limits.window
    until = None
    for column, value, allowed in (
        (SignInFailure.username, _username(username), limits.max_failures),
        (SignInFailure.address, _address(address), limits.max_failures_per_address),
    ):
        # The allowed-th most recent failure in the window: while it is in the window, so
        # are `allowed` failures, and the next try must wait until it leaves.
        oldest_counted = session.scalar(
            select(SignInFailure.at)
            .where(column == value, SignInFailure.at > since)
            .order_by(SignInFailure.at.desc())
            .offset(allowed - 1)
            .limit(1)
        )
        if oldest_counted is not None:
            ends = oldest_counted + limits.window
            until = ends if until is None else max(until, ends)
    return None if until is None else until - now


def record_sign_in_failure(
    session: Session, username: str, address: str, now: datetime, limits: SignInLimits
) -> None:
    """Count a failed sign-in, and drop the failures that no limit looks at any more."""
    session.execute(delete(SignInFailure).where(SignInFailure.at <= now - limits.window))
    session.add(SignInFailure(username=_username(username), address=_address(address), at=now))
    session.flush()


def forget_sign_in_failures(session: Session, username: str) -> None:
    """After a successful sign-in: its username starts afresh (its address does not)."""
    session.execute(delete(SignInFailure).where(SignInFailure.username == _username(username)))
    session.flush()


def _username(username: str) -> str:
    return username.strip().lower()[:USERNAME_LENGTH]


def _address(address: str) -> str:
    return address[:ADDRESS_LENGTH]
