"""The shapes of a webhook: a registration as sent, a webhook and a delivery as answered."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from app.validation import FLAG, OMIT, Input, Rule, text

EVENTS = ("member.enrolled", "points.changed", "tier.changed", "reward.redeemed")


def _url(value: Any) -> str:
    """An http(s) URL with a host and no credentials in it (the address is checked against
    private ranges by the operation, which knows the settings)."""
    value = text(2000).check(value)
    try:
        parts = urlsplit(value)
        scheme, host, _port = parts.scheme, parts.hostname, parts.port  # .port raises if bad
    except ValueError:
        scheme, host = "", None
    if scheme not in ("http", "https") or not host:
        raise ValueError("must be an http:// or https:// URL.")
    if "@" in parts.netloc:
        raise ValueError("must not contain a user name or password (user:pass@host); "
                         "deliveries are signed with the webhook's secret instead.")
    return value


def _events(value: Any) -> list[str]:
    """A non-empty list of known event names, sorted, without repeats."""
    if not isinstance(value, list) or not value or any(e not in EVENTS for e in value):
        raise ValueError(f"must be a non-empty list of: {', '.join(EVENTS)}.")
    return sorted(set(value))


URL = Rule(_url, {"type": "string", "format": "uri", "maxLength": 2000, "description":
                  "An http:// or https:// URL on a public address, without user:password@: "
                  "localhost and loopback, private, link-local or reserved IP addresses are "
                  "refused (422), and a name resolving to one is not sent to."})
EVENT_LIST = Rule(_events, {"type": "array", "minItems": 1, "items": {
    "type": "string", "enum": list(EVENTS)}})


class WebhookUpdate(Input):
    """A change of a webhook: only the fields sent change."""

    url: Annotated[str, URL] = OMIT
    events: Annotated[list[str], EVENT_LIST] = OMIT
    active: Annotated[bool, FLAG] = OMIT


class WebhookCreate(WebhookUpdate):
    """A URL to send events to."""

    url: Annotated[str, URL]
    events: Annotated[list[str], EVENT_LIST]


class Webhook(BaseModel):
    """A webhook as the API answers it."""

    id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime
    secret: str | None = Field(default=None, description=(
        "Only in the answer to its creation. Deliveries carry 'Walletpass-Signature: "
        "t=<unix time>,v1=<hex HMAC-SHA256(secret, \"<t>.\" + raw body)>'."))


class WebhookList(BaseModel):
    """The merchant's webhooks."""

    webhooks: list[Webhook]


class WebhookDelivery(BaseModel):
    """One event sent (or to be sent) to a webhook.

    last_error says why the last attempt failed, as a short category: 'HTTP <status>' (a
    3xx included: redirects are not followed), 'timeout', 'connection refused', 'connection
    closed', 'connection failed', 'TLS error', 'DNS lookup failed', 'invalid HTTP response'
    or 'destination address not allowed' (the host resolves to a loopback, private or
    reserved address).
    """

    id: int
    event: str
    state: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: datetime
    delivered_at: datetime | None
    payload: dict[str, Any]


class DeliveryList(BaseModel):
    """A webhook's latest deliveries."""

    deliveries: list[WebhookDelivery]
