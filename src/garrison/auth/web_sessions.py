"""Browser sessions: a random key in a cookie, its hash and a CSRF token in the database."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from garrison.auth.models import User, WebSession
from garrison.core.clock import utc_now

SESSION_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True)
class OpenedSession:
    key: str  # goes into the cookie, never stored
    csrf_token: str


@dataclass(frozen=True)
class ActiveSession:
    user: User
    csrf_token: str


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def open_web_session(session: Session, user: User) -> OpenedSession:
    now = utc_now()
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    key, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        WebSession(
            key_hash=_digest(key),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    return OpenedSession(key, csrf)


def resolve_web_session(session: Session, key: str) -> ActiveSession | None:
    """The signed-in user behind a cookie key, or None if unknown, expired or deactivated."""
    found = session.scalar(select(WebSession).where(WebSession.key_hash == _digest(key)))
    if found is None or found.expires_at <= utc_now():
        return None
    user = session.get(User, found.user_id)
    if user is None or not user.is_active:
        return None
    return ActiveSession(user, found.csrf_token)


def close_web_session(session: Session, key: str) -> None:
    session.execute(delete(WebSession).where(WebSession.key_hash == _digest(key)))


def close_all_sessions_of(session: Session, user: User) -> None:
    """Used when a password is reset or a user deactivated: every browser is signed out."""
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
