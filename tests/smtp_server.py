"""A real SMTP server on loopback (aiosmtpd) whose answers each test programs, for the outbox.

It keeps every message it accepted; it can refuse messages (`refuse_data`) or recipients
(`refuse_recipient`), speak STARTTLS or implicit TLS with a throw-away CA (trustme), ask for
a password, and hold a sender still at MAIL FROM (`hold_after`) so that a test can kill it
there.
"""

from __future__ import annotations

import asyncio
import email
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

LOOPBACK = "127.0.0.1"
Security = Literal["none", "starttls", "ssl"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    mail_from: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        while self.server.held():
            await asyncio.sleep(0.02)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        refusal = self.server.refused_recipients.get(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return self.server.take(envelope)


class MailServer:
    """`with MailServer() as smtp:` … `smtp.received`; `smtp.settings()` points Garrison at it."""

    def __init__(
        self,
        *,
        security: Security = "none",
        users: dict[str, str] | None = None,
        certificates: Path | None = None,
    ) -> None:
        self.security = security
        self.users = users or {}
        self.port = free_port()
        self.received: list[Received] = []
        self.refused_recipients: dict[str, str] = {}
        self.data_replies: list[str] = []
        self.mail_count = 0
        self._hold_after: int | None = None
        self._lock = threading.Lock()
        self.ca_file: Path | None = None
        kwargs: dict[str, Any] = {}
        server_context: ssl.SSLContext | None = None
        if security != "none":
            assert certificates is not None, "a TLS server needs a folder for its CA file"
            server_context = self._certificates(certificates)
        if security == "starttls":
            kwargs.update(tls_context=server_context, require_starttls=True)
        if self.users:
            # under implicit TLS aiosmtpd does not know the session is secured: it is
            kwargs.update(authenticator=self._authenticate, auth_require_tls=security == "starttls")
        self._controller = Controller(
            _Handler(self),
            hostname=LOOPBACK,
            port=self.port,
            ssl_context=server_context if security == "ssl" else None,
            **kwargs,
        )

    def _certificates(self, folder: Path) -> ssl.SSLContext:
        authority = trustme.CA()
        self.ca_file = folder / "smtp-ca.pem"
        authority.cert_pem.write_to_path(str(self.ca_file))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert(LOOPBACK, "localhost").configure_cert(context)
        return context

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            if self.users.get(user) == password:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    # programming the server
    def refuse_data(self, *replies: str) -> None:
        """Answer the next messages' DATA with these replies, one each, then accept again."""
        with self._lock:
            self.data_replies.extend(replies)

    def refuse_recipient(self, address: str, reply: str) -> None:
        self.refused_recipients[address] = reply

    def hold_after(self, count: int | None) -> None:
        """Keep every sender waiting at MAIL FROM once `count` messages were accepted."""
        self._hold_after = count

    def held(self) -> bool:
        return self._hold_after is not None and len(self.received) >= self._hold_after

    def take(self, envelope: Any) -> str:
        with self._lock:
            if self.data_replies:
                return self.data_replies.pop(0)
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
        return "250 Message accepted for delivery"

    def settings_values(self) -> dict[str, Any]:
        """What Garrison's settings need to send here."""
        values: dict[str, Any] = {
            "smtp_host": LOOPBACK,
            "smtp_port": self.port,
            "smtp_security": self.security,
            "smtp_ca_file": self.ca_file,
        }
        if self.users:
            user, password = next(iter(self.users.items()))
            values.update(smtp_user=user, smtp_password=password)
        return values

    def __enter__(self) -> MailServer:
        self._controller.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._hold_after = None
        self._controller.stop()


@contextmanager
def silent_server(*, accept: bool) -> Iterator[int]:
    """A port where nothing answers: a listener that never speaks (`accept`), or no listener
    at all (connections refused)."""
    listener = socket.socket()
    listener.bind((LOOPBACK, 0))
    port = int(listener.getsockname()[1])
    if accept:
        listener.listen(8)
    else:
        listener.close()
    try:
        yield port
    finally:
        listener.close()
