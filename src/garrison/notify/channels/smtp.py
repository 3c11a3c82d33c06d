"""E-mail over SMTP: plain, STARTTLS or implicit TLS (SSL), optional authentication.

One connection serves a whole batch. Failures are sorted by whose fault they are: while
connecting, securing or signing in, the server or the configuration is at fault and every
message would fail alike, so the message is tried again later; once the server answers
about this message, a 5xx reply refuses it for good and a 4xx reply asks to come back.
"""

from __future__ import annotations

import base64
import smtplib
import ssl

from garrison.core.settings import Settings
from garrison.notify.channels.interface import DeliveryError, MessageChannel
from garrison.notify.mail import Attachment, Email, compose
from garrison.notify.models import OutboxMessage


def _reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return f"{code} {' '.join(text.split())}"


def _sign_in(connection: smtplib.SMTP, user: str, password: str) -> None:
    """AUTH as smtplib does it; credentials beyond ASCII (a Vietnamese password) go as UTF-8
    through AUTH PLAIN (RFC 4616), which smtplib would refuse to encode."""
    if (user + password).isascii():
        connection.login(user, password)
        return
    connection.ehlo_or_helo_if_needed()
    if "plain" not in connection.esmtp_features.get("auth", "").lower().split():
        raise smtplib.SMTPNotSupportedError(
            "a user name or password beyond ASCII needs AUTH PLAIN, which it does not offer"
        )
    token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode("ascii")
    code, reply = connection.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _timed_out(exc: BaseException) -> bool:
    """smtplib reports a silent server as 'Connection unexpectedly closed', the timeout
    being the exception it was handling."""
    return isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)


def _is_permanent(code: int) -> bool:
    return 500 <= code < 600


def as_email(message: OutboxMessage, sender: str) -> Email:
    """The outbox row as the e-mail it stands for."""
    return Email(
        key=message.idempotency_key,
        sender=sender,
        recipients=tuple(message.recipients),
        subject=message.subject,
        text=message.text_body,
        html=message.html_body,
        attachments=tuple(
            Attachment(item.filename, item.media_type, item.content) for item in message.attachments
        ),
    )


class SmtpChannel(MessageChannel):
    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpChannel needs GARRISON_SMTP_HOST")
        self.settings = settings
        self.host = settings.smtp_host
        self._connection: smtplib.SMTP | None = None

    @property
    def server(self) -> str:
        return f"{self.host}:{self.settings.smtp_port}"

    def _tls_context(self) -> ssl.SSLContext:
        cafile = self.settings.smtp_ca_file
        return ssl.create_default_context(cafile=str(cafile) if cafile else None)

    def _connect(self) -> smtplib.SMTP:
        settings, timeout = self.settings, self.settings.outbox_timeout_seconds
        connection: smtplib.SMTP
        if settings.smtp_security == "ssl":
            connection = smtplib.SMTP_SSL(
                self.host, settings.smtp_port, timeout=timeout, context=self._tls_context()
            )
        else:
            connection = smtplib.SMTP(self.host, settings.smtp_port, timeout=timeout)
        try:
            if settings.smtp_security == "starttls":
                connection.starttls(context=self._tls_context())
            if settings.smtp_user:
                _sign_in(connection, settings.smtp_user, settings.smtp_password or "")
        except BaseException:
            connection.close()
            raise
        return connection

    def _open(self) -> smtplib.SMTP:
        """The batch's connection, checked with NOOP, or a new one."""
        if self._connection is not None:
            try:
                self._connection.noop()
                return self._connection
            except (smtplib.SMTPException, OSError):
                self._drop()
        try:
            self._connection = self._connect()
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"{self.server} refused the sign-in of {self.settings.smtp_user!r}: "
                f"{_reply_text(exc.smtp_code, exc.smtp_error)} "
                "(check GARRISON_SMTP_USER and GARRISON_SMTP_PASSWORD)",
                permanent=False,
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(
                f"{self.server} lacks what the settings ask for: {exc} "
                "(check GARRISON_SMTP_SECURITY and GARRISON_SMTP_USER)",
                permanent=False,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"{self.server} turned the connection away: "
                f"{_reply_text(exc.smtp_code, exc.smtp_error)}",
                permanent=False,
            ) from exc
        except ssl.SSLError as exc:
            raise DeliveryError(
                f"TLS with {self.server} failed: {exc} (check GARRISON_SMTP_SECURITY, "
                "GARRISON_SMTP_PORT and GARRISON_SMTP_CA_FILE)",
                permanent=False,
            ) from exc
        except ConnectionRefusedError as exc:
            raise DeliveryError(f"{self.server} refused the connection", permanent=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            if _timed_out(exc):
                raise DeliveryError(
                    f"{self.server} did not answer within "
                    f"{self.settings.outbox_timeout_seconds:g} s",
                    permanent=False,
                ) from exc
            raise DeliveryError(f"cannot reach {self.server}: {exc}", permanent=False) from exc
        return self._connection

    def send(self, message: OutboxMessage) -> str | None:
        mime = compose(
            as_email(message, self.settings.mail_from), self.settings.mail_subject_prefix
        )
        connection = self._open()
        try:
            refused = connection.send_message(
                mime, from_addr=self.settings.mail_from, to_addrs=list(message.recipients)
            )
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _reply in exc.recipients.values()]
            reasons = "; ".join(
                f"{address}: {_reply_text(code, reply)}"
                for address, (code, reply) in exc.recipients.items()
            )
            raise DeliveryError(
                f"{self.server} refused every recipient: {reasons}",
                permanent=all(_is_permanent(code) for code in codes),
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"{self.server} refused the message: {_reply_text(exc.smtp_code, exc.smtp_error)}",
                permanent=_is_permanent(exc.smtp_code),
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"{self.server}: {exc}", permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            if _timed_out(exc):
                raise DeliveryError(
                    f"{self.server} stopped answering while the message was sent "
                    f"(no reply within {self.settings.outbox_timeout_seconds:g} s)",
                    permanent=False,
                ) from exc
            raise DeliveryError(
                f"the connection to {self.server} failed: {exc}", permanent=False
            ) from exc
        if not refused:
            return None
        return "accepted for the others, refused: " + "; ".join(
            f"{address}: {_reply_text(code, reply)}" for address, (code, reply) in refused.items()
        )

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None

    def close(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            self._drop()
