"""Webhook routes: register URLs for events and see their deliveries."""

from __future__ import annotations

from typing import Any

from flask import g

from app.api import bp
from app.api.contract import operation
from app.api.idempotency import Answer, write
from app.api.schemas import Deleted
from app.models import Webhook, WebhookDelivery
from app.webhooks import operations as ops
from app.webhooks import schemas as s


def webhook_json(hook: Webhook, with_secret: bool = False) -> dict[str, Any]:
    """A webhook as JSON; the signing secret only when it is created."""
    out: dict[str, Any] = {"id": hook.id, "url": hook.url, "events": hook.events,
                           "active": hook.active, "created_at": hook.created_at.isoformat()}
    if with_secret:
        out["secret"] = hook.secret
    return out


def delivery_json(d: WebhookDelivery) -> dict[str, Any]:
    """A delivery's state as JSON."""
    return {"id": d.id, "event": d.event, "state": d.state, "attempts": d.attempts,
            "last_status": d.last_status, "last_error": d.last_error,
            "next_attempt_at": d.next_attempt_at.isoformat(),
            "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
            "payload": d.payload}


@bp.get("/webhooks")
@operation("List webhooks", response=s.WebhookList)
def list_webhooks():  # type: ignore[no-untyped-def]
    """List the merchant's webhooks."""
    return {"webhooks": [webhook_json(h) for h in ops.list_webhooks(g.merchant)]}


@bp.post("/webhooks")
@write
@operation("Register a webhook", body=s.WebhookCreate, response=s.Webhook, status=201)
def create_webhook(body: s.WebhookCreate) -> Answer:
    """Register a URL for events; the answer carries the signing secret (shown once)."""
    return webhook_json(ops.create_webhook(g.merchant, body), with_secret=True), 201


@bp.get("/webhooks/<int:webhook_id>")
@operation("Show a webhook", response=s.Webhook)
def show_webhook(webhook_id: int):  # type: ignore[no-untyped-def]
    """Show a webhook."""
    return webhook_json(ops.get_webhook(g.merchant, webhook_id))


@bp.patch("/webhooks/<int:webhook_id>")
@write
@operation("Change a webhook", body=s.WebhookUpdate, response=s.Webhook)
def update_webhook(webhook_id: int, body: s.WebhookUpdate) -> Answer:
    """Change a webhook's URL, events or active flag."""
    hook = ops.update_webhook(ops.get_webhook(g.merchant, webhook_id), body)
    return webhook_json(hook), 200


@bp.delete("/webhooks/<int:webhook_id>")
@write
@operation("Remove a webhook", response=Deleted)
def delete_webhook(webhook_id: int) -> Answer:
    """Remove a webhook."""
    ops.delete_webhook(ops.get_webhook(g.merchant, webhook_id))
    return {"id": webhook_id, "deleted": True}, 200


@bp.get("/webhooks/<int:webhook_id>/deliveries")
@operation("Latest deliveries of a webhook", response=s.DeliveryList)
def list_deliveries(webhook_id: int):  # type: ignore[no-untyped-def]
    """A webhook's latest 50 deliveries, newest first."""
    hook = ops.get_webhook(g.merchant, webhook_id)
    return {"deliveries": [delivery_json(d) for d in ops.list_deliveries(hook)]}
