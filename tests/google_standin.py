"""A local HTTP server standing in for Google: the OAuth token endpoint and walletobjects/v1.

It keeps classes and objects in memory, records every request, checks every body against
Google's own schema (tests/google_schema.py), answers scripted failures on demand, and
refuses calls without the bearer token it issued.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests import google_schema

API = "/walletobjects/v1"
SCHEMAS = {"loyaltyClass": "LoyaltyClass", "loyaltyObject": "LoyaltyObject"}


@dataclass
class Recorded:
    """One request the stand-in received."""

    method: str
    path: str
    body: Any
    status: int
    at: float = field(default_factory=time.perf_counter)
    """When the request was answered (perf_counter), for latency measurements."""


@dataclass
class GoogleStandIn:
    """State of the stand-in: stored resources, requests, scripted failures, schema errors."""

    token: str = "test-access-token"
    resources: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {"loyaltyClass": {}, "loyaltyObject": {}})
    requests: list[Recorded] = field(default_factory=list)
    failures: deque[tuple[int, str]] = field(default_factory=deque)
    path_failures: list[tuple[str, int, str]] = field(default_factory=list)
    schema_errors: list[str] = field(default_factory=list)
    token_requests: int = 0
    root_keys: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    root_key_requests: int = 0
    rate_limit: int | None = None
    """Calls allowed in any one second (Google: 20); more are answered 429."""
    recent: deque[float] = field(default_factory=deque)
    throttled: int = 0
    down: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    @property
    def url(self) -> str:
        """The API base URL (WALLETPASS_GOOGLE_API_URL)."""
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def keys_url(self) -> str:
        """Where the stand-in serves Google's root keys document."""
        return f"http://127.0.0.1:{self.port}/keys"

    @property
    def token_uri(self) -> str:
        """The token endpoint (the service account's token_uri)."""
        return f"http://127.0.0.1:{self.port}/token"

    def fail_next(self, status: int, count: int = 1, reason: str = "backendError") -> None:
        """Answer the next `count` API calls with `status` (and this error reason)."""
        with self.lock:
            self.failures.extend([(status, reason)] * count)

    def fail_path(self, ending: str, status: int, reason: str) -> None:
        """Answer the next API call whose path ends with `ending` with `status`."""
        with self.lock:
            self.path_failures.append((ending, status, reason))

    def calls(self, method: str | None = None, kind: str | None = None) -> list[Recorded]:
        """Recorded API calls, optionally by method and resource kind."""
        with self.lock:
            return [r for r in self.requests if (method is None or r.method == method)
                    and (kind is None or r.path.startswith(f"{API}/{kind}"))]


def _handler(state: GoogleStandIn) -> type[BaseHTTPRequestHandler]:
    """A request handler bound to `state`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            """Quiet."""

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.path == "/token":
                return parse_qs(raw.decode())
            return json.loads(raw) if raw else None

        def _handle(self) -> None:
            body = self._body()
            if self.path == "/keys":
                state.root_key_requests += 1
                self._send(200, state.root_keys)
                return
            if self.path == "/token":
                state.token_requests += 1
                self._send(200, {"access_token": state.token, "expires_in": 3600,
                                 "token_type": "Bearer"})
                return
            status, answer = _api(state, self.command, self.path,
                                  self.headers.get("Authorization"), body)
            with state.lock:
                state.requests.append(Recorded(self.command, self.path, body, status))
            self._send(status, answer)

        do_GET = do_POST = do_PATCH = do_PUT = _handle  # noqa: N815

    return Handler


def _api(state: GoogleStandIn, method: str, path: str, auth: str | None,
         body: Any) -> tuple[int, Any]:
    """Answer one walletobjects call."""
    if auth != f"Bearer {state.token}":
        return 401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}
    with state.lock:
        scripted = state.failures.popleft() if state.failures else None
        for i, (ending, status, reason) in enumerate(state.path_failures):
            if scripted is None and path.endswith(ending):
                scripted = (status, reason)
                del state.path_failures[i]
                break
        if scripted is None and state.rate_limit is not None:
            now = time.monotonic()
            while state.recent and state.recent[0] <= now - 1.0:
                state.recent.popleft()
            if len(state.recent) >= state.rate_limit:
                state.throttled += 1
                scripted = (429, "rateLimitExceeded")
            else:
                state.recent.append(now)
    if scripted is not None:
        status, reason = scripted
        return status, {"error": {"code": status, "errors": [{"reason": reason}]}}
    parts = [unquote(p) for p in path[len(API) + 1:].split("/")]
    kind = parts[0]
    if kind not in SCHEMAS:
        return 404, {"error": {"code": 404}}
    if isinstance(body, dict) and method in ("POST", "PATCH", "PUT"):
        try:
            google_schema.validate("AddMessageRequest" if len(parts) == 3 else SCHEMAS[kind],
                                   body)
        except Exception as exc:  # noqa: BLE001 - recorded for the test to assert on
            state.schema_errors.append(f"{method} {kind}: {exc}"[:500])
            return 400, {"error": {"code": 400, "errors": [{"reason": "invalid"}]}}
    store = state.resources[kind]
    with state.lock:
        return _resource(store, method, parts, body)


def _resource(store: dict[str, dict[str, Any]], method: str, parts: list[str],
              body: Any) -> tuple[int, Any]:
    """insert / get / patch / addMessage on the in-memory store."""
    if method == "POST" and len(parts) == 1:
        if body["id"] in store:
            return 409, {"error": {"code": 409, "errors": [{"reason": "duplicate"}]}}
        store[body["id"]] = dict(body)
        return 200, body
    rid = parts[1]
    if rid not in store:
        return 404, {"error": {"code": 404, "errors": [{"reason": "resourceNotFound"}]}}
    if method == "GET":
        return 200, store[rid]
    if method == "PATCH":
        store[rid].update(body)
        return 200, store[rid]
    if method == "POST" and parts[2:] == ["addMessage"]:
        messages = store[rid].setdefault("messages", [])
        messages.append(body["message"])
        return 200, {"resource": store[rid]}
    return 400, {"error": {"code": 400}}


class _Httpd(ThreadingHTTPServer):
    """A threading HTTP server that can also drop its open (keep-alive) connections."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any) -> None:
        super().__init__(address, handler)
        self.open: set[socket.socket] = set()
        self.open_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        """Accept a connection and remember it."""
        conn, addr = super().get_request()
        with self.open_lock:
            self.open.add(conn)
        return conn, addr

    def shutdown_request(self, request: Any) -> None:
        """Forget a connection when its handler is done with it."""
        with self.open_lock:
            self.open.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Cut every open connection, as a server that goes away does."""
        with self.open_lock:
            conns = list(self.open)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Server:
    """The stand-in running in a thread on loopback."""

    def __init__(self, port: int = 0, state: GoogleStandIn | None = None) -> None:
        self.state = state or GoogleStandIn()  # a restart on the same port keeps the state
        self.httpd = _Httpd(("127.0.0.1", port), _handler(self.state))
        self.state.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> GoogleStandIn:
        """Serve until stop()."""
        self.thread.start()
        return self.state

    def stop(self) -> None:
        """Shut down: stop listening and cut the connections still open."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd.drop_connections()


def service_account_info(token_uri: str) -> tuple[dict[str, Any], rsa.RSAPrivateKey]:
    """A fresh service account key (and its private key) whose token_uri is the stand-in."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {"type": "service_account", "project_id": "walletpass-test",
            "private_key_id": f"k{int(time.time())}", "private_key": pem,
            "client_email": "issuer@walletpass-test.iam.gserviceaccount.com",
            "client_id": "1", "token_uri": token_uri}, key
