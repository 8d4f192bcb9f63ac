"""Concurrent point transactions against a real threaded server on loopback, on SQLite and
PostgreSQL: exact balances, never below zero, one effect per idempotency key."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app.extensions import db
from app.loyalty.ledger import ledger_balance
from app.models import Member
from tests.conftest import new_api_key


class Client:
    """A tiny JSON client for the real server (one connection per call)."""

    def __init__(self, base: str, key: str) -> None:
        self.base = base
        self.key = key

    def call(self, method: str, path: str, body: Any = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """Send one request; returns (status, JSON body)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + "/api/v1" + path, data=data, method=method,
                                     headers={"Authorization": f"Bearer {self.key}",
                                              "Content-Type": "application/json",
                                              **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())


@pytest.fixture
def served(app: Flask) -> Iterator[Client]:
    """The app behind a threaded werkzeug server on 127.0.0.1, with a merchant's client."""
    key = new_api_key(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Client(f"http://127.0.0.1:{server.server_port}", key)
    finally:
        server.shutdown()
        server.server_close()


def member_of(client: Client) -> int:
    """A fresh program and member; returns the member id."""
    status, program = client.call("POST", "/programs", {"name": "Race", "template": "cafe"})
    assert status == 201, program
    status, member = client.call("POST", f"/programs/{program['id']}/members",
                                 {"email": "race@example.test"})
    assert status == 201, member
    return int(member["id"])


def in_threads(count: int, work: Any) -> list[Any]:
    """Run work(i) in `count` threads at once; returns the results."""
    start = threading.Barrier(count)

    def run(i: int) -> Any:
        start.wait()
        return work(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def stored(app: Flask, member_id: int) -> tuple[int, int, tuple[int, int]]:
    """(cached balance, pass version, (ledger sum, open lots sum)) of a member."""
    with app.app_context():
        member = db.session.get(Member, member_id)
        assert member is not None
        return member.points, member.pass_version, ledger_balance(member_id)


def test_fifty_concurrent_earns_end_exact(app: Flask, served: Client) -> None:
    member_id = member_of(served)
    _, version, _ = stored(app, member_id)
    results = in_threads(50, lambda i: served.call(
        "POST", f"/members/{member_id}/earn", {"points": i + 1}))
    assert [status for status, _ in results] == [201] * 50
    points, new_version, sums = stored(app, member_id)
    assert points == sum(range(1, 51)) == sums[0] == sums[1]
    assert new_version == version + 50


def test_concurrent_redemptions_never_go_below_zero(app: Flask, served: Client) -> None:
    member_id = member_of(served)
    assert served.call("POST", f"/members/{member_id}/earn", {"points": 100})[0] == 201
    results = in_threads(30, lambda i: served.call(
        "POST", f"/members/{member_id}/redeem", {"points": 10}))
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 10 + [409] * 20
    points, _, sums = stored(app, member_id)
    assert points == 0 == sums[0] == sums[1]


def test_concurrent_repeats_of_one_idempotency_key_apply_once(app: Flask,
                                                              served: Client) -> None:
    member_id = member_of(served)
    key = {"Idempotency-Key": "receipt-77"}
    results = in_threads(12, lambda i: served.call(
        "POST", f"/members/{member_id}/earn", {"points": 7}, key))
    assert {status for status, _ in results} == {201}
    assert len({json.dumps(body, sort_keys=True) for _, body in results}) == 1
    assert stored(app, member_id)[0] == 7


def test_concurrent_voids_of_one_transaction_apply_once(app: Flask, served: Client) -> None:
    member_id = member_of(served)
    _, tx = served.call("POST", f"/members/{member_id}/earn", {"points": 40})
    results = in_threads(10, lambda i: served.call(
        "POST", f"/transactions/{tx['transaction']['id']}/void"))
    assert sorted(status for status, _ in results) == [201] + [409] * 9
    points, _, sums = stored(app, member_id)
    assert points == 0 == sums[0] == sums[1]


def test_sweeps_running_twice_at_once_do_the_work_once(app: Flask, served: Client) -> None:
    from datetime import timedelta

    from sqlalchemy import func, select, update

    from app.jobs import run_sweep_now
    from app.models import LedgerEntry
    from app.models.base import utcnow

    member_ids = []
    for i in range(6):
        status, program = served.call("POST", "/programs", {"name": f"P{i}", "template": "cafe"})
        served.call("PATCH", f"/programs/{program['id']}/rules", {"expiry_days": 30})
        _, member = served.call("POST", f"/programs/{program['id']}/members",
                                {"email": f"e{i}@example.test"})
        served.call("POST", f"/members/{member['id']}/earn", {"points": 25})
        member_ids.append(member["id"])
    with app.app_context():
        db.session.execute(update(LedgerEntry).values(expires_at=utcnow() - timedelta(1)))
        db.session.commit()

    def sweep(_: int) -> int:
        with app.app_context():
            return run_sweep_now("loyalty_expiry")

    assert sum(in_threads(3, sweep)) == 6
    with app.app_context():
        expired = db.session.scalar(select(func.count()).select_from(LedgerEntry)
                                    .where(LedgerEntry.kind == "expire"))
    assert expired == 6
    for member_id in member_ids:
        assert stored(app, member_id)[0] == 0
