"""A real HTTP/2 TLS server on loopback standing in for APNs (hypercorn + a small ASGI app).

It requires a client certificate that chains to the given CA, records every push
(token, apns-topic, body, HTTP version) and answers per token as told: 200 by default, or
any status with an APNs reason (and a timestamp for 410).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.net import wait_port


@dataclass(frozen=True)
class Push:
    """One request the stand-in received."""

    token: str
    topic: str | None
    body: bytes
    http_version: str
    method: str
    client_port: int


def _name(common_name: str) -> x509.Name:
    """A subject with just a common name."""
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_server_tls(folder: Path) -> dict[str, Path]:
    """A test CA and a server certificate for 127.0.0.1/localhost signed by it (PEM files)."""
    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("APNs stand-in test CA"))
          .issuer_name(_name("APNs stand-in test CA")).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(1))
          .not_valid_after(now + dt.timedelta(30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    alt = x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                       x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert = (x509.CertificateBuilder().subject_name(_name("localhost")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(1)).not_valid_after(now + dt.timedelta(30))
            .add_extension(alt, critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .sign(ca_key, hashes.SHA256()))
    paths = {"ca": folder / "ca.pem", "cert": folder / "server.pem", "key": folder / "server.key"}
    pem = serialization.Encoding.PEM
    paths["ca"].write_bytes(ca.public_bytes(pem))
    paths["cert"].write_bytes(cert.public_bytes(pem))
    paths["key"].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return paths


class ApnsStandIn:
    """The stand-in server, run in a thread of the test process."""

    def __init__(self, tls: dict[str, Path], client_ca: Path) -> None:
        self.tls, self.client_ca = tls, client_ca
        self.answers: dict[str, tuple[int, dict[str, Any]]] = {}
        self.delay = 0.0
        self.pushes: list[Push] = []
        self.on_push: Callable[[Push], None] | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.url = ""

    def answer(self, token: str, status: int, reason: str | None = None,
               timestamp: int | None = None) -> None:
        """Answer pushes to this token with a status (and APNs reason/timestamp)."""
        body: dict[str, Any] = {}
        if reason:
            body["reason"] = reason
        if timestamp is not None:
            body["timestamp"] = timestamp
        self.answers[token] = (status, body)

    def tokens(self) -> list[str]:
        """Tokens pushed so far, in order of arrival."""
        with self._lock:
            return [p.token for p in self.pushes]

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """Wait (bounded) until at least `count` pushes arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.pushes) >= count:
                return True
            time.sleep(0.01)
        return len(self.pushes) >= count

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """The ASGI app: record the push and answer as told."""
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        token = scope["path"].rsplit("/", 1)[-1]
        client = scope.get("client") or ("", 0)
        push = Push(token, headers.get("apns-topic"), body, scope["http_version"],
                    scope["method"], int(client[1]))
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            self.pushes.append(push)
        if self.on_push is not None:
            self.on_push(push)
        status, answer = self.answers.get(token, (200, {}))
        payload = json.dumps(answer).encode() if answer else b""
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"apns-id", b"00000000-0000-0000-0000-000000000000")]})
        await send({"type": "http.response.body", "body": payload})

    def start(self, port: int = 0) -> str:
        """Start serving on loopback (a free port unless given); returns the base URL."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        port = sock.getsockname()[1]
        ready = threading.Event()
        fd = sock.detach()  # hypercorn owns (and closes) the socket from here on
        self._thread = threading.Thread(target=self._serve, args=(fd, ready), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("APNs stand-in did not start")
        self.url = f"https://127.0.0.1:{port}"
        wait_port(port, "the APNs stand-in")
        return self.url

    def _serve(self, fd: int, ready: threading.Event) -> None:
        """The server thread: its own event loop running hypercorn."""
        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"fd://{fd}"]
        config.certfile, config.keyfile = str(self.tls["cert"]), str(self.tls["key"])
        config.ca_certs = str(self.client_ca)
        config.verify_mode = ssl.CERT_REQUIRED
        config.alpn_protocols = ["h2"]
        config.h2_max_concurrent_streams = 1000
        config.graceful_timeout = 0.2
        config.accesslog = None
        config.errorlog = None
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._stop = asyncio.Event()
        ready.set()
        try:
            loop.run_until_complete(serve(self._app, config,  # type: ignore[arg-type]
                                          shutdown_trigger=self._stop.wait))
        except (OSError, asyncio.CancelledError):  # clients still connected at shutdown
            pass
        finally:
            loop.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (bounded wait)."""
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)
