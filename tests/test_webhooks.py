"""Webhooks: outbox rows written with the event, signed deliveries to a real HTTP server on
loopback, retries with back-off, failures that never block the API call."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.extensions import db
from app.jobs import run_sweep_now
from app.models import WebhookDelivery
from app.models.base import utcnow
from app.webhooks import tasks
from app.webhooks.delivery import (
    MAX_ATTEMPTS,
    REQUEST_DEADLINE,
    address_allowed,
    backoff,
    literal_host_blocked,
    post,
    sign,
    verify,
)
from tests.conftest import Api, new_api_key


class Receiver:
    """A webhook endpoint on 127.0.0.1 that checks signatures; can fail the first N posts."""

    def __init__(self) -> None:
        self.secret = ""
        self.fail_first = 0
        self.redirect_to = ""  # answer 302 with this Location instead
        self.delay = 0.0  # seconds to wait before answering
        self.connections = 0
        self.received: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.handle(self.headers, body)
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def verify_request(self, request: Any, client_address: Any) -> bool:
                with receiver.lock:
                    receiver.connections += 1
                return True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def handle(self, headers: Any, body: bytes) -> int:
        """Verify the signature, then answer 500 for the first fail_first posts, else 204."""
        time.sleep(self.delay)
        with self.lock:
            if not verify(self.secret, headers.get("Walletpass-Signature", ""), body):
                self.bad_signatures += 1
                return 401
            if self.fail_first > 0:
                self.fail_first -= 1
                return 500
            if self.redirect_to:
                return 302
            self.received.append({"event": headers["Walletpass-Event"],
                                  "payload": json.loads(body)})
            return 204

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def app(make_app: Any) -> Flask:
    """The app, allowed to send webhooks to the receivers on loopback."""
    return make_app(WEBHOOK_ALLOW_PRIVATE=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running webhook receiver."""
    r = Receiver()
    yield r
    r.close()


def register(api: Api, receiver: Receiver, events: list[str]) -> dict[str, Any]:
    """Register the receiver for events and give it the secret."""
    resp = api.post("/webhooks", {"url": receiver.url, "events": events})
    assert resp.status_code == 201, resp.get_json()
    hook = resp.get_json()
    receiver.secret = hook["secret"]
    return dict(hook)


def deliveries(app: Flask) -> list[WebhookDelivery]:
    """Every delivery row, oldest first."""
    with app.app_context():
        rows = list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def test_signature_roundtrip() -> None:
    header = sign("s3cret", 1_700_000_000, b'{"a":1}')
    assert verify("s3cret", header, b'{"a":1}', now=1_700_000_010)
    assert not verify("s3cret", header, b'{"a":2}', now=1_700_000_010)
    assert not verify("other", header, b'{"a":1}', now=1_700_000_010)
    assert not verify("s3cret", header, b'{"a":1}', now=1_700_009_999)  # too old
    assert backoff(1) == timedelta(seconds=30) and backoff(3) == timedelta(minutes=2)
    assert backoff(30) == timedelta(hours=6)


def test_events_are_delivered_signed(api: Api, app: Flask, receiver: Receiver,
                                     program: dict[str, Any]) -> None:
    register(api, receiver, ["member.enrolled", "points.changed", "tier.changed",
                             "reward.redeemed"])
    api.post(f"/programs/{program['id']}/tiers", {"name": "Silver", "threshold": "10"})
    reward = api.post(f"/programs/{program['id']}/rewards",
                      {"name": "Cookie", "kind": "free_item", "points_cost": 5}).get_json()
    member = api.post(f"/programs/{program['id']}/members",
                      {"email": "hook@example.test"}).get_json()
    api.post(f"/members/{member['id']}/earn", {"points": 12})
    api.post(f"/members/{member['id']}/redeem", {"reward_id": reward["id"]})
    assert receiver.received == []  # nothing sent during the API calls
    with app.app_context():
        assert run_sweep_now("webhooks") == 5
        assert run_sweep_now("webhooks") == 0
    events = [r["event"] for r in receiver.received]
    assert sorted(events) == sorted(["member.enrolled", "points.changed", "tier.changed",
                                     "points.changed", "reward.redeemed"])
    changed = [r["payload"] for r in receiver.received if r["event"] == "points.changed"]
    assert changed[0]["data"]["points"] == 12 and changed[0]["data"]["member_id"] == member["id"]
    assert receiver.bad_signatures == 0
    assert all(d.state == "delivered" and d.attempts == 1 for d in deliveries(app))


