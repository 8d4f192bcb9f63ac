"""Webhooks: outbox rows written with the event, signed deliveries to a real HTTP server on
loopback, retries with back-off, failures that never block the API call."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from app.extensions import db
from app.jobs import import_sweeps, run_sweep_now
from app.models import WebhookDelivery
from app.models.base import utcnow
from app.webhooks.delivery import MAX_ATTEMPTS, backoff, sign, verify
from tests.conftest import Api

import_sweeps()


class Receiver:
    """A webhook endpoint on 127.0.0.1 that checks signatures; can fail the first N posts."""

    def __init__(self) -> None:
        self.secret = ""
        self.fail_first = 0
        self.received: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.handle(self.headers, body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def handle(self, headers: Any, body: bytes) -> int:
        """Verify the signature, then answer 500 for the first fail_first posts, else 204."""
        with self.lock:
            if not verify(self.secret, headers.get("Walletpass-Signature", ""), body):
                self.bad_signatures += 1
                return 401
            if self.fail_first > 0:
                self.fail_first -= 1
                return 500
            self.received.append({"event": headers["Walletpass-Event"],
                                  "payload": json.loads(body)})
            return 204

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
        self.server.server_close()


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
    assert row.last_status is None and row.last_error


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
    assert deliveries(app) == []


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
