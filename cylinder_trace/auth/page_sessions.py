"""The pages' sign-in sessions (``auth.models.UserSession``), kept on the server so they can end.

Signing in makes a row and gives the browser a random session id (256 bits) inside the
signed session cookie; each page request looks the id up. Only the SHA-256 of the id is
stored, so a copy of the table opens no session. A session ends when its row is gone:
signing out, a new password, deactivating the user, or an admin ending them
(``end_user_sessions``); it also expires ``lifetime`` after sign-in, whatever the cookie
says. Services flush; the request or the CLI command commits.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cylinder_trace.auth.models import UserSession
from cylinder_trace.db import utcnow
from cylinder_trace.users.models import User

# token_urlsafe(32) is 43 characters; anything much longer in a cookie is not ours.
MAX_SESSION_ID_LENGTH = 64


def hash_session_id(session_id: str) -> str:
    """SHA-256 is enough: the id carries 256 random bits, so there is nothing to brute-force."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def start_session(session: Session, user: User, now: datetime, lifetime: timedelta) -> str:
    """Open a session for ``user`` and return its id for the cookie (shown once, never stored).

    Expired sessions of everyone are dropped on the way: signing in is rare enough to carry
    that, and the table then holds only sessions that could still be used.
    """
    session.execute(delete(UserSession).where(UserSession.expires_at <= now))
    session_id = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            user_id=user.id,
            session_hash=hash_session_id(session_id),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return session_id


def session_user(session: Session, session_id: object, now: datetime) -> User | None:
    """The user of a live session, in one query; None if unknown, ended or expired.

    Whether the user and its organisation are still active is the caller's question.
    """
    if not isinstance(session_id, str) or not 0 < len(session_id) <= MAX_SESSION_ID_LENGTH:
        return None
    return session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.session_hash == hash_session_id(session_id),
            UserSession.expires_at > now,
        )
    )


def end_session(session: Session, session_id: object) -> None:
    """End one session (signing out); an unknown or already ended id is no error."""
    if isinstance(session_id, str) and 0 < len(session_id) <= MAX_SESSION_ID_LENGTH:
        session.execute(
            delete(UserSession).where(UserSession.session_hash == hash_session_id(session_id))
        )
        session.flush()


def end_user_sessions(session: Session, user: User, now: datetime | None = None) -> int:
    """End every session of ``user`` at once; return how many could still have been used."""
    now = now or utcnow()
    mine = UserSession.user_id == user.id
    session.execute(delete(UserSession).where(mine, UserSession.expires_at <= now))
    result = session.execute(delete(UserSession).where(mine))
    session.flush()
    return result.rowcount or 0
