"""Outgoing messages: the outbox, its channels (e-mail over SMTP, signed webhooks) and the
sender that delivers them once."""