def test_failing_endpoint_is_retried_with_backoff(api: Api, app: Flask, receiver: Receiver,
                                                  member: dict[str, Any]) -> None:
    hook = register(api, receiver, ["points.changed"])
    receiver.fail_first = 2
    api.post(f"/members/{member['id']}/earn", {"points": 3})
    with app.app_context():
        assert run_sweep_now("webhooks") == 1
        assert run_sweep_now("webhooks") == 0  # not due yet: backing off
    row = deliveries(app)[0]
    assert row.state == "pending" and row.attempts == 1 and row.last_status == 500
    assert row.next_attempt_at > utcnow() + timedelta(seconds=20)
    for expected_attempts, state in ((2, "pending"), (3, "delivered")):
        with app.app_context():
            db.session.execute(update(WebhookDelivery).values(next_attempt_at=utcnow()))
            db.session.commit()
            run_sweep_now("webhooks")
        row = deliveries(app)[0]
        assert (row.attempts, row.state) == (expected_attempts, state)
    assert len(receiver.received) == 1
    listed = api.get(f"/webhooks/{hook['id']}/deliveries").get_json()["deliveries"]
    assert listed[0]["state"] == "delivered" and listed[0]["attempts"] == 3


def test_unreachable_endpoint_gives_up_and_never_blocks(api: Api, app: Flask,
                                                        receiver: Receiver,
                                                        member: dict[str, Any]) -> None:
    register(api, receiver, ["points.changed"])
    receiver.close()  # nothing listens there any more
    resp = api.post(f"/members/{member['id']}/earn", {"points": 3})
    assert resp.status_code == 201
    for _ in range(MAX_ATTEMPTS):
        with app.app_context():
            db.session.execute(update(WebhookDelivery).values(next_attempt_at=utcnow()))
            db.session.commit()
            run_sweep_now("webhooks")
    row = deliveries(app)[0]
    assert row.state == "failed" and row.attempts == MAX_ATTEMPTS
    assert row.last_status is None and row.last_error == "connection refused"


def test_webhook_crud_validation_and_isolation(api: Api, other_api: Api,
                                               receiver: Receiver) -> None:
    hook = register(api, receiver, ["points.changed"])
    assert "secret" not in api.get(f"/webhooks/{hook['id']}").get_json()
    for bad in ({"url": "ftp://x", "events": ["points.changed"]},
                {"url": receiver.url, "events": []},
                {"url": receiver.url, "events": ["nope"]},
                {"url": receiver.url}):
        assert api.post("/webhooks", bad).status_code == 422, bad
    resp = api.patch(f"/webhooks/{hook['id']}", {"active": False})
    assert resp.get_json()["active"] is False
    assert other_api.get(f"/webhooks/{hook['id']}").status_code == 404
    assert other_api.get("/webhooks").get_json()["webhooks"] == []
    assert api.client.delete(f"/api/v1/webhooks/{hook['id']}",
                             headers=api.headers).status_code == 200
    assert api.get("/webhooks").get_json()["webhooks"] == []


def test_inactive_or_unsubscribed_hooks_get_nothing(api: Api, app: Flask, receiver: Receiver,
                                                    member: dict[str, Any]) -> None:
    hook = register(api, receiver, ["tier.changed"])
    api.post(f"/members/{member['id']}/earn", {"points": 3})
    api.patch(f"/webhooks/{hook['id']}", {"active": False, "events": ["points.changed"]})
    api.post(f"/members/{member['id']}/earn", {"points": 3})
    with app.app_context():
        assert run_sweep_now("webhooks") == 0  # relays both events: no hook takes either
    assert deliveries(app) == [] and receiver.received == []


