"""Sending webhook deliveries: the signature, one HTTP POST with a timeout, the back-off.

Each POST carries the JSON payload and these headers:

    Walletpass-Event: points.changed
    Walletpass-Delivery: <delivery id>
    Walletpass-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

A receiver recomputes the HMAC over the timestamp, a dot and the raw body with the
webhook's secret, compares in constant time, and rejects old timestamps (replays).
Any 2xx answer counts as delivered; anything else is retried with exponential back-off.

Sending is guarded against server-side request forgery: the host is resolved (with a time
limit) and the POST is refused when any of its addresses is not globally routable
(loopback, private, link-local, reserved, multicast...), unless WEBHOOK_ALLOW_PRIVATE is
set. The connection then goes to exactly the addresses that were checked (a second DNS
answer cannot swap in an internal one), redirects are never followed (a 3xx is a failed
attempt), no proxy from the environment is used, and a whole attempt (connecting, sending,
reading the status line and headers) is cut off after REQUEST_DEADLINE seconds. What is
stored and shown to the merchant is a short category ("timeout", "connection refused",
"HTTP 500", "destination address not allowed", "TLS error"...), never the exception text.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from app.leases import Backoff
from app.models import WebhookDelivery
from app.models.base import utcnow

TIMEOUT_SECONDS = 5.0  # each connect / send / read of an attempt
DNS_TIMEOUT_SECONDS = 3.0
REQUEST_DEADLINE = 10.0  # a whole attempt (DNS, connect, send, status and headers) at most
MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)
RETRY = Backoff(first=BACKOFF_BASE.total_seconds(), cap=BACKOFF_CAP.total_seconds())
USER_AGENT = "walletpass-webhooks/1"
ERR_NOT_ALLOWED = "destination address not allowed"

log = logging.getLogger(__name__)
_NUMERIC_V4 = re.compile(r"[0-9a-fx.]+")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


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


def literal_host_blocked(host: str) -> bool:
    """Whether a URL's host is `localhost` or an IP literal that is not globally routable.

    Used when a URL is registered; names are checked again, resolved, when sending.
    """
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    ip = _literal_ip(host)
    return ip is not None and not address_allowed(ip)


def _literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names literally, legacy IPv4 spellings (127.1, 0x7f.0.0.1,
    2130706433) included, or None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_V4.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def address_allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is globally routable (so a webhook may be sent to it).

    IPv6 addresses that carry an IPv4 one (IPv4-mapped, NAT64 64:ff9b::/96, 6to4) are
    judged by the IPv4 address they carry.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return address_allowed(ip.ipv4_mapped)
        if ip in _NAT64:
            return address_allowed(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour is not None and not address_allowed(ip.sixtofour):
            return False
    return bool(ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local
                                      or ip.is_multicast or ip.is_reserved
                                      or ip.is_unspecified))


class Refused(Exception):
    """The destination resolved to an address webhooks may not be sent to."""


class DeadlineExceeded(Exception):
    """The attempt ran out of time (DNS, connecting, or the whole request)."""


Address = tuple[int, tuple[Any, ...]]  # (socket family, sockaddr)


def resolve(host: str, port: int, allow_private: bool = False,
            timeout: float = DNS_TIMEOUT_SECONDS) -> list[Address]:
    """The addresses to connect to; Refused if any is not allowed, DeadlineExceeded if DNS
    takes longer than `timeout` (getaddrinfo has no timeout, so it runs in a daemon thread).
    """
    box: dict[str, Any] = {}

    def lookup() -> None:
        try:
            box["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                              proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError) as exc:
            box["error"] = exc

    thread = threading.Thread(target=lookup, name="webhook-dns", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise DeadlineExceeded("DNS lookup")
    if "error" in box:
        raise box["error"]
    addresses: list[Address] = []
    for family, _type, _proto, _canon, sockaddr in box["infos"]:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        if not allow_private and not address_allowed(ipaddress.ip_address(sockaddr[0])):
            raise Refused(host)
        if (family, sockaddr) not in addresses:
            addresses.append((family, sockaddr))
    if not addresses:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    return addresses


class _Pinned:
    """Connects an http.client connection to already-checked addresses only, and can cut it
    off from another thread (the watchdog of an attempt's deadline)."""

    def __init__(self, addresses: list[Address], deadline: float) -> None:
        self.addresses = addresses
        self.deadline = deadline
        self.sock: socket.socket | None = None
        self.conn: http.client.HTTPConnection | None = None
        self.aborted = False

    def connect(self, _address: Any, timeout: Any = None,
                _source: Any = None) -> socket.socket:
        """Stands in for socket.create_connection: try each checked address in turn."""
        error: OSError | None = None
        for family, sockaddr in self.addresses:
            remaining = self.deadline - time.monotonic()
            if self.aborted or remaining <= 0:
                raise DeadlineExceeded("connect")
            sock = socket.socket(family, socket.SOCK_STREAM)
            self.sock = sock
            try:
                sock.settimeout(min(float(timeout or TIMEOUT_SECONDS), remaining))
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                error = exc
                sock.close()
        raise error or OSError("no address")

    def abort(self) -> None:
        """Shut the socket down so a blocked read returns at once (the deadline passed)."""
        self.aborted = True
        sock = (self.conn.sock if self.conn is not None else None) or self.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the raw socket, TLS or not


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Certificate and host name checked, as for any HTTPS client (built once)."""
    return ssl.create_default_context()


def post(url: str, body: bytes, headers: dict[str, str], *, allow_private: bool = False,
         timeout: float = TIMEOUT_SECONDS, deadline: float = REQUEST_DEADLINE) -> Outcome:
    """POST once; every failure (refused, timeout, bad status) becomes an Outcome."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
        https = parts.scheme == "https"
        if parts.scheme not in ("http", "https") or not host:
            raise ValueError("not an http(s) URL")
    except ValueError:
        return Outcome(None, "invalid URL")
    port = port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    try:
        addresses = resolve(host, port, allow_private, min(DNS_TIMEOUT_SECONDS, deadline))
    except Refused:
        log.warning("webhook to %s refused: resolves to a non-public address", host)
        return Outcome(None, ERR_NOT_ALLOWED)
    except DeadlineExceeded:
        return Outcome(None, "timeout")
    except (OSError, UnicodeError) as exc:
        log.info("webhook DNS lookup of %s failed: %r", host, exc)
        return Outcome(None, "DNS lookup failed")
    pin = _Pinned(addresses, started + deadline)
    conn: http.client.HTTPConnection
    if https:
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=_tls_context())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    conn._create_connection = pin.connect  # type: ignore[attr-defined]
    pin.conn = conn
    watchdog = threading.Timer(max(started + deadline - time.monotonic(), 0.0), pin.abort)
    watchdog.daemon = True
    watchdog.start()
    try:
        conn.request("POST", path, body=body, headers={**headers, "Connection": "close"})
        status = conn.getresponse().status  # never follows a redirect: a 3xx is a failure
    except Exception as exc:  # every failure is an outcome, never raised
        return Outcome(None, "timeout" if pin.aborted else _category(exc))
    finally:
        watchdog.cancel()
        conn.close()
    if pin.aborted:  # cut off mid-headers: http.client may take the EOF as their end
        return Outcome(None, "timeout")
    return Outcome(status, "" if 200 <= status < 300 else f"HTTP {status}")


def _category(exc: BaseException) -> str:
    """A short, generic description of a failed attempt (the details only go to the log)."""
    log.info("webhook attempt failed: %r", exc)
    if isinstance(exc, (TimeoutError, DeadlineExceeded)):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (ssl.SSLError, ssl.CertificateError)):
        return "TLS error"
    if isinstance(exc, (ConnectionResetError, http.client.RemoteDisconnected)):
        return "connection closed"
    if isinstance(exc, http.client.HTTPException):
        return "invalid HTTP response"
    if isinstance(exc, OSError):
        return "connection failed"
    return "delivery error"


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
    """How long to wait after the n-th failed attempt: 30 s, 1 min, 2 min, ... up to 6 h
    (each actual wait is spread by the jitter of RETRY)."""
    return timedelta(seconds=RETRY.delay(attempts))


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
        delivery.next_attempt_at = RETRY.next_attempt(now, delivery.attempts)
