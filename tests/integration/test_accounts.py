"""Sign-in, rate limiting, password resets and what the audit log keeps of secrets."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from garrison.auth.accounts import (
    MAX_FAILURES,
    TooManyAttempts,
    authenticate,
    create_user,
    grant_membership,
    reset_password,
)
from garrison.auth.models import User
from garrison.auth.roles import Role
from garrison.core.audit import AuditEvent
from garrison.core.db import Database
from garrison.orgs.models import Organisation

PASSWORD = "mat-khau-rat-dai"


@pytest.fixture
def account(database: Database) -> Database:
    with database.session() as session:
        session.add(Organisation(name="Sở Y tế", short_name="SYT", kind_code="department"))
        session.flush()
        user = create_user(session, "Lan.Nguyen", PASSWORD, display_name="Nguyễn Thị Lan")
        grant_membership(session, user, "SYT", Role.MEMBER_MANAGER)
    return database


def test_sign_in_with_right_and_wrong_password(account: Database) -> None:
    with account.session() as session:
        signed = authenticate(session, "lan.nguyen", PASSWORD, "127.0.0.1")
        assert signed is not None and signed.user.display_name == "Nguyễn Thị Lan"
        assert not signed.principal.sees_everything
        assert authenticate(session, "lan.nguyen", "wrong password", "127.0.0.1") is None
        assert authenticate(session, "nobody", PASSWORD, "127.0.0.1") is None


def test_repeated_failures_lock_the_name_even_for_the_right_password(account: Database) -> None:
    for _ in range(MAX_FAILURES):
        with account.session() as session:
            assert authenticate(session, "lan.nguyen", "wrong", "127.0.0.2") is None
    with pytest.raises(TooManyAttempts), account.session() as session:
        authenticate(session, "lan.nguyen", PASSWORD, "127.0.0.3")


def test_reset_password_forces_a_change_and_audits_without_the_hash(account: Database) -> None:
    with account.session() as session:
        user = session.scalar(select(User).where(User.username == "lan.nguyen"))
        assert user is not None
        reset_password(session, user, "mot-mat-khau-moi")
    with account.session() as session:
        assert authenticate(session, "lan.nguyen", PASSWORD) is None
        signed = authenticate(session, "lan.nguyen", "mot-mat-khau-moi")
        assert signed is not None and signed.user.must_change_password
        events = session.scalars(select(AuditEvent).where(AuditEvent.entity == "users")).all()
    assert [e.action for e in events] == ["create", "update"]
    for event in events:
        text = repr(event.before) + repr(event.after)
        assert "argon2" not in text
    assert events[1].after is not None and events[1].after["password_hash"].startswith("<redacted")


def test_token_use_is_recorded_once_a_minute_not_on_every_request(account: Database) -> None:
    """Reads with a token stay reads: its last use is written only when a minute has passed."""
    from datetime import timedelta

    from garrison.auth.models import ApiToken
    from garrison.auth.tokens import USE_RECORDED_EVERY, issue_token, principal_for_token

    with account.session() as session:
        user = session.scalars(select(User)).one()
        secret = issue_token(session, user, "đồng bộ", {"read"}).secret
    with account.session() as session:
        assert principal_for_token(session, secret) is not None
        first = session.scalars(select(ApiToken)).one().last_used_at
    assert first is not None
    with account.session() as session:
        assert principal_for_token(session, secret) is not None
        assert not session.dirty, "a second use within the minute changes nothing"
        token = session.scalars(select(ApiToken)).one()
        token.last_used_at = first - USE_RECORDED_EVERY - timedelta(seconds=1)
    with account.session() as session:
        assert principal_for_token(session, secret) is not None
        assert session.scalars(select(ApiToken)).one().last_used_at > first
