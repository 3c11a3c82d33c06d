"""Handing notices to the outbox: one e-mail per notice and language, letter and rows attached.

Each contact reads its own language, so an organisation whose contacts differ gets one
e-mail per language (the notice's own language under the key `notice:<id>`, any other under
`notice:<id>:<language>`). An organisation without any e-mail contact still gets its message,
held in the outbox as undeliverable until someone gives it an address; the notice is then
marked `held`. Keys make queueing idempotent: queueing again sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from garrison.attribution.documents import (
    DOCX_TYPE,
    XLSX_TYPE,
    LetterHead,
    attachment_names,
    notice_email,
    notice_letter,
    notice_workbook,
)
from garrison.attribution.models import Notice
from garrison.notify.mail import Attachment
from garrison.notify.models import OutboxMessage, Status
from garrison.notify.outbox import enqueue_email
from garrison.orgs.models import Contact


def _recipients_by_language(session: Session, notice: Notice) -> dict[str, list[str]]:
    contacts = session.execute(
        select(Contact.email, Contact.language)
        .where(Contact.organisation_id == notice.organisation_id, Contact.email.is_not(None))
        .order_by(Contact.id)
    ).all()
    grouped: dict[str, list[str]] = {}
    for email, language in contacts:
        if email and email.strip():
            grouped.setdefault(language if language in ("vi", "en") else "vi", []).append(email)
    return grouped or {notice.language: []}


def queue_notice(
    session: Session, notice: Notice, head: LetterHead, *, data_dir: Path | None = None
) -> list[OutboxMessage]:
    messages = []
    workbook_name, letter_name = attachment_names(notice)
    for language, recipients in sorted(_recipients_by_language(session, notice).items()):
        mail = notice_email(notice, language, head, data_dir=data_dir)
        key = (
            f"notice:{notice.id}"
            if language == notice.language
            else f"notice:{notice.id}:{language}"
        )
        attachments = (
            Attachment(workbook_name, XLSX_TYPE, notice_workbook(notice, language)),
            Attachment(
                letter_name, DOCX_TYPE, notice_letter(notice, language, head, data_dir=data_dir)
            ),
        )
        messages.append(
            enqueue_email(
                session,
                key=key,
                recipients=recipients,
                subject=mail.subject,
                text=mail.text,
                html=mail.html,
                attachments=attachments,
                cause=("notice", notice.id),
                organisation_id=notice.organisation_id,
            )
        )
    held = all(message.status == Status.HELD.value for message in messages)
    notice.status = "held" if held else "queued"
    return messages


def queue_notices(
    session: Session,
    notices: Iterable[Notice],
    head: LetterHead,
    *,
    data_dir: Path | None = None,
) -> list[OutboxMessage]:
    """Queue every draft (or held) notice; notices already queued or sent are left alone."""
    messages: list[OutboxMessage] = []
    for notice in notices:
        if notice.status in ("draft", "held"):
            messages.extend(queue_notice(session, notice, head, data_dir=data_dir))
    session.flush()
    return messages
