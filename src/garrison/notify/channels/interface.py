"""What a delivery channel is: something that sends one outbox message, or says why not.

One module per channel sits beside this one (`smtp.py`, `webhook.py`). A channel does not
touch the database: the sender claims a message, hands it over, and records the outcome.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from garrison.core.errors import GarrisonError
from garrison.notify.models import OutboxMessage


class DeliveryError(GarrisonError):
    """A message was not delivered. `permanent`: trying the same message again cannot help
    (a refused recipient, a rejected body); otherwise it is retried after a pause."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class MessageChannel(ABC):
    """Sends messages of one channel; may keep a connection open between them."""

    @abstractmethod
    def send(self, message: OutboxMessage) -> str | None:
        """Deliver `message`; returns a note worth keeping (such as recipients a server
        refused while accepting the others), or None. Raises DeliveryError."""

    def close(self) -> None:  # noqa: B027 — most channels hold nothing to close
        """Release whatever the channel keeps between messages."""

    def __enter__(self) -> MessageChannel:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
