"""Delivery channels of the outbox, one module each, behind `interface.MessageChannel`."""
