"""Webhooks: the message's payload POSTed as JSON, signed with the webhook's secret.

Headers: `X-Garrison-Delivery` carries the idempotency key (the same at every attempt, so
the receiver can drop a repeat) and `X-Garrison-Signature: sha256=<hex>` the HMAC-SHA256 of
the exact body bytes under the secret. Any 2xx answer is a delivery; 408, 425, 429 and 5xx
answers and network failures are tried again; other answers (a redirect included: the
webhook should be given its final URL) refuse the message for good.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

from garrison import __version__
from garrison.core.settings import Settings
from garrison.notify.channels.interface import DeliveryError, MessageChannel
from garrison.notify.models import OutboxMessage

SIGNATURE_HEADER = "X-Garrison-Signature"
DELIVERY_HEADER = "X-Garrison-Delivery"
RETRIED_STATUSES = frozenset({408, 425, 429})
MAX_REPLY_CHARS = 300


def webhook_body(payload: Any) -> bytes:
    """The payload as compact UTF-8 JSON, keys sorted: the same bytes at every attempt."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


def signature(secret: str, body: bytes) -> str:
    """The value of X-Garrison-Signature for `body`, as the receiver recomputes it."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class WebhookChannel(MessageChannel):
    def __init__(self, settings: Settings) -> None:
        self.timeout = settings.outbox_timeout_seconds
        self._client = httpx.Client(
            timeout=self.timeout,
            follow_redirects=False,
            headers={"User-Agent": f"Garrison/{__version__}"},
        )

    def send(self, message: OutboxMessage) -> str | None:
        url = message.webhook_url or ""
        body = webhook_body(message.webhook_payload)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            DELIVERY_HEADER: message.idempotency_key,
        }
        if message.webhook_secret:
            headers[SIGNATURE_HEADER] = signature(message.webhook_secret, body)
        try:
            response = self._client.post(url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise DeliveryError(
                f"{url} did not answer within {self.timeout:g} s", permanent=False
            ) from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"cannot reach {url}: {exc}", permanent=False) from exc
        if response.is_success:
            return None
        reply = " ".join(response.text.split())[:MAX_REPLY_CHARS]
        answer = f"{url} answered {response.status_code} {response.reason_phrase}"
        if response.is_redirect:
            raise DeliveryError(
                f"{answer}, redirecting to {response.headers.get('location', '?')}: "
                "give the webhook its final URL",
                permanent=True,
            )
        retried = response.status_code in RETRIED_STATUSES or response.status_code >= 500
        raise DeliveryError(f"{answer}: {reply}" if reply else answer, permanent=not retried)

    def close(self) -> None:
        self._client.close()
