"""The outbox: one call records an event in the caller's transaction; the relay hands it
to every channel once; channels share one back-off policy."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.leases import Backoff
from app.models import Member, OutboxEvent, Webhook, WebhookDelivery
from app.models.base import utcnow
from app.outbox import CHANNELS, record, register_channel
from app.outbox.tasks import relay
from tests.conftest import Api


class Recorder:
    """An outbox channel that remembers what it was given (as e-mail will fan out)."""

    name = "recorder"

    def __init__(self) -> None:
        self.seen: list[tuple[int, str]] = []
        self.lock = threading.Lock()

    def fan_out(self, events: Sequence[OutboxEvent]) -> int:
        """Remember each event."""
        with self.lock:
            self.seen += [(e.id, e.event_type) for e in events]
        return len(events)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """A second outbox channel, registered for the test (one call) and removed after."""
    channel = register_channel(Recorder())
    yield channel  # type: ignore[misc]
    CHANNELS.pop("recorder", None)


def events(app: Flask) -> list[tuple[str, int | None, dict[str, Any]]]:
    """Every recorded event: type, member and payload."""
    with app.app_context():
        return [(e.event_type, e.member_id, e.payload) for e in
                db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))]


def test_domain_operations_record_their_events(api: Api, app: Flask,
                                               program: dict[str, Any]) -> None:
    api.post(f"/programs/{program['id']}/tiers", {"name": "Silver", "threshold": "10"})
    member = api.post(f"/programs/{program['id']}/members",
                      {"email": "out@example.test"}).get_json()
    api.post(f"/members/{member['id']}/earn", {"points": 12})
    recorded = events(app)
    assert [(t, m) for t, m, _ in recorded] == [
        ("member.enrolled", member["id"]), ("points.changed", member["id"]),
        ("tier.changed", member["id"])]
    assert recorded[0][2]["email"] == "out@example.test"
    assert recorded[1][2]["points"] == 12 and recorded[2][2]["to"] == "Silver"


def test_a_rolled_back_change_records_no_event(api: Api, app: Flask,
                                               member: dict[str, Any]) -> None:
    before = len(events(app))
    resp = api.post(f"/members/{member['id']}/redeem", {"points": 500})  # more than held
    assert resp.status_code == 409
    assert len(events(app)) == before
    with app.app_context():
        row = db.session.get(Member, member["id"])
        assert row is not None
        record(row.program.merchant_id, "points.changed", {"n": 1}, member_id=row.id)
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(OutboxEvent)) == before


def test_relay_hands_each_event_to_every_channel_once(api: Api, app: Flask,
                                                      member: dict[str, Any],
                                                      recorder: Recorder) -> None:
    for n in range(1, 6):
        api.post(f"/members/{member['id']}/earn", {"points": n})
    start = threading.Barrier(3)
    counts: list[int] = []

    def worker() -> None:
        with app.app_context():
            start.wait()
            counts.append(relay(limit=2))  # small batches, so the relays interleave
            while (count := relay(limit=2)):
                counts.append(count)
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(counts) == 6  # member.enrolled and five points.changed
    assert sorted(t for _, t in recorder.seen) == ["member.enrolled"] + ["points.changed"] * 5
    assert len({i for i, _ in recorder.seen}) == 6
    with app.app_context():
        assert relay() == 0
        assert db.session.scalar(select(func.count()).select_from(OutboxEvent)
                                 .where(OutboxEvent.relayed_at.is_(None))) == 0


def test_webhooks_fan_out_to_hooks_that_existed_when_it_happened(
        api: Api, app: Flask, member: dict[str, Any]) -> None:
    api.post("/webhooks", {"url": "https://hooks.example.test/a", "events": ["points.changed"]})
    api.post(f"/members/{member['id']}/earn", {"points": 3})
    api.post("/webhooks", {"url": "https://hooks.example.test/b", "events": ["points.changed"]})
    with app.app_context():
        assert relay() == 2  # member.enrolled (no hook wants it) and points.changed
        rows = db.session.execute(select(Webhook.url, WebhookDelivery.payload)
                                  .join(Webhook)).all()
    assert [url for url, _ in rows] == ["https://hooks.example.test/a"]
    [(_, payload)] = rows
    assert payload["event"] == "points.changed" and payload["data"]["points"] == 3
    assert payload["data"]["member_id"] == member["id"] and len(payload["id"]) == 32


def test_backoff_doubles_with_jitter_and_never_passes_its_cap() -> None:
    policy = Backoff(first=5, cap=60, jitter=0.2)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5, 6, 500)] == [5, 10, 20, 40, 60, 60, 60]
    assert policy.delay(2, first=30) == 60
    waits = [policy.wait(3).total_seconds() for _ in range(200)]
    assert 16 <= min(waits) < max(waits) <= 24 and len(set(waits)) > 100
    assert all(policy.wait(9).total_seconds() <= 60 for _ in range(200))
    now = utcnow()
    assert Backoff(first=30, cap=600, jitter=0).next_attempt(now, 2) == now + timedelta(minutes=1)
