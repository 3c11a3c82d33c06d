"""API tokens for machine clients: shown once, stored hashed, scoped, revocable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from garrison.auth.accounts import principal_for
from garrison.auth.models import ApiToken, User
from garrison.auth.principal import Principal
from garrison.core.clock import utc_now
from garrison.core.errors import GarrisonError, NotFoundError

TOKEN_PREFIX = "gar_"
SCOPES = frozenset({"read", "write"})
# Last use is kept to the minute: writing it on every request would make each API read a
# write (on SQLite, one writer at a time).
USE_RECORDED_EVERY = timedelta(minutes=1)


class TokenError(GarrisonError):
    pass


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the only time the full secret exists outside the client


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    session: Session, user: User, name: str, scopes: set[str], valid_for: timedelta | None = None
) -> IssuedToken:
    unknown = scopes - SCOPES
    if unknown or not scopes:
        raise TokenError(f"scopes must be among {', '.join(sorted(SCOPES))}")
    prefix = secrets.token_hex(6)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=prefix,
        secret_hash=_digest(secret),
        scopes=sorted(scopes),
        expires_at=utc_now() + valid_for if valid_for else None,
    )
    session.add(token)
    session.flush()
    return IssuedToken(token, secret)


def revoke_token(session: Session, prefix: str) -> ApiToken:
    token = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if token is None:
        raise NotFoundError(f"no API token with prefix {prefix!r}")
    token.revoked_at = token.revoked_at or utc_now()
    return token


def principal_for_token(session: Session, secret: str) -> Principal | None:
    """The principal a presented token acts as, or None if it is unknown, expired or revoked."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    prefix = secret[len(TOKEN_PREFIX) :].split("_", 1)[0]
    token = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if token is None or not hmac.compare_digest(token.secret_hash, _digest(secret)):
        return None
    now = utc_now()
    if token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= USE_RECORDED_EVERY:
        token.last_used_at = now
    return principal_for(session, user, frozenset(token.scopes))
