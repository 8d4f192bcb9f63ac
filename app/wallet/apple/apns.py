"""APNs client for pass updates: HTTP/2 multiplexing over long-lived connections (libcurl).

A pass update push is `POST <APNS_URL>/3/device/<pushToken>` with header
`apns-topic: <passTypeIdentifier>` and body `{}`, over TLS authenticated with the Pass
Type ID certificate. Apple asks for few, long-lived connections with many requests in
flight on each: the client keeps one libcurl multi handle (its connection cache) per
process and multiplexes every request of a batch as HTTP/2 streams on it.

Every request has a timeout. What an answer means for the registration is decided in one
place, `classify`.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import ssl
import threading
import weakref
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import pycurl
from cryptography.hazmat.primitives import serialization
from flask import Flask

from app.config import Settings
from app.wallet.apple.certs import SigningIdentity

log = logging.getLogger(__name__)
BODY = b"{}"


@dataclass(frozen=True)
class ApnsAnswer:
    """What APNs answered for one push token (status 0: no answer, see `error`)."""

    token: str
    status: int
    reason: str | None = None
    timestamp: int | None = None
    error: str | None = None


class Outcome(enum.Enum):
    """What a push answer means for the registrations behind the token."""

    DELIVERED = "delivered"
    BAD_TOKEN = "bad_token"          # 400 BadDeviceToken / DeviceTokenNotForTopic: delete
    UNREGISTERED = "unregistered"    # 410: delete unless registered again since `timestamp`
    RETRY = "retry"                  # 429, 5xx, timeout, no connection: try again later
    CERTIFICATE = "certificate"      # 403: our certificate or topic is refused
    REJECTED = "rejected"            # any other 4xx: a bug on our side; retry much later


BAD_TOKEN_REASONS = {"BadDeviceToken", "DeviceTokenNotForTopic"}


def classify(answer: ApnsAnswer) -> Outcome:
    """Translate an APNs answer into what to do with the registration (the one place)."""
    status = answer.status
    if status == 200:
        return Outcome.DELIVERED
    if status == 400 and answer.reason in BAD_TOKEN_REASONS:
        return Outcome.BAD_TOKEN
    if status == 410:
        return Outcome.UNREGISTERED
    if status == 403:
        return Outcome.CERTIFICATE
    if status == 0 or status == 429 or status >= 500:
        return Outcome.RETRY
    return Outcome.REJECTED


def parse_answer(token: str, status: int, body: bytes) -> ApnsAnswer:
    """An ApnsAnswer from a status and the JSON body APNs sends with failures."""
    reason, timestamp = None, None
    if body:
        try:
            data = json.loads(body)
        except ValueError:
            data = {}
        if isinstance(data, dict):
            reason = str(data["reason"])[:64] if data.get("reason") else None
            stamp = data.get("timestamp")
            timestamp = int(stamp) if isinstance(stamp, int | float) else None
    return ApnsAnswer(token, status, reason, timestamp)


@dataclass(frozen=True)
class ApnsConfig:
    """Where and how to connect; built once from the settings and the signing identity."""

    base_url: str
    topic: str
    cert_pem: bytes
    key_pem: bytes
    ca_pem: bytes | None
    timeout: float
    concurrency: int
    connections: int

    def __repr__(self) -> str:
        """Never show the key (or certificate) in logs or tracebacks."""
        return f"ApnsConfig(base_url={self.base_url!r}, topic={self.topic!r})"


def apns_config(settings: Settings, identity: SigningIdentity) -> ApnsConfig:
    """The client configuration for these settings and this Pass Type ID identity."""
    pem = serialization.Encoding.PEM
    cert = identity.certificate.public_bytes(pem) + identity.wwdr.public_bytes(pem)
    key = identity.private_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())
    return ApnsConfig(settings.APNS_URL.rstrip("/"), identity.pass_type_id, cert, key,
                      _ca_bundle(settings.APNS_CA_FILE), settings.APNS_TIMEOUT,
                      max(1, settings.APNS_CONCURRENCY), max(1, settings.APNS_CONNECTIONS))


def _ca_bundle(extra_file: str) -> bytes | None:
    """The system's CA certificates plus APNS_CA_FILE's, or None to keep libcurl's default."""
    if not extra_file:
        return None
    system = ssl.get_default_verify_paths().cafile
    base = Path(system).read_bytes() if system and Path(system).is_file() else b""
    return base + b"\n" + Path(extra_file).read_bytes()


