"""Every channel of the outbox, registered in one place (each receives every event)."""

from __future__ import annotations

from app.mail.channel import MailChannel
from app.outbox import register_channel
from app.webhooks.operations import WebhookChannel

register_channel(WebhookChannel())
register_channel(MailChannel())