def test_two_workers_at_once_send_each_delivery_once(api: Api, app: Flask, receiver: Receiver,
                                                     member: dict[str, Any]) -> None:
    register(api, receiver, ["points.changed"])
    for n in range(1, 11):
        api.post(f"/members/{member['id']}/earn", {"points": n})
    start = threading.Barrier(3)

    def worker(results: list[int]) -> None:
        with app.app_context():
            start.wait()
            results.append(run_sweep_now("webhooks"))

    results: list[int] = []
    threads = [threading.Thread(target=worker, args=(results,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(results) == 10
    assert sorted(r["payload"]["data"]["points"] for r in receiver.received) == [
        sum(range(1, n + 1)) for n in range(1, 11)]
    assert all(d.state == "delivered" and d.attempts == 1 for d in deliveries(app))


# --- SSRF guard -----------------------------------------------------------------------------


def test_address_classification() -> None:
    import ipaddress

    for bad in ("127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                "100.64.0.1", "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255",
                "::1", "::", "fe80::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1",
                "::ffff:10.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::", "::127.0.0.1"):
        assert not address_allowed(ipaddress.ip_address(bad)), bad
    for good in ("8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8",
                 "64:ff9b::808:808"):
        assert address_allowed(ipaddress.ip_address(good)), good
    for host in ("localhost", "LOCALHOST.", "api.localhost", "127.1", "2130706433",
                 "0x7f.0.0.1", "::1", "fe80::1%eth0", "169.254.169.254"):
        assert literal_host_blocked(host.lower()), host
    for host in ("hooks.example.com", "8.8.8.8", "deadbeef.cafe", "2606:4700::1111"):
        assert not literal_host_blocked(host), host


def test_private_destinations_refused_at_registration(make_app: Any) -> None:
    strict = make_app(WEBHOOK_ALLOW_PRIVATE=False)
    api = Api(strict.test_client(), new_api_key(strict))
    for url in ("http://127.0.0.1:5432/", "http://10.0.0.5/hook", "http://192.168.0.1/",
                "http://172.20.1.1/", "http://169.254.169.254/latest/meta-data/",
                "http://0.0.0.0:8080/", "http://[::1]:8080/hook", "http://[fe80::1]/",
                "http://[fc00::1]/", "http://[::ffff:127.0.0.1]/", "http://localhost:8080/",
                "https://LocalHost./", "http://admin.localhost/", "http://127.1/",
                "http://2130706433/", "http://[::]/", "http://224.0.0.1/"):
        resp = api.post("/webhooks", {"url": url, "events": ["points.changed"]})
        assert resp.status_code == 422, url
        assert "private" in resp.get_json()["error"]["message"], resp.get_json()
    for url in ("http://x:99999/", "http://[::1/"):
        assert api.post("/webhooks", {"url": url, "events": ["points.changed"]}
                        ).status_code == 422, url
    hook = api.post("/webhooks", {"url": "https://hooks.example.com/walletpass",
                                  "events": ["points.changed"]})
    assert hook.status_code == 201  # names are checked when sending, not here
    resp = api.patch(f"/webhooks/{hook.get_json()['id']}", {"url": "http://10.0.0.1/"})
    assert resp.status_code == 422
    assert api.get("/webhooks").get_json()["webhooks"][0]["url"].startswith("https://hooks")


def test_send_to_private_address_is_refused_without_connecting(
        api: Api, app: Flask, make_app: Any, receiver: Receiver,
        member: dict[str, Any]) -> None:
    register(api, receiver, ["points.changed"])  # allowed on this app (loopback receiver)
    by_name = receiver.url.replace("127.0.0.1", "localhost")
    assert api.post("/webhooks", {"url": by_name, "events": ["points.changed"]}
                    ).status_code == 201
    api.post(f"/members/{member['id']}/earn", {"points": 3})
    strict = make_app(WEBHOOK_ALLOW_PRIVATE=False)  # same database, the default setting
    with strict.app_context():
        assert run_sweep_now("webhooks") == 2
    assert receiver.connections == 0 and receiver.received == []
    rows = deliveries(app)
    assert len(rows) == 2
    for row in rows:
        assert (row.state, row.attempts, row.last_status) == ("pending", 1, None)
        assert row.last_error == "destination address not allowed"
        assert row.next_attempt_at > utcnow() + timedelta(seconds=20)  # retried as usual


def test_redirects_are_not_followed(api: Api, app: Flask, receiver: Receiver,
                                    member: dict[str, Any]) -> None:
    target = Receiver()
    try:
        register(api, receiver, ["points.changed"])
        target.secret = receiver.secret
        receiver.redirect_to = target.url
        api.post(f"/members/{member['id']}/earn", {"points": 3})
        with app.app_context():
            assert run_sweep_now("webhooks") == 1
        assert target.connections == 0 and target.received == []
    finally:
        target.close()
    row = deliveries(app)[0]
    assert (row.state, row.attempts, row.last_status, row.last_error) == (
        "pending", 1, 302, "HTTP 302")


class SilentServer:
    """Accepts connections on loopback and answers nothing, or one byte now and then."""

    def __init__(self, drip: float = 0.0) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.drip = drip
        self.stopped = threading.Event()
        self.conns: list[socket.socket] = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            if self.drip:
                threading.Thread(target=self.trickle, args=(conn,), daemon=True).start()

    def trickle(self, conn: socket.socket) -> None:
        data = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000
        for i in range(len(data)):
            if self.stopped.wait(self.drip):
                return
            try:
                conn.sendall(data[i:i + 1])
            except OSError:
                return

    def close(self) -> None:
        self.stopped.set()
        self.sock.close()
        for conn in self.conns:
            conn.close()


@pytest.mark.parametrize("drip", [0.0, 0.1])
def test_slow_receivers_time_out_with_a_generic_error(drip: float) -> None:
    server = SilentServer(drip)
    try:
        started = time.monotonic()
        outcome = post(server.url, b"{}", {}, allow_private=True, timeout=0.5, deadline=1.5)
        elapsed = time.monotonic() - started
    finally:
        server.close()
    assert outcome.status is None and outcome.error == "timeout"
    assert elapsed < 3.0  # a byte every 0.1 s never resets the whole-attempt deadline


def test_transport_errors_are_generic(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    refused = post(f"http://127.0.0.1:{port}/", b"{}", {}, allow_private=True)
    assert refused.error == "connection refused"
    assert post(f"http://127.0.0.1:{port}/", b"{}", {}).error == (
        "destination address not allowed")
    with monkeypatch.context() as m:
        def nxdomain(*args: Any, **kwargs: Any) -> Any:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

        m.setattr(socket, "getaddrinfo", nxdomain)
        assert post("http://no-such-host.invalid/", b"{}", {}).error == "DNS lookup failed"
    server = SilentServer()  # TLS to a server that never answers the handshake: a timeout
    try:
        tls = post(server.url.replace("http:", "https:"), b"{}", {}, allow_private=True,
                   timeout=0.5, deadline=1.0)
    finally:
        server.close()
    assert tls.error == "timeout"


# --- time budget and concurrency of a sweep -------------------------------------------------


def test_lease_outlasts_a_whole_run() -> None:
    worst = tasks.BUDGET_SECONDS + REQUEST_DEADLINE
    assert tasks.LEASE.total_seconds() >= 2 * worst


def test_batch_is_sent_concurrently(api: Api, app: Flask, receiver: Receiver,
                                    member: dict[str, Any]) -> None:
    register(api, receiver, ["points.changed"])
    for _ in range(8):
        api.post(f"/members/{member['id']}/earn", {"points": 1})
    receiver.delay = 0.5
    started = time.monotonic()
    with app.app_context():
        assert run_sweep_now("webhooks") == 8
    assert time.monotonic() - started < 2.5  # one after another: 4 s
    assert len(receiver.received) == 8
    assert all(d.state == "delivered" and d.attempts == 1 for d in deliveries(app))


def test_sweep_stops_claiming_after_its_budget(api: Api, app: Flask, receiver: Receiver,
                                               member: dict[str, Any],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    register(api, receiver, ["points.changed"])
    for _ in range(6):
        api.post(f"/members/{member['id']}/earn", {"points": 1})
    monkeypatch.setattr(tasks, "BUDGET_SECONDS", 0.3)
    monkeypatch.setattr(tasks, "WORKERS", 2)
    receiver.delay = 1.0
    with app.app_context():
        assert run_sweep_now("webhooks") == 2  # two started in time; the rest wait
    rows = deliveries(app)
    assert sorted(d.attempts for d in rows) == [0, 0, 0, 0, 1, 1]
    assert all(d.next_attempt_at <= utcnow() for d in rows if d.attempts == 0)  # not leased
    receiver.delay = 0.0
    with app.app_context():
        assert run_sweep_now("webhooks") == 4
    assert all(d.state == "delivered" and d.attempts == 1 for d in deliveries(app))
