"""Registering webhooks (plain functions), and the webhook channel of the outbox."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from app.errors import NotFound, ValidationError
from app.extensions import db
from app.jobs import wake
from app.models import Merchant, OutboxEvent, Webhook, WebhookDelivery
from app.models.base import utcnow
from app.webhooks.delivery import literal_host_blocked
from app.webhooks.schemas import EVENTS as EVENTS  # re-exported: callers know it from here
from app.webhooks.schemas import WebhookCreate, WebhookUpdate

SWEEP = "webhooks"


def _public(hook: WebhookUpdate) -> None:
    """Refuse a URL to localhost or a loopback/private/reserved IP address unless
    WEBHOOK_ALLOW_PRIVATE (names are resolved and checked again when sending)."""
    if "url" not in hook.model_fields_set or current_app.config["SETTINGS"].WEBHOOK_ALLOW_PRIVATE:
        return
    if literal_host_blocked(urlsplit(hook.url).hostname or ""):
        message = ("'url' must not point at localhost or a loopback, private, link-local or "
                   "reserved address.")
        raise ValidationError(message, details={"fields": [{"field": "url",
                                                            "message": message}]})


def create_webhook(merchant: Merchant, request: WebhookCreate) -> Webhook:
    """Register a URL for events; its signing secret is generated here."""
    _public(request)
    hook = Webhook(merchant_id=merchant.id, secret="whsec_" + secrets.token_hex(24),
                   **request.given())
    db.session.add(hook)
    db.session.flush()
    return hook


def get_webhook(merchant: Merchant, webhook_id: int) -> Webhook:
    """The merchant's webhook, or NotFound."""
    hook = db.session.scalar(select(Webhook).where(Webhook.id == webhook_id,
                                                   Webhook.merchant_id == merchant.id))
    if hook is None:
        raise NotFound(f"Webhook {webhook_id} not found.")
    return hook


def update_webhook(hook: Webhook, changes: WebhookUpdate) -> Webhook:
    """Change a webhook's URL, events or active flag."""
    _public(changes)
    for key, value in changes.given().items():
        setattr(hook, key, value)
    db.session.flush()
    return hook


def delete_webhook(hook: Webhook) -> None:
    """Remove a webhook and its pending deliveries."""
    db.session.delete(hook)
    db.session.flush()


def list_webhooks(merchant: Merchant) -> list[Webhook]:
    """The merchant's webhooks."""
    return list(db.session.scalars(
        select(Webhook).where(Webhook.merchant_id == merchant.id).order_by(Webhook.id)))


def list_deliveries(hook: Webhook, limit: int = 50) -> list[WebhookDelivery]:
    """A webhook's latest deliveries, newest first."""
    return list(db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
        .order_by(WebhookDelivery.id.desc()).limit(limit)))


def resend_delivery(hook: Webhook, delivery_id: int) -> WebhookDelivery:
    """Send one of the webhook's deliveries again, now (a fresh set of attempts)."""
    row = db.session.scalar(select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.webhook_id == hook.id))
    if row is None:
        raise NotFound(f"Delivery {delivery_id} not found.")
    row.state, row.attempts, row.next_attempt_at = "pending", 0, utcnow()
    wake(db.session(), SWEEP)
    db.session.flush()
    return row


class WebhookChannel:
    """The outbox channel of webhooks: one delivery per event and subscribed endpoint."""

    name = "webhooks"

    def fan_out(self, events: Sequence[OutboxEvent]) -> int:
        """Queue a delivery of each event to every active webhook of its merchant that is
        subscribed to it and was registered by the time it happened."""
        merchants = {e.merchant_id for e in events}
        hooks = db.session.scalars(select(Webhook).where(Webhook.merchant_id.in_(merchants),
                                                         Webhook.active.is_(True))
                                   .order_by(Webhook.id)).all()
        now = utcnow()
        count = 0
        for event in events:
            for hook in hooks:
                if (hook.merchant_id != event.merchant_id or event.event_type not in hook.events
                        or hook.created_at > event.created_at):
                    continue
                payload = {"id": uuid.uuid4().hex, "event": event.event_type,
                           "created_at": event.created_at.isoformat(), "data": event.payload}
                db.session.add(WebhookDelivery(webhook_id=hook.id, event=event.event_type,
                                               payload=payload, next_attempt_at=now))
                count += 1
        if count:
            wake(db.session(), SWEEP)
        return count
