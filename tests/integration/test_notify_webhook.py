"""Webhook delivery to a real HTTP server on loopback: a JSON POST whose HMAC the receiver
checks, the delivery key in a header, 2xx delivered, 5xx and silence retried, other answers
failed with the receiver's words."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from garrison.core.clock import utc_now
from garrison.core.db import Database
from garrison.core.settings import Settings, load_settings
from garrison.notify.delivery import deliver_due
from garrison.notify.models import OutboxMessage
from garrison.notify.outbox import InvalidMessage, enqueue_webhook

from feed_server import FeedServer, Reply, Seen

pytestmark = pytest.mark.db
SECRET = "bí-mật-của-webhook"
PAYLOAD = {
    "event": "notice.created",
    "organisation": "Sở Y tế",
    "summary": "Cảnh báo IP nhiễm mã độc",
    "addresses": ["171.244.10.21", "2402:800:6314::15"],
}


@pytest.fixture
def receiver() -> Iterator[FeedServer]:
    with FeedServer() as running:
        yield running


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """No SMTP host: e-mail is off, webhooks go out all the same."""
    return load_settings(data_dir=tmp_path / "data", outbox_timeout_seconds=0.5)


def queue(database: Database, url: str, key: str = "notice:5", secret: str | None = SECRET) -> int:
    with database.session() as session:
        return enqueue_webhook(
            session, key=key, url=url, payload=PAYLOAD, secret=secret, cause=("notice", 5)
        ).id


def stored(database: Database, message_id: int) -> OutboxMessage:
    with database.session() as session:
        found = session.get(OutboxMessage, message_id)
        assert found is not None
        return found


def verified(seen: Seen, secret: str) -> bool:
    """What a receiver does: recompute the HMAC of the raw body and compare in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), seen.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(seen.headers.get("X-Garrison-Signature", ""), expected)


def test_a_signed_json_post_is_delivered_once(
    database: Database, receiver: FeedServer, settings: Settings
) -> None:
    sent = queue(database, receiver.route("/hooks/garrison", Reply(204)))
    report = deliver_due(database, settings)
    assert report.email_off and report.sent == 1

    [seen] = receiver.hits("/hooks/garrison")
    assert seen.method == "POST" and verified(seen, SECRET)
    assert not verified(seen, "another secret")
    assert seen.headers["X-Garrison-Delivery"] == "notice:5"
    assert seen.headers["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(seen.body.decode("utf-8")) == PAYLOAD
    assert "Sở Y tế".encode() in seen.body

    message = stored(database, sent)
    assert (message.status, message.attempts, message.webhook_secret) == ("sent", 1, None)
    assert deliver_due(database, settings).outcomes == []
    assert len(receiver.hits("/hooks/garrison")) == 1


def test_without_a_secret_the_post_is_unsigned(
    database: Database, receiver: FeedServer, settings: Settings
) -> None:
    queue(database, receiver.route("/open", Reply(200)), secret=None)
    assert deliver_due(database, settings).sent == 1
    assert "X-Garrison-Signature" not in receiver.hits("/open")[0].headers


def test_server_errors_and_silence_are_retried_with_the_same_body(
    database: Database, receiver: FeedServer, settings: Settings
) -> None:
    url = receiver.route(
        "/flaky", Reply(503, b"maintenance until 02:00"), Reply(200, hang=3), Reply(200)
    )
    retried = queue(database, url)
    start = utc_now()
    assert deliver_due(database, settings, now=start).retrying == 1
    message = stored(database, retried)
    assert message.status == "pending" and message.next_attempt_at == start + timedelta(minutes=1)
    assert message.last_error == f"{url} answered 503 Service Unavailable: maintenance until 02:00"

    assert deliver_due(database, settings, now=start + timedelta(minutes=2)).retrying == 1
    assert stored(database, retried).last_error == f"{url} did not answer within 0.5 s"

    assert deliver_due(database, settings, now=start + timedelta(minutes=10)).sent == 1
    bodies = {seen.body for seen in receiver.hits("/flaky")}
    assert len(bodies) == 1, "every attempt sends the same bytes"
    assert all(verified(seen, SECRET) for seen in receiver.hits("/flaky"))


@pytest.mark.parametrize(
    ("reply", "status", "error"),
    [
        (Reply(404, b"no such hook"), "failed", "answered 404 Not Found: no such hook"),
        (Reply(410), "failed", "answered 410 Gone"),
        (
            Reply(302, headers={"Location": "https://example.invalid/new"}),
            "failed",
            "redirecting to https://example.invalid/new: give the webhook its final URL",
        ),
        (Reply(429, b"slow down"), "pending", "answered 429 Too Many Requests: slow down"),
    ],
    ids=["404", "410", "302", "429"],
)
def test_other_answers_fail_at_once_except_too_many_requests(
    database: Database,
    receiver: FeedServer,
    settings: Settings,
    reply: Reply,
    status: str,
    error: str,
) -> None:
    message_id = queue(database, receiver.route("/hook", reply))
    deliver_due(database, settings)
    message = stored(database, message_id)
    assert message.status == status and message.attempts == 1
    assert message.last_error is not None and error in message.last_error


def test_an_unreachable_receiver_keeps_the_call_pending(
    database: Database, settings: Settings
) -> None:
    with FeedServer() as gone:
        url = gone.url("/hook")
    message_id = queue(database, url)
    assert deliver_due(database, settings).retrying == 1
    message = stored(database, message_id)
    assert message.status == "pending" and (message.last_error or "").startswith(
        f"cannot reach {url}"
    )


def test_bad_urls_and_repeated_keys(database: Database, receiver: FeedServer) -> None:
    for url in ("ftp://127.0.0.1/hook", "not a url", "https:///no-host"):
        with pytest.raises(InvalidMessage, match="webhook URL"):
            queue(database, url)
    first = queue(database, receiver.route("/hook", Reply(200)))
    assert queue(database, receiver.url("/other")) == first
    with database.session() as session:
        assert session.scalars(select(OutboxMessage.webhook_url)).all() == [receiver.url("/hook")]
