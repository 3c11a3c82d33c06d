"""Composing outgoing e-mail: UTF-8 subject, bodies and attachment names that survive any
mail server, and a Message-ID fixed by the idempotency key.

The Message-ID is the same at every attempt, so a receiving system (or a person's mail
client) can recognise and drop the one repeat that a crash at the wrong moment can cause.
"""

from __future__ import annotations

import email.errors
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP

MAX_FILENAME_CHARS = 200
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]{0,62}/[A-Za-z0-9][\w.+-]{0,126}", re.ASCII)
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


@dataclass(frozen=True)
class Attachment:
    """A file to attach: its name as the recipient sees it, its media type, its bytes."""

    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class Email:
    """Everything an e-mail is made of, before it is turned into MIME."""

    key: str
    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()


def parse_address(text: str) -> Address:
    """A single bare address (`lan@syt.sonlam.gov.vn`); ValueError says what is wrong."""
    candidate = text.strip()
    if not candidate:
        raise ValueError("the address is empty")
    if any(unicodedata.category(ch) in _INVISIBLE or ch.isspace() for ch in candidate):
        raise ValueError(f"{candidate!r} contains spaces or control characters")
    try:
        address = Address(addr_spec=candidate)
    except (ValueError, IndexError, email.errors.MessageError) as exc:
        raise ValueError(f"{candidate!r} is not an e-mail address") from exc
    if not address.username or not address.domain:
        raise ValueError(f"{candidate!r} is not an e-mail address (user@domain)")
    return address


def one_line(text: str) -> str:
    """Header text on one line: line breaks and control characters become single spaces."""
    cleaned = "".join(
        " " if unicodedata.category(ch) in _INVISIBLE or ch.isspace() else ch for ch in text
    )
    return " ".join(cleaned.split())


def prefixed_subject(subject: str, prefix: str) -> str:
    """The subject with the configured prefix ('[TBSC] …'), never twice."""
    subject, prefix = one_line(subject), one_line(prefix)
    if not prefix or subject.startswith(prefix):
        return subject
    return f"{prefix} {subject}".strip()


def body_text(text: str) -> str:
    """A body with its line breaks as mail carries them (any CR, LF or CRLF becomes one)."""
    return _LINE_BREAKS.sub("\n", text)


def safe_filename(name: str) -> str:
    """An attachment name without folders or control characters, short enough for clients,
    and never starting an encoded word ('=?'), which mail readers would decode."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = one_line(base).replace("=?", "=_").strip(". ")
    return cleaned[:MAX_FILENAME_CHARS] or "attachment"


def media_type_parts(media_type: str) -> tuple[str, str]:
    """('application', 'pdf') from 'application/pdf'; anything malformed is octet-stream."""
    if _MEDIA_TYPE.fullmatch(media_type) is None:
        return ("application", "octet-stream")
    maintype, _, subtype = media_type.lower().partition("/")
    return (maintype, subtype)


def message_id(key: str, sender: str) -> str:
    """`<outbox.<sha256 of the key>@<sender's domain>>`: the same key, the same id."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    domain = sender.rpartition("@")[2].strip() or "garrison.invalid"
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        domain = "garrison.invalid"
    return f"<outbox.{digest}@{domain}>"


def _set_text_header(message: EmailMessage, name: str, value: str) -> None:
    """A free-text header; anything beyond ASCII is sent wholly as UTF-8 encoded words.

    The email package's own folding drops a space between encoded words of a long
    Vietnamese subject; the legacy `Header` encoder keeps every character inside the words.
    Text that itself looks like an encoded word ('=?utf-8?q?…?=') would be decoded by every
    reader, so it is encoded too (RFC 2047 §5)."""
    if value.isascii() and "=?" not in value:
        message[name] = value
        return
    encoded = Header(value, "utf-8", header_name=name).encode(linesep=SMTP.linesep)
    message.set_raw(name, encoded)


def compose(mail: Email, subject_prefix: str) -> EmailMessage:
    """The MIME message: text (and HTML) alternatives, then the attachments.

    Text parts are quoted-printable UTF-8, so they pass servers that do not take 8-bit mail.
    """
    message = EmailMessage(policy=SMTP)
    message["From"] = mail.sender
    message["To"] = ", ".join(mail.recipients)
    _set_text_header(message, "Subject", prefixed_subject(mail.subject, subject_prefix))
    message["Message-ID"] = message_id(mail.key, mail.sender)
    _set_text_header(message, "X-Garrison-Delivery", one_line(mail.key))
    message.set_content(body_text(mail.text), charset="utf-8", cte="quoted-printable")
    if mail.html is not None:
        message.add_alternative(
            body_text(mail.html), subtype="html", charset="utf-8", cte="quoted-printable"
        )
    for attachment in mail.attachments:
        maintype, subtype = media_type_parts(attachment.media_type)
        message.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype,
            filename=safe_filename(attachment.filename),
        )
    return message
