"""The outbox page: every outgoing e-mail and webhook call with its status, attempts and last
error; held and failed messages counted at the top, and put right from here.

Coordinator staff read it (VIEW_OUTBOX); administrators and analysts retry a failed message
or give a held one its address (MANAGE_OUTBOX). Members never reach it: they lack the
permission, and their tenant session finds no outbox row anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from garrison.auth.roles import Permission
from garrison.notify.models import Channel, OutboxMessage, Status
from garrison.notify.outbox import release, retry
from garrison.notify.queries import (
    OutboxFilter,
    count_outbox_messages,
    outbox_messages,
    status_counts,
)
from garrison.web.api.pagination import MAX_KEY
from garrison.web.i18n import translations
from garrison.web.ui.access import viewer_with
from garrison.web.ui.listing import (
    PAGE_SIZE,
    Listing,
    ListQuery,
    SearchText,
    list_response,
    offset_of,
    shown_time,
)
from garrison.web.viewer import TenantSession, Viewer, app_settings

router = APIRouter()
OutboxReader = Annotated[Viewer, viewer_with(Permission.VIEW_OUTBOX)]
OutboxManager = Annotated[Viewer, viewer_with(Permission.MANAGE_OUTBOX)]
MessageId = Annotated[int, Path(ge=1, le=MAX_KEY)]
STATUS_LABELS = {
    Status.HELD.value: "held",
    Status.FAILED.value: "failed",
    Status.PENDING.value: "waiting",
    Status.SENDING.value: "sending",
    Status.SENT.value: "sent",
}
"""In the order the counts are shown: what needs a person first."""
CHANNEL_LABELS = {Channel.EMAIL.value: "E-mail", Channel.WEBHOOK.value: "Webhook"}
ADDRESS_SEPARATORS = re.compile(r"[\s,;]+")


class OutboxQuery(ListQuery):
    status: Literal["", "pending", "sending", "sent", "failed", "held"] = ""
    channel: Literal["", "email", "webhook"] = ""
    search: SearchText = ""


@dataclass(frozen=True)
class OutboxRow:
    """One message as the page shows it: local times, translated labels, what may be done."""

    id: int
    channel: str
    status: str
    status_label: str
    destination: str
    subject: str
    key: str
    cause: str
    attempts: int
    created_at: str
    next_attempt_at: str
    sent_at: str
    last_error: str
    may_retry: bool
    may_release: bool


def _rows(messages: Iterable[OutboxMessage], viewer: Viewer, zone: ZoneInfo) -> Iterator[OutboxRow]:
    _ = translations(viewer.language).gettext
    may_manage = viewer.principal.may(Permission.MANAGE_OUTBOX)
    for message in messages:
        waiting = message.status == Status.PENDING
        yield OutboxRow(
            id=message.id,
            channel=_(CHANNEL_LABELS.get(message.channel, message.channel)),
            status=message.status,
            status_label=_(STATUS_LABELS.get(message.status, message.status)),
            destination=message.destination,
            subject=message.subject,
            key=message.idempotency_key,
            cause=" #".join(message.cause) if message.cause else "",
            attempts=message.attempts,
            created_at=shown_time(message.created_at, zone),
            next_attempt_at=shown_time(message.next_attempt_at, zone) if waiting else "",
            sent_at=shown_time(message.sent_at, zone),
            last_error=message.last_error or "",
            may_retry=may_manage and message.status == Status.FAILED,
            may_release=may_manage
            and message.channel == Channel.EMAIL
            and message.status in (Status.HELD, Status.FAILED),
        )


@router.get("/outbox")
def outbox_page(
    request: Request,
    viewer: OutboxReader,
    session: TenantSession,
    query: Annotated[OutboxQuery, Query()],
) -> Response:
    settings = app_settings(request)
    wanted = OutboxFilter(
        status=query.status or None, channel=query.channel or None, search=query.search or None
    )
    messages = outbox_messages(session, wanted, offset=offset_of(query.page), limit=PAGE_SIZE)
    listing = Listing(
        list(_rows(messages, viewer, settings.zone)),
        count_outbox_messages(session, wanted),
        query.page,
    )
    context = {
        "query": query,
        "listing": listing,
        "counts": status_counts(session),
        "status_labels": STATUS_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "email_off": not settings.smtp_host,
        "zone": settings.zone.key,
    }
    return list_response(request, viewer, "outbox.html", "partials/outbox_rows.html", context)


@router.post("/outbox/{message_id}/retry")
def outbox_retry(viewer: OutboxManager, session: TenantSession, message_id: MessageId) -> Response:
    """Queue a failed message again with a fresh set of attempts."""
    retry(session, message_id)
    session.commit()
    return RedirectResponse("/outbox?status=pending", status_code=303)


@router.post("/outbox/{message_id}/release")
def outbox_release(
    viewer: OutboxManager,
    session: TenantSession,
    message_id: MessageId,
    to: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Give a held (or failed) e-mail the addresses it lacked — several may be separated by
    commas, semicolons or spaces — and queue it."""
    addresses = [part for part in ADDRESS_SEPARATORS.split(to) if part]
    release(session, message_id, addresses)
    session.commit()
    return RedirectResponse("/outbox?status=pending", status_code=303)
