"""Registering webhooks (plain functions), and the webhook channel of the outbox."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from app import validation as v
from app.errors import NotFound, ValidationError
from app.extensions import db
from app.jobs import wake
from app.models import Merchant, OutboxEvent, Webhook, WebhookDelivery
from app.models.base import utcnow
from app.webhooks.delivery import literal_host_blocked

EVENTS = ("member.enrolled", "points.changed", "tier.changed", "reward.redeemed")
SWEEP = "webhooks"


def _url(name: str, value: Any) -> str:
    """An http(s) URL; not to localhost or a loopback/private/reserved IP address unless
    WEBHOOK_ALLOW_PRIVATE (names are resolved and checked again when sending)."""
    value = v.text(2000)(name, value)
    try:
        parts = urlsplit(value)
        scheme, host, _port = parts.scheme, parts.hostname, parts.port  # .port raises if bad
    except ValueError:
        scheme, host = "", None
    if scheme not in ("http", "https") or not host:
        raise ValidationError(f"'{name}' must be an http:// or https:// URL.")
    if not current_app.config["SETTINGS"].WEBHOOK_ALLOW_PRIVATE and literal_host_blocked(host):
        raise ValidationError(f"'{name}' must not point at localhost or a loopback, private, "
                              "link-local or reserved address.")
    return value


def _events(name: str, value: Any) -> list[str]:
    """A non-empty list of known event names."""
    if not isinstance(value, list) or not value or any(e not in EVENTS for e in value):
        raise ValidationError(f"'{name}' must be a non-empty list of: {', '.join(EVENTS)}.")
    return sorted(set(value))


def _flag(name: str, value: Any) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise ValidationError(f"'{name}' must be true or false.")
    return value


RULES: dict[str, v.Validator] = {"url": _url, "events": _events, "active": _flag}


def create_webhook(merchant: Merchant, body: dict[str, Any]) -> Webhook:
    """Register a URL for events; its signing secret is generated here."""
    data = v.validate(body, RULES, required=("url", "events"))
    hook = Webhook(merchant_id=merchant.id, secret="whsec_" + secrets.token_hex(24), **data)
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


def update_webhook(hook: Webhook, body: dict[str, Any]) -> Webhook:
    """Change a webhook's URL, events or active flag."""
    for key, value in v.validate(body, RULES).items():
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
