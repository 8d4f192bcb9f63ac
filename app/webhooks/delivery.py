"""Sending webhook deliveries: the signature, one HTTP POST with a timeout, the back-off.

Each POST carries the JSON payload and these headers:

    Walletpass-Event: points.changed
    Walletpass-Delivery: <delivery id>
    Walletpass-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

A receiver recomputes the HMAC over the timestamp, a dot and the raw body with the
webhook's secret, compares in constant time, and rejects old timestamps (replays).
Any 2xx answer counts as delivered; anything else is retried with exponential back-off.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

from app.models import WebhookDelivery
from app.models.base import utcnow

TIMEOUT_SECONDS = 5.0
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)
USER_AGENT = "walletpass-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    """What one POST got: an HTTP status, or None and an error text."""

    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        """Whether the receiver accepted the delivery (any 2xx)."""
        return self.status is not None and 200 <= self.status < 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The Walletpass-Signature header value for a body sent at `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, tolerance: int = 300,
           now: float | None = None) -> bool:
    """Check a Walletpass-Signature header (what a receiver does)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


def body_of(delivery: WebhookDelivery) -> bytes:
    """The exact bytes POSTed for a delivery."""
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()


def post(url: str, body: bytes, headers: dict[str, str],
         timeout: float = TIMEOUT_SECONDS) -> Outcome:
    """POST once; every failure (refused, timeout, bad status) becomes an Outcome."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310
            return Outcome(resp.status)
    except urllib.error.HTTPError as exc:
        return Outcome(exc.code, f"HTTP {exc.code}")
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Outcome(None, f"{type(exc).__name__}: {reason}"[:500])


@dataclass(frozen=True)
class Request:
    """A signed POST ready to send, detached from the database session."""

    url: str
    body: bytes
    headers: dict[str, str]


def prepare(delivery: WebhookDelivery) -> Request:
    """The signed request of one delivery to its webhook's URL."""
    body = body_of(delivery)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               "Walletpass-Event": delivery.event,
               "Walletpass-Delivery": str(delivery.payload.get("id", delivery.id)),
               "Walletpass-Signature": sign(delivery.webhook.secret, int(time.time()), body)}
    return Request(delivery.webhook.url, body, headers)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the n-th failed attempt: 30 s, 1 min, 2 min, ... up to 6 h."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def record(delivery: WebhookDelivery, outcome: Outcome) -> None:
    """Store an attempt's result: delivered, retry later, or failed for good."""
    now = utcnow()
    delivery.attempts += 1
    delivery.last_status = outcome.status
    delivery.last_error = outcome.error
    if outcome.ok:
        delivery.state = "delivered"
        delivery.delivered_at = now
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.state = "failed"
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