class ApnsClient:
    """Sends pass update pushes; one per process, its connection kept open between batches."""

    open_clients: weakref.WeakSet[ApnsClient] = weakref.WeakSet()

    def __init__(self, config: ApnsConfig) -> None:
        self.config = config
        self.closed = False
        ApnsClient.open_clients.add(self)
        self._lock = threading.Lock()
        self._multi: Any = pycurl.CurlMulti()
        self._multi.setopt(pycurl.M_PIPELINING, pycurl.PIPE_MULTIPLEX)
        self._multi.setopt(pycurl.M_MAX_HOST_CONNECTIONS, config.connections)
        self._multi.setopt(pycurl.M_MAX_CONCURRENT_STREAMS, min(config.concurrency, 1000))
        self._free: list[Any] = []
        self._made = 0

    def send(self, tokens: Sequence[str]) -> list[ApnsAnswer]:
        """Push `{}` to every token, many in flight at once; one answer per token."""
        with self._lock:
            try:
                return self._run(deque(tokens))
            except Exception:
                self.closed = True  # handles may be stuck in the multi: never reuse it
                raise

    def _run(self, pending: deque[str]) -> list[ApnsAnswer]:
        """Drive the multi handle until every token has an answer."""
        answers: list[ApnsAnswer] = []
        retried: set[str] = set()
        active = 0
        while pending or active:
            while pending and active < self.config.concurrency:
                self._start(pending.popleft())
                active += 1
            self._perform()
            active -= self._collect(answers, pending, retried)
            if active:
                self._multi.select(0.05)
        return answers

    def _start(self, token: str) -> None:
        """Add one push request to the multi handle."""
        handle = self._free.pop() if self._free else self._new_handle()
        handle.token = token
        handle.buf.seek(0)
        handle.buf.truncate()
        handle.setopt(pycurl.URL, f"{self.config.base_url}/3/device/{token}")
        self._multi.add_handle(handle)

    def _perform(self) -> None:
        """Let libcurl do all the I/O that is ready."""
        while True:
            ret, _running = self._multi.perform()
            if ret != pycurl.E_CALL_MULTI_PERFORM:
                return

    def _collect(self, answers: list[ApnsAnswer], pending: deque[str],
                 retried: set[str]) -> int:
        """Move finished requests into `answers`; returns how many finished.

        A request that failed on a connection the server had closed (not a timeout) is sent
        once more at once: libcurl then opens a fresh connection.
        """
        done = 0
        while True:
            queued, ok, failed = self._multi.info_read()
            for handle in ok:
                status = handle.getinfo(pycurl.RESPONSE_CODE)
                answers.append(parse_answer(handle.token, status, handle.buf.getvalue()))
                self._release(handle)
            for handle, errno, message in failed:
                if errno != pycurl.E_OPERATION_TIMEDOUT and handle.token not in retried:
                    retried.add(handle.token)
                    pending.append(handle.token)
                else:
                    answers.append(ApnsAnswer(handle.token, 0, error=str(message)[:200]))
                self._release(handle)
            done += len(ok) + len(failed)
            if not queued:
                return done

    def _release(self, handle: Any) -> None:
        """Return a finished handle to the pool for the next request."""
        self._multi.remove_handle(handle)
        self._free.append(handle)

    def _new_handle(self) -> Any:
        """An easy handle set up for APNs: HTTP/2 over TLS with the client certificate."""
        cfg = self.config
        handle = pycurl.Curl()
        handle.buf = BytesIO()
        options = {
            pycurl.HTTP_VERSION: pycurl.CURL_HTTP_VERSION_2TLS,
            pycurl.PIPEWAIT: 1,
            pycurl.NOSIGNAL: 1,
            pycurl.TCP_KEEPALIVE: 1,
            pycurl.TIMEOUT_MS: int(cfg.timeout * 1000),
            pycurl.CONNECTTIMEOUT_MS: int(min(cfg.timeout, 10.0) * 1000),
            pycurl.POST: 1,
            pycurl.POSTFIELDS: BODY,
            pycurl.HTTPHEADER: [f"apns-topic: {cfg.topic}", "content-type: application/json"],
            pycurl.SSLCERT_BLOB: cfg.cert_pem,
            pycurl.SSLCERTTYPE: "PEM",
            pycurl.SSLKEY_BLOB: cfg.key_pem,
            pycurl.SSLKEYTYPE: "PEM",
            pycurl.WRITEDATA: handle.buf,
        }
        if cfg.ca_pem is not None:
            options[pycurl.CAINFO_BLOB] = cfg.ca_pem
        for option, value in options.items():
            handle.setopt(option, value)
        self._made += 1
        return handle

    def close(self) -> None:
        """Close the connections and free the handles."""
        with self._lock:
            if self._multi is None:
                return
            self.closed = True
            for handle in self._free:
                handle.close()
            self._free.clear()
            self._multi.close()
            self._multi = None
            ApnsClient.open_clients.discard(self)

    @classmethod
    def close_all(cls) -> None:
        """Close every client of this process (at shutdown)."""
        for client in list(cls.open_clients):
            client.close()


_clients_lock = threading.Lock()


def apns_client(app: Flask) -> ApnsClient:
    """The app's APNs client, made on first use in this process (so forked workers get theirs)."""
    with _clients_lock:
        pid, client = app.extensions.get("walletpass.apns", (None, None))
        if client is not None and client.closed and pid == os.getpid():
            client.close()  # free what a failed send left behind
        if client is None or client.closed or pid != os.getpid():
            identity = app.extensions["walletpass.apple"].identity
            client = ApnsClient(apns_config(app.config["SETTINGS"], identity))
            app.extensions["walletpass.apns"] = (os.getpid(), client)
        return client
