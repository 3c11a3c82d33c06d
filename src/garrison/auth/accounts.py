"""Creating users, signing in (rate-limited), memberships and administrator password resets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from garrison.auth.models import LoginAttempt, Membership, User
from garrison.auth.passwords import (
    DUMMY_HASH,
    check_password_strength,
    hash_password,
    needs_rehash,
    verify_password,
)
from garrison.auth.principal import Principal, build_principal
from garrison.auth.roles import Role
from garrison.auth.web_sessions import close_all_sessions_of
from garrison.core.clock import utc_now
from garrison.core.errors import GarrisonError, NotFoundError
from garrison.core.tabular import normalise_header
from garrison.orgs.queries import find_organisation

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)


class AccountError(GarrisonError):
    pass


class TooManyAttempts(GarrisonError):
    """Sign-in refused for a while after repeated failures (per user name and per address)."""


@dataclass(frozen=True)
class SignIn:
    user: User
    principal: Principal


def _normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise AccountError(
            f"{username!r} is not a valid user name (2–80 characters: letters, "
            "digits, '.', '_' or '-')"
        )
    return name


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFoundError(f"no user named {username!r}")
    return user


def create_user(
    session: Session,
    username: str,
    password: str,
    *,
    display_name: str | None = None,
    email: str | None = None,
    language: str = "vi",
) -> User:
    name = _normalise_username(username)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise AccountError(f"a user named {name!r} already exists")
    check_password_strength(password, username=name)
    user = User(
        username=name,
        display_name=display_name or name,
        email=email,
        password_hash=hash_password(password),
        language=language,
    )
    session.add(user)
    session.flush()
    return user


def grant_membership(session: Session, user: User, organisation: str, role: Role) -> Membership:
    """Give `user` a role in an organisation (replacing an earlier role there)."""
    org = find_organisation(session, organisation)
    membership = session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == org.id
        )
    )
    if membership is None:
        membership = Membership(user_id=user.id, organisation_id=org.id, role=role.value)
        session.add(membership)
    else:
        membership.role = role.value
    session.flush()
    return membership


def reset_password(session: Session, user: User, new_password: str) -> None:
    """An administrator sets a new password; the user must change it at next sign-in."""
    check_password_strength(new_password, username=user.username)
    user.password_hash = hash_password(new_password)
    user.must_change_password = True
    close_all_sessions_of(session, user)


def principal_for(session: Session, user: User, scopes: frozenset[str] | None = None) -> Principal:
    memberships = [
        (m.organisation_id, m.role)
        for m in session.scalars(select(Membership).where(Membership.user_id == user.id))
    ]
    return build_principal(session, user.id, user.username, memberships, scopes)


def _recent_failures(session: Session, username: str, remote_address: str | None) -> int:
    since = utc_now() - FAILURE_WINDOW
    by_name = (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.username == username,
                LoginAttempt.at >= since,
                LoginAttempt.succeeded.is_(False),
            )
        )
        or 0
    )
    by_address = 0
    if remote_address:
        by_address = (
            session.scalar(
                select(func.count())
                .select_from(LoginAttempt)
                .where(
                    LoginAttempt.remote_address == remote_address,
                    LoginAttempt.at >= since,
                    LoginAttempt.succeeded.is_(False),
                )
            )
            or 0
        )
    return max(by_name, by_address // 4)


def authenticate(
    session: Session, username: str, password: str, remote_address: str | None = None
) -> SignIn | None:
    """The user and their principal if the password is right; None otherwise.

    After MAX_FAILURES failures for a name in FAILURE_WINDOW (or four times as many from one
    address) every attempt is refused with TooManyAttempts, right password or not.
    """
    name = username.strip().lower()[:80]
    if _recent_failures(session, name, remote_address) >= MAX_FAILURES:
        raise TooManyAttempts("too many failed sign-ins; wait 15 minutes and try again")
    user = session.scalar(select(User).where(User.username == name))
    valid = verify_password(user.password_hash if user else DUMMY_HASH, password)
    succeeded = bool(user and user.is_active and valid)
    session.add(
        LoginAttempt(
            username=name, remote_address=remote_address, at=utc_now(), succeeded=succeeded
        )
    )
    if not succeeded or user is None:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utc_now()
    return SignIn(user, principal_for(session, user))


@dataclass(frozen=True)
class MembershipSummary:
    id: int
    organisation_id: int
    organisation: str
    role: str


@dataclass(frozen=True)
class UserSummary:
    """A user as an administrator sees them: who, whether active, and where with which role."""

    id: int
    username: str
    display_name: str
    email: str | None
    is_active: bool
    must_change_password: bool
    last_login_at: datetime | None
    memberships: list[MembershipSummary]

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(membership.role for membership in self.memberships)


def user_by_id(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"no user with id {user_id}")
    return user


def _summary(user: User) -> UserSummary:
    memberships = [
        MembershipSummary(m.id, m.organisation_id, m.organisation.name, m.role)
        for m in sorted(user.memberships, key=lambda m: m.organisation.name)
    ]
    return UserSummary(
        user.id,
        user.username,
        user.display_name,
        user.email,
        user.is_active,
        user.must_change_password,
        user.last_login_at,
        memberships,
    )


_WITH_MEMBERSHIPS = selectinload(User.memberships).selectinload(Membership.organisation)


def user_summary(session: Session, user_id: int) -> UserSummary:
    user = session.scalar(select(User).options(_WITH_MEMBERSHIPS).where(User.id == user_id))
    if user is None:
        raise NotFoundError(f"no user with id {user_id}")
    return _summary(user)


def list_users(
    session: Session, *, search: str | None = None, role: str | None = None
) -> list[UserSummary]:
    """Users by user name; `search` matches user name, display name or e-mail, ignoring case
    and marks; `role` keeps users holding that role somewhere."""
    wanted = normalise_header(search) if search else None
    found = []
    for user in session.scalars(select(User).options(_WITH_MEMBERSHIPS).order_by(User.username)):
        text = f"{user.username} {user.display_name} {user.email or ''}"
        if wanted and wanted not in normalise_header(text):
            continue
        summary = _summary(user)
        if role is None or role in summary.roles:
            found.append(summary)
    return found


def revoke_membership(session: Session, user: User, membership_id: int) -> None:
    """Take one of `user`'s roles away; it stops counting at the user's next request."""
    membership = session.scalar(
        select(Membership).where(Membership.id == membership_id, Membership.user_id == user.id)
    )
    if membership is None:
        raise NotFoundError(f"{user.username} has no membership with id {membership_id}")
    session.delete(membership)
    session.flush()


def set_user_active(session: Session, user: User, active: bool) -> None:
    """Deactivate (every browser and token stops working at once) or reactivate a user."""
    user.is_active = active
    if not active:
        close_all_sessions_of(session, user)
    session.flush()
