"""Composing e-mail never fails on any Unicode subject, body or file name, and what a mail
reader parses back is what was meant: the prefixed subject, the body, the attachments."""

from __future__ import annotations

import email
from email.message import EmailMessage
from email.policy import default

from hypothesis import given, settings
from hypothesis import strategies as st

from garrison.notify.mail import (
    Attachment,
    Email,
    body_text,
    compose,
    message_id,
    prefixed_subject,
    safe_filename,
)

SENDER = "canhbao@stttt.sonlam.gov.vn"
VIETNAMESE = st.sampled_from(
    ["Cảnh báo", "IP nhiễm mã độc", "—", "Sở Y tế", "đ", "Ư", "ỹ", "\r\n", "\r", "\t", " "]
)
TRICKY = st.sampled_from(["=?utf-8?q?x?=", "=?", "?=", "\x00", "\x0b", "\u2028", "\ufeff", ";"])
TEXT = st.lists(st.one_of(st.text(), VIETNAMESE, TRICKY), max_size=12).map("".join)
MEDIA_TYPES = st.one_of(
    st.sampled_from(
        [
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/pdf",
            "text/csv",
            "image/png",
            "",
            "nonsense",
            "text/plain\r\nX-Injected: yes",
        ]
    ),
    st.text(max_size=40),
)
ATTACHMENTS = st.lists(
    st.builds(Attachment, filename=TEXT, media_type=MEDIA_TYPES, content=st.binary(max_size=300)),
    max_size=3,
)


def _parsed(message: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(message.as_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").rstrip("\n")


@settings(max_examples=300, deadline=None)
@given(
    key=st.text(min_size=1, max_size=200),
    subject=TEXT,
    prefix=st.one_of(st.just("[TBSC]"), TEXT),
    text=TEXT,
    html=st.one_of(st.none(), TEXT),
    attachments=ATTACHMENTS,
)
def test_any_mail_composes_and_round_trips(
    key: str,
    subject: str,
    prefix: str,
    text: str,
    html: str | None,
    attachments: list[Attachment],
) -> None:
    mail = Email(
        key=key,
        sender=SENDER,
        recipients=("lan.nguyen@syt.sonlam.gov.vn", "antt@syt.sonlam.gov.vn"),
        subject=subject,
        text=text,
        html=html,
        attachments=tuple(attachments),
    )
    parsed = _parsed(compose(mail, prefix))

    assert parsed["Subject"] == prefixed_subject(subject, prefix)
    assert parsed["Message-ID"].strip() == message_id(key, SENDER)
    assert parsed["To"] == "lan.nguyen@syt.sonlam.gov.vn, antt@syt.sonlam.gov.vn"
    assert "X-Injected" not in parsed
    plain = parsed.get_body(("plain",))
    assert plain is not None and _lines(plain.get_content()) == _lines(body_text(text))
    if html is not None:
        shown = parsed.get_body(("html",))
        assert shown is not None and _lines(shown.get_content()) == _lines(body_text(html))
    found = list(parsed.iter_attachments())
    assert [part.get_filename() for part in found] == [
        safe_filename(item.filename) for item in attachments
    ]
    contents = [part.get_payload(decode=True) for part in found]
    assert contents == [item.content for item in attachments]
