"""Webhook routes: register URLs for events and see their deliveries."""

from __future__ import annotations

from typing import Any

from flask import g

from app.api import bp, json_body
from app.api.idempotency import write
from app.api.openapi import errors, id_param, json_content, ok, ref
from app.models import Webhook, WebhookDelivery
from app.webhooks import operations as ops

Answer = tuple[dict[str, Any], int]


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
def list_webhooks():  # type: ignore[no-untyped-def]
    """List the merchant's webhooks."""
    return {"webhooks": [webhook_json(h) for h in ops.list_webhooks(g.merchant)]}


@bp.post("/webhooks")
@write
def create_webhook() -> Answer:
    """Register a URL for events; the answer carries the signing secret (shown once)."""
    return webhook_json(ops.create_webhook(g.merchant, json_body()), with_secret=True), 201


@bp.get("/webhooks/<int:webhook_id>")
def show_webhook(webhook_id: int):  # type: ignore[no-untyped-def]
    """Show a webhook."""
    return webhook_json(ops.get_webhook(g.merchant, webhook_id))


@bp.patch("/webhooks/<int:webhook_id>")
@write
def update_webhook(webhook_id: int) -> Answer:
    """Change a webhook's URL, events or active flag."""
    hook = ops.update_webhook(ops.get_webhook(g.merchant, webhook_id), json_body())
    return webhook_json(hook), 200


@bp.delete("/webhooks/<int:webhook_id>")
@write
def delete_webhook(webhook_id: int) -> Answer:
    """Remove a webhook."""
    ops.delete_webhook(ops.get_webhook(g.merchant, webhook_id))
    return {"id": webhook_id, "deleted": True}, 200


@bp.get("/webhooks/<int:webhook_id>/deliveries")
def list_deliveries(webhook_id: int):  # type: ignore[no-untyped-def]
    """A webhook's latest 50 deliveries, newest first."""
    hook = ops.get_webhook(g.merchant, webhook_id)
    return {"deliveries": [delivery_json(d) for d in ops.list_deliveries(hook)]}


_EVENTS = {"type": "array", "minItems": 1, "items": {"type": "string", "enum": list(ops.EVENTS)}}
_URL = {"type": "string", "format": "uri",
        "description": "An http:// or https:// URL on a public address: localhost and "
                       "loopback, private, link-local or reserved IP addresses are refused "
                       "(422), and a name resolving to one is not sent to."}
OPENAPI_SCHEMAS = {
    "WebhookCreate": {"type": "object", "additionalProperties": False,
                      "required": ["url", "events"],
                      "properties": {"url": _URL, "events": _EVENTS,
                                     "active": {"type": "boolean"}}},
    "WebhookUpdate": {"type": "object", "additionalProperties": False,
                      "properties": {"url": _URL, "events": _EVENTS,
                                     "active": {"type": "boolean"}}},
    "Webhook": {"type": "object", "properties": {
        "id": {"type": "integer"}, "url": {"type": "string"}, "events": _EVENTS,
        "active": {"type": "boolean"}, "created_at": {"type": "string", "format": "date-time"},
        "secret": {"type": "string", "description": "Only in the answer to its creation. "
                   "Deliveries carry 'Walletpass-Signature: t=<unix time>,v1=<hex "
                   "HMAC-SHA256(secret, \"<t>.\" + raw body)>'."}}},
    "WebhookDelivery": {"type": "object", "properties": {
        "id": {"type": "integer"}, "event": {"type": "string"},
        "state": {"type": "string", "enum": ["pending", "delivered", "failed"]},
        "attempts": {"type": "integer"}, "last_status": {"type": "integer", "nullable": True},
        "last_error": {"type": "string", "description": "Why the last attempt failed, as a "
                       "short category: 'HTTP <status>' (a 3xx included: redirects are not "
                       "followed), 'timeout', 'connection refused', 'connection closed', "
                       "'connection failed', 'TLS error', 'DNS lookup failed', "
                       "'invalid HTTP response' or 'destination address not allowed' (the "
                       "host resolves to a loopback, private or reserved address)."},
        "next_attempt_at": {"type": "string", "format": "date-time"},
        "delivered_at": {"type": "string", "format": "date-time", "nullable": True},
        "payload": {"type": "object"}}},
}
_WID = [id_param("webhook_id")]
_DELETED = {"type": "object", "properties": {"id": {"type": "integer"},
                                             "deleted": {"type": "boolean"}}}
OPENAPI_PATHS = {
    "/webhooks": {
        "get": {"summary": "List webhooks", "operationId": "listWebhooks",
                "responses": {"200": ok("Webhooks", {"type": "object", "properties": {
                    "webhooks": {"type": "array", "items": ref("Webhook")}}}),
                    **errors(401)}},
        "post": {"summary": "Register a webhook", "operationId": "createWebhook",
                 "requestBody": {"required": True, "content": json_content(
                     ref("WebhookCreate"))},
                 "responses": {"201": ok("Registered", ref("Webhook")),
                               **errors(400, 401, 413, 415, 422)}},
    },
    "/webhooks/{webhook_id}": {
        "parameters": _WID,
        "get": {"summary": "Show a webhook", "operationId": "getWebhook",
                "responses": {"200": ok("Webhook", ref("Webhook")), **errors(401, 404)}},
        "patch": {"summary": "Change a webhook", "operationId": "updateWebhook",
                  "requestBody": {"required": True, "content": json_content(
                      ref("WebhookUpdate"))},
                  "responses": {"200": ok("Webhook", ref("Webhook")),
                                **errors(400, 401, 404, 415, 422)}},
        "delete": {"summary": "Remove a webhook", "operationId": "deleteWebhook",
                   "responses": {"200": ok("Removed", _DELETED), **errors(401, 404)}},
    },
    "/webhooks/{webhook_id}/deliveries": {
        "parameters": _WID,
        "get": {"summary": "Latest deliveries of a webhook", "operationId": "listDeliveries",
                "responses": {"200": ok("Deliveries", {"type": "object", "properties": {
                    "deliveries": {"type": "array", "items": ref("WebhookDelivery")}}}),
                    **errors(401, 404)}},
    },
}
