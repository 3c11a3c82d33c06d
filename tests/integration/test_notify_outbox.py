"""The outbox end to end: messages written with their cause, sent once by a real SMTP server on
loopback (aiosmtpd), retried when the server asks, failed when it refuses, held without an
address, and delivered exactly once across a sender killed in the middle of a batch."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from garrison.cli.main import app
from garrison.core.clock import utc_now
from garrison.core.db import Database
from garrison.core.settings import Settings, load_settings
from garrison.notify.channels.smtp import SmtpChannel
from garrison.notify.delivery import CLAIM_LEASE, deliver_due
from garrison.notify.mail import Attachment, message_id
from garrison.notify.models import OutboxAttachment, OutboxMessage
from garrison.notify.outbox import (
    InvalidMessage,
    OutboxStateError,
    enqueue_email,
    release,
    retry,
)
from garrison.orgs.models import Contact, Organisation

from smtp_server import MailServer, silent_server

pytestmark = pytest.mark.db
SENDER = "canhbao@stttt.sonlam.gov.vn"
SUBJECT = "Cảnh báo IP nhiễm mã độc — Sở Y tế"
BODY = (
    "Kính gửi Sở Y tế,\n\n"
    "Hệ thống phát hiện 2 địa chỉ IP nhiễm mã độc thuộc phạm vi quản lý của đơn vị.\n"
    "Đề nghị rà soát, xử lý và báo cáo kết quả trước ngày 15/12/2026.\n"
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ATTACHMENT_NAME = "Danh sách IP nhiễm mã độc — Sở Y tế.xlsx"


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


def outbox_settings(tmp_path: Path, **values: Any) -> Settings:
    return load_settings(
        **{
            "data_dir": tmp_path / "data",
            "mail_from": SENDER,
            "outbox_timeout_seconds": 5,
            **values,
        }
    )


@pytest.fixture
def settings(tmp_path: Path, smtp: MailServer) -> Settings:
    return outbox_settings(tmp_path, **smtp.settings_values())


def botnet_workbook() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["Địa chỉ IP", "Đơn vị", "Mã độc"])
    sheet.append(["171.244.10.21", "Sở Y tế", "Mirai"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def queue(database: Database, key: str, recipients: list[str], **extra: Any) -> int:
    with database.session() as session:
        fields: dict[str, Any] = {"subject": SUBJECT, "text": BODY, **extra}
        return enqueue_email(session, key=key, recipients=recipients, **fields).id


def stored(database: Database, message_id_: int) -> OutboxMessage:
    with database.session() as session:
        found = session.get(OutboxMessage, message_id_)
        assert found is not None
        return found


def count(database: Database, model: type[Any]) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_rolled_back_cause_queues_nothing(database: Database) -> None:
    with pytest.raises(RuntimeError), database.session() as session:
        session.add(Organisation(name="Sở Y tế", short_name="SYT", kind_code="department"))
        enqueue_email(
            session,
            key="notice:1",
            recipients=["syt@sonlam.gov.vn"],
            subject=SUBJECT,
            text=BODY,
            attachments=[Attachment(ATTACHMENT_NAME, XLSX, botnet_workbook())],
        )
        raise RuntimeError("the notice could not be stored")
    assert count(database, OutboxMessage) == 0
    assert count(database, OutboxAttachment) == 0


def test_the_same_key_twice_is_one_message(database: Database) -> None:
    first = queue(database, "notice:7", ["syt@sonlam.gov.vn"])
    again = queue(database, "notice:7", ["other@sonlam.gov.vn"], subject="Khác")
    assert again == first and count(database, OutboxMessage) == 1
    message = stored(database, first)
    assert message.subject == SUBJECT and message.recipients == ["syt@sonlam.gov.vn"]


def test_bad_input_names_the_field(database: Database) -> None:
    with pytest.raises(InvalidMessage, match="recipient: 'không phải địa chỉ'"):
        queue(database, "notice:8", ["không phải địa chỉ"])
    with pytest.raises(InvalidMessage, match="idempotency key"):
        queue(database, "", ["syt@sonlam.gov.vn"])
    assert count(database, OutboxMessage) == 0


def test_mail_arrives_with_recipients_prefix_vietnamese_text_and_attachment(
    database: Database, smtp: MailServer, settings: Settings
) -> None:
    recipients = ["lan.nguyen@syt.sonlam.gov.vn", "antt@syt.sonlam.gov.vn"]
    sent_id = queue(
        database,
        "notice:12",
        recipients,
        html="<p>Kính gửi <b>Sở Y tế</b></p>",
        attachments=[Attachment(ATTACHMENT_NAME, XLSX, botnet_workbook())],
        cause=("notice", 12),
    )
    report = deliver_due(database, settings)
    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)

    [received] = smtp.received
    assert received.mail_from == SENDER and received.recipients == recipients
    mail = received.message
    assert mail["Subject"] == f"[TBSC] {SUBJECT}"
    assert mail["To"] == ", ".join(recipients)
    assert mail["Message-ID"].strip() == message_id("notice:12", SENDER)
    plain, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n") == BODY
    assert "Kính gửi <b>Sở Y tế</b>" in html.get_content()
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_filename() == ATTACHMENT_NAME
    assert attachment.get_content_type() == XLSX
    sheet = load_workbook(io.BytesIO(attachment.get_content())).active
    assert [cell.value for cell in sheet[2]] == ["171.244.10.21", "Sở Y tế", "Mirai"]

    message = stored(database, sent_id)
    assert (message.status, message.attempts, message.last_error) == ("sent", 1, None)
    assert message.sent_at is not None and message.cause == ("notice", "12")
    assert deliver_due(database, settings).outcomes == []
    assert len(smtp.received) == 1


def test_the_subject_prefix_is_configurable(
    database: Database, smtp: MailServer, tmp_path: Path
) -> None:
    queue(database, "notice:13", ["syt@sonlam.gov.vn"])
    queue(database, "notice:14", ["syt@sonlam.gov.vn"], subject="[STTTT] Đã có tiền tố")
    deliver_due(
        database,
        outbox_settings(tmp_path, mail_subject_prefix="[STTTT]", **smtp.settings_values()),
    )
    assert sorted(mail.message["Subject"] for mail in smtp.received) == [
        f"[STTTT] {SUBJECT}",
        "[STTTT] Đã có tiền tố",
    ]


def test_an_organisation_without_e_mail_is_held_until_released(
    database: Database, smtp: MailServer, settings: Settings
) -> None:
    with database.session() as session:
        organisation = Organisation(name="UBND xã Tân Lập", kind_code="district")
        organisation.contacts.append(Contact(name="Văn phòng", phones=["0212 3852 123"]))
        session.add(organisation)
        session.flush()
        addresses = [contact.email for contact in organisation.contacts if contact.email]
        held_id = enqueue_email(
            session,
            key="notice:20",
            recipients=addresses,
            subject=SUBJECT,
            text=BODY,
            organisation_id=organisation.id,
        ).id
    message = stored(database, held_id)
    assert (message.status, message.last_error) == ("held", "no e-mail address")
    assert deliver_due(database, settings).outcomes == [] and smtp.received == []

    with database.session() as session, pytest.raises(InvalidMessage, match="at least one"):
        release(session, held_id, [])
    with database.session() as session, pytest.raises(OutboxStateError, match="only a failed"):
        retry(session, held_id)
    with database.session() as session:
        release(session, held_id, ["vanphong@tanlap.sonlam.gov.vn"])
    assert deliver_due(database, settings).sent == 1
    assert [mail.recipients for mail in smtp.received] == [["vanphong@tanlap.sonlam.gov.vn"]]
    assert stored(database, held_id).last_error is None


def test_a_temporary_refusal_is_retried_and_visible_then_sent(
    database: Database, smtp: MailServer, settings: Settings
) -> None:
    smtp.refuse_data("451 4.3.0 Mailbox busy, try again later")
    retried = queue(database, "notice:30", ["syt@sonlam.gov.vn"])
    start = utc_now()
    assert deliver_due(database, settings, now=start).retrying == 1
    message = stored(database, retried)
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error is not None and "451 4.3.0 Mailbox busy" in message.last_error
    assert message.next_attempt_at == start + timedelta(minutes=1)
    assert deliver_due(database, settings, now=start + timedelta(seconds=30)).outcomes == []

    assert deliver_due(database, settings, now=start + timedelta(minutes=2)).sent == 1
    assert len(smtp.received) == 1
    message = stored(database, retried)
    assert (message.status, message.attempts, message.last_error) == ("sent", 2, None)


def test_a_permanent_refusal_fails_at_once_with_the_servers_words(
    database: Database, smtp: MailServer, settings: Settings
) -> None:
    smtp.refuse_recipient("khongco@syt.sonlam.gov.vn", "550 5.1.1 User unknown")
    refused = queue(database, "notice:40", ["khongco@syt.sonlam.gov.vn"])
    partly = queue(
        database, "notice:41", ["khongco@syt.sonlam.gov.vn", "lan.nguyen@syt.sonlam.gov.vn"]
    )
    smtp_data = queue(database, "notice:42", ["lan.nguyen@syt.sonlam.gov.vn"])
    report = deliver_due(database, settings, limit=2)
    assert (report.sent, report.failed) == (1, 1)
    smtp.refuse_data("554 5.6.0 Message content rejected")
    assert deliver_due(database, settings).failed == 1

    message = stored(database, refused)
    assert (message.status, message.attempts) == ("failed", 1)
    assert message.last_error is not None
    assert "khongco@syt.sonlam.gov.vn: 550 5.1.1 User unknown" in message.last_error
    message = stored(database, partly)
    assert message.status == "sent" and message.last_error is not None
    assert "refused: khongco@syt.sonlam.gov.vn: 550 5.1.1 User unknown" in message.last_error
    assert "554 5.6.0 Message content rejected" in (stored(database, smtp_data).last_error or "")
    assert [mail.recipients for mail in smtp.received] == [["lan.nguyen@syt.sonlam.gov.vn"]]

    with database.session() as session:
        retry(session, refused)
    smtp.refused_recipients.clear()
    assert deliver_due(database, settings).sent == 1


@pytest.mark.parametrize("listening", [False, True], ids=["refused", "silent"])
def test_an_unreachable_server_keeps_the_message_pending(
    database: Database, tmp_path: Path, listening: bool
) -> None:
    queued = queue(database, "notice:50", ["syt@sonlam.gov.vn"])
    with silent_server(accept=listening) as port:
        settings = outbox_settings(
            tmp_path,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            outbox_timeout_seconds=0.5,
            outbox_max_attempts=2,
        )
        start = utc_now()
        assert deliver_due(database, settings, now=start).retrying == 1
        message = stored(database, queued)
        assert message.status == "pending" and message.next_attempt_at > start
        expected = "did not answer within 0.5 s" if listening else "refused the connection"
        assert message.last_error is not None and expected in message.last_error

        assert deliver_due(database, settings, now=start + timedelta(minutes=2)).failed == 1
    message = stored(database, queued)
    assert message.status == "failed" and message.attempts == 2
    assert message.last_error is not None and message.last_error.startswith(
        "gave up after 2 attempts: "
    )


def test_without_an_smtp_host_e_mails_wait(database: Database, tmp_path: Path) -> None:
    waiting = queue(database, "notice:60", ["syt@sonlam.gov.vn"])
    report = deliver_due(database, outbox_settings(tmp_path))
    assert report.email_off and report.outcomes == []
    assert stored(database, waiting).status == "pending"


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_and_sign_in(database: Database, tmp_path: Path, security: str) -> None:
    users = {"canhbao": "mật-khẩu-dài"}
    with MailServer(security=security, users=users, certificates=tmp_path) as smtp:  # type: ignore[arg-type]
        queue(database, "notice:70", ["syt@sonlam.gov.vn"])
        settings = outbox_settings(tmp_path, **smtp.settings_values())
        assert deliver_due(database, settings).sent == 1
        assert len(smtp.received) == 1

        wrong = outbox_settings(tmp_path, **{**smtp.settings_values(), "smtp_password": "sai"})
        kept = queue(database, "notice:71", ["syt@sonlam.gov.vn"])
        assert deliver_due(database, wrong).retrying == 1
        assert "refused the sign-in of 'canhbao'" in (stored(database, kept).last_error or "")

        untrusted = outbox_settings(tmp_path, **{**smtp.settings_values(), "smtp_ca_file": None})
        assert deliver_due(database, untrusted, now=utc_now() + timedelta(minutes=2)).retrying == 1
        assert "TLS with 127.0.0.1" in (stored(database, kept).last_error or "")
        assert len(smtp.received) == 1


def _sender_environment(smtp: MailServer, tmp_path: Path) -> dict[str, str]:
    values = {
        f"GARRISON_{name.upper()}": str(value)
        for name, value in smtp.settings_values().items()
        if value is not None
    }
    return {
        **os.environ,
        **values,
        "GARRISON_MAIL_FROM": SENDER,
        "GARRISON_DATA_DIR": str(tmp_path / "data"),
    }


def _wait_for(condition: Any, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.05)


def test_a_sender_killed_mid_batch_delivers_every_mail_exactly_once(
    database: Database, database_url: str, smtp: MailServer, settings: Settings, tmp_path: Path
) -> None:
    keys = [f"notice:{n}" for n in range(100, 106)]
    for key in keys:
        queue(database, key, [f"{key.replace(':', '-')}@syt.sonlam.gov.vn"])
    smtp.hold_after(3)  # the fourth mail is kept waiting at MAIL FROM: the sender dies there
    sender = subprocess.Popen(
        [sys.executable, "-m", "garrison", "--database-url", database_url, "outbox", "send"],
        env=_sender_environment(smtp, tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def fourth_is_being_sent() -> bool:
            """Three mails sent and recorded, the fourth claimed and waiting at MAIL FROM."""
            assert sender.poll() is None, "the sender ended before it could be killed"
            with database.session() as session:
                states = session.scalars(select(OutboxMessage.status)).all()
            return states.count("sent") == 3 and states.count("sending") == 1

        _wait_for(fourth_is_being_sent, "the sender to reach the fourth mail")
    finally:
        sender.kill()
        sender.wait(10)
    smtp.hold_after(None)

    report = deliver_due(database, settings)  # restarted at once: the claimed mail waits
    assert report.sent == 2 and len(smtp.received) == 5
    report = deliver_due(database, settings, now=utc_now() + CLAIM_LEASE + timedelta(minutes=1))
    assert report.sent == 1

    delivered = sorted(mail.message["X-Garrison-Delivery"] for mail in smtp.received)
    assert delivered == keys
    with database.session() as session:
        statuses = session.scalars(select(OutboxMessage.status)).all()
    assert statuses == ["sent"] * 6
    assert deliver_due(database, settings, now=utc_now() + timedelta(days=1)).outcomes == []
    assert len(smtp.received) == 6


def test_command_line_lists_retries_and_releases(
    database: Database, database_url: str, smtp: MailServer, tmp_path: Path
) -> None:
    held = queue(database, "notice:80", [])
    smtp.refuse_recipient("khongco@syt.sonlam.gov.vn", "550 5.1.1 User unknown")
    failed = queue(database, "notice:81", ["khongco@syt.sonlam.gov.vn"])
    runner = CliRunner()
    environment = _sender_environment(smtp, tmp_path)

    def garrison(*args: str) -> str:
        result = runner.invoke(app, ["--database-url", database_url, *args], env=environment)
        assert result.exit_code == 0, result.output
        return result.output

    assert '"failed": 1' in garrison("outbox", "send", "--json")
    listed = garrison("outbox", "list", "--status", "held", "--json")
    assert '"status": "held"' in listed and "no e-mail address" in listed
    assert '"status": "failed"' not in listed
    garrison("outbox", "release", str(held), "--to", "syt@sonlam.gov.vn")
    smtp.refused_recipients.clear()
    garrison("outbox", "retry", str(failed))
    assert '"sent": 2' in garrison("outbox", "send", "--json")
    assert sorted(r for mail in smtp.received for r in mail.recipients) == [
        "khongco@syt.sonlam.gov.vn",
        "syt@sonlam.gov.vn",
    ]
    bad = runner.invoke(app, ["--database-url", database_url, "outbox", "list", "--status", "x"])
    assert bad.exit_code == 2


class SenderKilled(BaseException):
    """Stands for the process dying: nothing in the sender catches it."""


class DyingAfterAcceptance(SmtpChannel):
    """Sends for real, then 'dies' before the sender can record the mail as sent."""

    def send(self, message: OutboxMessage) -> str | None:
        super().send(message)
        raise SenderKilled


def test_a_crash_after_acceptance_repeats_one_mail_with_the_same_message_id(
    database: Database, smtp: MailServer, settings: Settings
) -> None:
    """The one window no outbox closes, as the sender documents it: the repeat is
    recognisable, carrying the Message-ID of the first delivery."""
    queue(database, "notice:90", ["syt@sonlam.gov.vn"])
    with pytest.raises(SenderKilled), DyingAfterAcceptance(settings) as dying:
        deliver_due(database, settings, channels={"email": dying})
    assert deliver_due(database, settings, now=utc_now() + CLAIM_LEASE / 2).outcomes == []
    later = utc_now() + CLAIM_LEASE + timedelta(minutes=1)
    assert deliver_due(database, settings, now=later).sent == 1
    first, repeat = (mail.message["Message-ID"] for mail in smtp.received)
    assert first == repeat == message_id("notice:90", SENDER)
