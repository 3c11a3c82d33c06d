"""The outbox page: coordinator staff only, counts per status, held and failed messages with
their reasons at a glance, retry and release by those who may, members never see a row."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from ui_pages import assert_refused_page, body_rows, organisation_id, statuses

from garrison.auth.accounts import principal_for
from garrison.auth.models import User
from garrison.auth.tenancy import bind_principal
from garrison.core.audit import AuditEvent
from garrison.core.db import Database
from garrison.notify.mail import Attachment
from garrison.notify.models import OutboxAttachment, OutboxMessage
from garrison.notify.outbox import enqueue_email

from web_client import sign_in

pytestmark = pytest.mark.db
QUEUED, CHANNEL, RECIPIENT, SUBJECT, STATUS, ATTEMPTS, ERROR, ACTION = range(8)


def _messages(province: Database) -> dict[str, int]:
    """One message in each state a person must see: held, failed, waiting to retry, sent."""
    health = organisation_id(province, "SYT")
    ids: dict[str, int] = {}
    with province.session() as session:
        for state, recipients in (
            ("held", []),
            ("failed", ["khongco@syt.sonlam.gov.vn"]),
            ("pending", ["antt@syt.sonlam.gov.vn"]),
            ("sent", ["lan.nguyen@syt.sonlam.gov.vn"]),
        ):
            message = enqueue_email(
                session,
                key=f"notice:{state}",
                recipients=recipients,
                subject=f"Cảnh báo IP nhiễm mã độc — Sở Y tế ({state})",
                text="Kính gửi Sở Y tế",
                attachments=[Attachment("Danh sách.xlsx", "application/octet-stream", b"x")],
                cause=("notice", 12),
                organisation_id=health,
            )
            ids[state] = message.id
        failed, pending, sent = (
            session.get_one(OutboxMessage, ids[name]) for name in ("failed", "pending", "sent")
        )
        failed.status, failed.attempts = "failed", 1
        failed.last_error = "127.0.0.1:25 refused every recipient: 550 5.1.1 User unknown"
        pending.attempts, pending.last_error = 1, "451 4.3.0 Mailbox busy, try again later"
        sent.status, sent.attempts = "sent", 1
    return ids


def _row(page: str, subject_part: str) -> list[str]:
    [row] = [row for row in body_rows(page) if subject_part in row[SUBJECT]]
    return row


def test_only_coordinator_staff_open_the_outbox(client: TestClient) -> None:
    seen = statuses(client, ["/outbox"])
    for username in ("quantri", "phantich", "truc.ban"):
        assert seen.pop(username) == {"/outbox": 200}
    assert all(by_path == {"/outbox": 403} for by_path in seen.values()), seen
    sign_in(client, "syt")
    assert_refused_page(client.get("/outbox"))
    assert 'href="/outbox"' not in client.get("/").text
    sign_in(client, "truc.ban")
    assert 'href="/outbox"' in client.get("/").text


def test_held_and_failed_messages_are_visible_at_a_glance(
    client: TestClient, province: Database
) -> None:
    _messages(province)
    sign_in(client, "truc.ban")
    page = client.get("/outbox").text
    assert "Hộp thư đi" in page
    assert "Chưa bật gửi thư điện tử" in page, "no SMTP host: the page says e-mail is off"
    for label, count in (("tạm giữ", 1), ("thất bại", 1), ("chờ gửi", 1), ("đã gửi", 1)):
        assert f"{label} <b>{count}</b>" in page
    assert 'outbox-held attention"' in page and 'outbox-failed attention"' in page

    held = _row(page, "(held)")
    assert held[STATUS] == "tạm giữ" and held[RECIPIENT] == "—"
    assert held[ERROR] == "no e-mail address"
    assert "notice:held · notice #12" in held[SUBJECT]
    failed = _row(page, "(failed)")
    assert failed[STATUS] == "thất bại" and failed[ATTEMPTS] == "1"
    assert "550 5.1.1 User unknown" in failed[ERROR]
    waiting = _row(page, "(pending)")
    assert waiting[STATUS].startswith("chờ gửi thử lại lúc") and "451 4.3.0" in waiting[ERROR]
    assert all(row[ACTION] == "" for row in body_rows(page)), "a duty officer only reads"

    only_held = client.get("/outbox?status=held", headers={"HX-Request": "true"})
    assert "<html" not in only_held.text
    assert [row[SUBJECT].split(" (")[0] for row in body_rows(only_held.text)] == [
        "Cảnh báo IP nhiễm mã độc — Sở Y tế"
    ]
    assert len(body_rows(client.get("/outbox?search=KHONGCO@syt").text)) == 1
    assert len(body_rows(client.get("/outbox?channel=webhook").text)) == 1  # "no message"
    assert client.get("/outbox?status=lost").status_code == 422


def test_retry_and_release_from_the_page(client: TestClient, province: Database) -> None:
    ids = _messages(province)
    csrf = sign_in(client, "phantich")
    page = client.get("/outbox").text
    assert "Gửi lại" in _row(page, "(failed)")[ACTION]
    assert "Gửi tới" in _row(page, "(held)")[ACTION]
    assert _row(page, "(sent)")[ACTION] == ""

    refused = client.post(
        f"/outbox/{ids['held']}/release", data={"csrf_token": csrf, "to": "không phải địa chỉ"}
    )
    assert refused.status_code == 400 and "recipient: &#39;không&#39;" in refused.text
    assert client.post(f"/outbox/{ids['sent']}/retry", data={"csrf_token": csrf}).status_code == 400
    assert client.post("/outbox/999999/retry", data={"csrf_token": csrf}).status_code == 404
    assert client.post(f"/outbox/{ids['failed']}/retry", data={}).status_code == 403

    done = client.post(
        f"/outbox/{ids['held']}/release",
        data={"csrf_token": csrf, "to": "vanphong@syt.sonlam.gov.vn; lan@syt.sonlam.gov.vn"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/outbox?status=pending"
    again = client.post(
        f"/outbox/{ids['failed']}/retry", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert again.status_code == 303

    with province.session() as session:
        held = session.get_one(OutboxMessage, ids["held"])
        assert held.status == "pending" and held.last_error is None
        assert held.recipients == ["vanphong@syt.sonlam.gov.vn", "lan@syt.sonlam.gov.vn"]
        failed = session.get_one(OutboxMessage, ids["failed"])
        assert (failed.status, failed.attempts) == ("pending", 0)
        actors = session.scalars(
            select(AuditEvent.actor).where(
                AuditEvent.entity == "outbox_messages", AuditEvent.action == "update"
            )
        ).all()
    assert actors.count("user:phantich") == 2
    pending = client.get("/outbox?status=pending").text
    assert len(body_rows(pending)) == 3


def test_members_sessions_never_see_outbox_rows(province: Database) -> None:
    _messages(province)
    with province.session() as session:
        member = session.scalar(select(User).where(User.username == "syt"))
        assert member is not None
        principal = principal_for(session, member)
    with province.sessions() as session:
        bind_principal(session, principal)
        assert session.scalars(select(OutboxMessage)).all() == []
        assert session.scalar(select(func.count()).select_from(OutboxAttachment)) == 0
    with province.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 4


def test_markup_in_a_message_is_shown_as_text(client: TestClient, province: Database) -> None:
    with province.session() as session:
        message = enqueue_email(
            session,
            key="notice:<b>x</b>",
            recipients=[],
            subject='<script>alert("tiêu đề")</script>',
            text="",
        )
        message.last_error = "<img src=x onerror=alert(1)>"
    sign_in(client, "quantri")
    page = client.get("/outbox?search=script").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
