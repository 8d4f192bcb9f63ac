"""Fault tests (issue 18, part 4): real parts stopped, slowed or answering errors mid-work,
then healthy again. Each test bounds its loops and timeouts and counts the end state: what
was answered 2xx landed exactly once, every device and object got its last change once,
and no error became a 500 or a hang."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import create_engine, func, select, text, update
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db
from app.jobs import PASS_UPDATES, run_sweep
from app.mail.tasks import MAX_ATTEMPTS
from app.models import AppleRegistration, GoogleObject, LedgerEntry, Member
from app.models.base import utcnow
from app.wallet.apple.apns import ApnsClient
from tests import test_mail as mail_tests
from tests.apns_standin import ApnsStandIn
from tests.conftest import Api, apns_settings, app_config, new_api_key
from tests.google_standin import Server as GoogleServer
from tests.google_standin import service_account_info
from tests.net import free_port, wait_port
from tests.pg import PostgresServer, find_bindir
from tests.smtp_standin import SmtpStandIn
from tests.test_google_wallet import ISSUER
from tests.test_production import environ, kill_group, spawn, wait_until
from tests.test_updates import add_devices, enroll, lagging, sweep
from tests.test_webservice import touch

MEMBERS = 10
REQUEST_TIMEOUT = 10.0
"""Seconds one earn call may take, whatever the database does (a hang fails the test)."""


@pytest.fixture
def database() -> str:
    """One leg: the tests below start (and stop) the servers they need themselves."""
    return "sqlite"


@pytest.fixture
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this test alone, which the test may stop and start again."""
    bindir = find_bindir()
    assert bindir is not None, "PostgreSQL is not installed"
    server = PostgresServer(bindir, durable=True)  # a 2xx'd commit survives "immediate"
    admin = create_engine(server.start(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE walletpass_faults"))
    admin.dispose()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def served(postgres: PostgresServer, tmp_path: Path,
           cert_paths: dict[str, Path]) -> Iterator[tuple[Flask, str]]:
    """The app on that server, migrated and served over real HTTP (app, base URL)."""
    from flask_migrate import upgrade

    app = create_app(app_config(tmp_path, cert_paths, postgres.url("walletpass_faults")))
    with app.app_context():
        upgrade(revision="heads")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}/api/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
        with app.app_context():
            db.engine.dispose()


class EarnLoop:
    """Earn calls, one after another, each with its own Idempotency-Key, until stopped."""

    def __init__(self, base: str, key: str, member_ids: list[int]) -> None:
        self.base, self.member_ids = base, member_ids
        self.headers = {"Authorization": f"Bearer {key}"}
        self.answers: dict[str, list[tuple[int, Any]]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def call(self, index: int) -> tuple[int, Any]:
        """Send earn number `index` (1 point to one member) and record the answer."""
        key = f"earn-{index}"
        member_id = self.member_ids[index % len(self.member_ids)]
        resp = requests.post(f"{self.base}/members/{member_id}/earn", json={"points": 1},
                             headers={**self.headers, "Idempotency-Key": key},
                             timeout=REQUEST_TIMEOUT)
        body = resp.json()
        if resp.status_code == 503:  # keep the header the client would wait by
            body["retry_after"] = resp.headers.get("Retry-After")
        answer = (resp.status_code, body)
        self.answers.setdefault(key, []).append(answer)
        return answer

    def _run(self) -> None:
        """Earn until told to stop (bounded: at most 2000 calls)."""
        for index in range(2000):
            if self.stop.is_set():
                return
            self.call(index)
            time.sleep(0.01)

    def statuses(self) -> list[int]:
        """The first answer's status of every call so far."""
        return [answers[0][0] for answers in list(self.answers.values())]

    def wait_for(self, predicate: Any, timeout: float = 30.0) -> None:
        """Wait until predicate(statuses) holds (or fail)."""
        deadline = time.monotonic() + timeout
        while not predicate(self.statuses()):
            assert self.thread.is_alive(), "the earn loop died"
            assert time.monotonic() < deadline, f"timed out; statuses {self.statuses()}"
            time.sleep(0.05)


def make_members(base: str, key: str) -> list[int]:
    """A program and MEMBERS members (through the API)."""
    headers = {"Authorization": f"Bearer {key}"}
    program = requests.post(f"{base}/programs", json={"name": "Faults", "template": "cafe"},
                            headers=headers, timeout=REQUEST_TIMEOUT).json()
    ids = []
    for n in range(MEMBERS):
        resp = requests.post(f"{base}/programs/{program['id']}/members",
                             json={"email": f"m{n}@example.test", "name": f"M {n}"},
                             headers=headers, timeout=REQUEST_TIMEOUT)
        assert resp.status_code == 201, resp.text
        ids.append(resp.json()["id"])
    return ids


def earn_totals(app: Flask) -> tuple[int, int]:
    """(earn entries in the ledger, sum of every member's points)."""
    with app.app_context():
        entries = db.session.scalar(select(func.count()).select_from(LedgerEntry)
                                    .where(LedgerEntry.kind == "earn"))
        points = db.session.scalar(select(func.sum(Member.points)))
        db.session.remove()
        return int(entries or 0), int(points or 0)


@pytest.mark.parametrize("mode", ["immediate", "fast"])
def test_postgresql_restarted_mid_load_gives_503s_then_each_earn_lands_once(
        served: tuple[Flask, str], postgres: PostgresServer, mode: str) -> None:
    app, base = served
    key = new_api_key(app)
    _, points_before = earn_totals(app)
    loop = EarnLoop(base, key, make_members(base, key))
    loop.thread.start()
    try:
        loop.wait_for(lambda s: len(s) >= 10)
        postgres.halt(mode)
        loop.wait_for(lambda s: s.count(503) >= 5)
        postgres.resume()
        loop.wait_for(lambda s: 201 in s[s.index(503):] and s[-3:] == [201] * 3)
    finally:
        loop.stop.set()
        loop.thread.join(REQUEST_TIMEOUT + 5)
    assert not loop.thread.is_alive()
    statuses = loop.statuses()
    assert set(statuses) <= {201, 503}, statuses
    failed = [k for k, answers in loop.answers.items() if answers[0][0] == 503]
    for k in failed:
        body = loop.answers[k][0][1]
        assert body["error"]["code"] == "database_unavailable", body
        assert body["retry_after"] == "2"
    for k in failed:  # the database is back: each failed earn, sent again, lands
        status, body = loop.call(int(k.split("-")[1]))
        assert status == 201, body
    assert earn_totals(app) == (len(loop.answers), points_before + len(loop.answers))
    for k in loop.answers:  # and a key answered twice replays its first success
        status, _ = loop.call(int(k.split("-")[1]))
        assert status == 201
    assert earn_totals(app) == (len(loop.answers), points_before + len(loop.answers))


# --- APNs -------------------------------------------------------------------------------


def make_due(app: Flask) -> None:
    """Move the clock past every back-off: each pending registration is due now."""
    with app.app_context():
        db.session.execute(update(AppleRegistration).values(next_attempt_at=None))
        db.session.commit()


def push_states(app: Flask) -> dict[int, tuple[int | None, int, bool]]:
    """member id -> (last APNs status, attempts in a row, whether it waits for a back-off)."""
    with app.app_context():
        now = utcnow()
        rows = db.session.scalars(select(AppleRegistration))
        return {r.member_id: (r.push_status, r.attempts,
                              r.next_attempt_at is not None and r.next_attempt_at > now)
                for r in rows}


def test_apns_down_slow_and_failing_then_each_device_gets_one_push_of_its_last_change(
        make_app: Any, apns: ApnsStandIn, apns_tls: dict[str, Path],
        cert_paths: dict[str, Path]) -> None:
    app = make_app(**apns_settings(apns, apns_tls, APNS_TIMEOUT=0.5))
    api = Api(app.test_client(), new_api_key(app))
    ids = enroll(api, api.post("/programs", {"name": "Push", "template": "cafe"}).get_json(),
                 MEMBERS + 2)
    tokens = add_devices(app, ids)
    live, dropped = ids[:MEMBERS], ids[MEMBERS:]
    port = int(apns.url.rsplit(":", 1)[1])
    ApnsClient.close_all()
    apns.stop(timeout=1)  # down: the port is closed
    for m in ids:
        touch(app, m)
    assert sweep(app) == len(ids)
    assert set(push_states(app).values()) == {(0, 1, True)}  # no answer: retried later

    server = ApnsStandIn(apns_tls, client_ca=cert_paths["root"])
    server.start(port)
    try:
        server.delay = 1.0  # slow: answers after the client's 0.5 s
        make_due(app)
        for m in ids:
            touch(app, m)
        started = time.monotonic()
        assert sweep(app) == len(ids)
        assert time.monotonic() - started < 5.0  # not 12 pushes x 1 s one after another
        assert set(push_states(app).values()) == {(0, 2, True)}
        time.sleep(1.2)  # the late pushes arrive (and are answered to no one)
        server.delay = 0.0

        later = int((time.time() + 60) * 1000)
        for n, m in enumerate(live):
            server.answer(tokens[m], 429 if n % 2 else 500,
                          "TooManyRequests" if n % 2 else "InternalServerError")
        for m in dropped:
            server.answer(tokens[m], 410, "Unregistered", timestamp=later)
        make_due(app)
        for m in ids:
            touch(app, m)  # the last change
        assert sweep(app) == len(ids)
        states = push_states(app)
        assert set(states) == set(live)  # 410: the registration is dropped, never retried
        assert {s[1:] for s in states.values()} == {(3, True)}
        assert sweep(app) == 0  # backing off

        server.answers.clear()  # healthy again
        server.pushes.clear()
        make_due(app)
        assert sweep(app) == len(live)
        make_due(app)
        assert sweep(app) == 0
        assert Counter(server.tokens()) == {tokens[m]: 1 for m in live}
        assert lagging(app) == 0
        assert {s[:2] for s in push_states(app).values()} == {(200, 0)}
    finally:
        ApnsClient.close_all()
        server.stop(timeout=2)



# --- SMTP -------------------------------------------------------------------------------


def test_smtp_down_then_4xx_and_5xx_each_mail_sent_once_or_failed_for_good(
        make_app: Any) -> None:
    server = SmtpStandIn()  # not started: the port is closed
    app = mail_tests.mail_app(make_app, server)
    api, program = mail_tests.setup_program(app)
    members = {mail_tests.enroll(api, program, f"m{n}@example.test")["id"]: f"m{n}@example.test"
               for n in range(MEMBERS)}
    address = {v: k for k, v in members.items()}
    assert mail_tests.sweep(app) == MEMBERS
    assert {(r.status, r.attempts) for r in mail_tests.mails(app)} == {("pending", 1)}
    server.up()
    try:
        server.refuse_data = {"m0@example.test": "451 4.3.0 Try again later",
                              "m1@example.test": "451 4.3.0 Try again later",
                              "m2@example.test": "554 5.6.0 Message refused",
                              "m3@example.test": "452 4.3.1 Out of storage"}  # for good
        mail_tests.make_due(app)
        mail_tests.sweep(app)
        assert sorted(str(m["To"]) for m in server.messages()) == [
            f"m{n}@example.test" for n in range(4, MEMBERS)]
        by_member = {r.member_id: r for r in mail_tests.mails(app)}
        assert by_member[address["m0@example.test"]].status == "pending"  # retried later
        assert by_member[address["m2@example.test"]].status == "failed"  # 5xx: not retried
        assert mail_tests.sweep(app) == 0  # the deferred ones back off
        del server.refuse_data["m0@example.test"], server.refuse_data["m1@example.test"]
        for _ in range(MAX_ATTEMPTS):  # the back-offs pass, again and again
            mail_tests.make_due(app)
            mail_tests.sweep(app)
        mail_tests.make_due(app)
        assert mail_tests.sweep(app) == 0  # nothing is retried forever
    finally:
        server.down()
    sent = Counter(str(m["To"]) for m in server.messages())
    assert sent == {f"m{n}@example.test": 1 for n in (0, 1, *range(4, MEMBERS))}
    by_member = {r.member_id: r for r in mail_tests.mails(app)}
    assert by_member[address["m2@example.test"]].attempts == 2  # refused, then left alone
    stuck = by_member[address["m3@example.test"]]
    assert (stuck.status, stuck.attempts) == ("failed", MAX_ATTEMPTS)
    assert stuck.last_error == "deferred (452)"


# --- Google Wallet ----------------------------------------------------------------------


def balance_writes(google: Any) -> Counter[str]:
    """Successful writes of a balance (insert or PATCH) per Google object id."""
    return Counter(r.body["id"] for r in google.calls(kind="loyaltyObject")
                   if r.status == 200 and r.method in ("POST", "PATCH")
                   and isinstance(r.body, dict) and "loyaltyPoints" in r.body)


def google_due(app: Flask) -> int:
    """Move the clock past every Google back-off; returns how many objects were waiting."""
    with app.app_context():
        waiting = db.session.scalar(select(func.count()).select_from(GoogleObject)
                                    .where(GoogleObject.next_attempt_at.is_not(None)))
        db.session.execute(update(GoogleObject).values(next_attempt_at=None))
        db.session.commit()
        return int(waiting or 0)


def test_google_down_429_and_500_then_each_object_holds_its_final_balance(
        make_app: Any, tmp_path: Path) -> None:
    server = GoogleServer()
    google = server.start()
    info, _key = service_account_info(google.token_uri)
    key_file = tmp_path / "google-sa.json"
    key_file.write_text(json.dumps(info))
    app = make_app(GOOGLE_SERVICE_ACCOUNT_FILE=str(key_file), GOOGLE_ISSUER_ID=ISSUER,
                   GOOGLE_API_URL=google.url, GOOGLE_TIMEOUT=1.0, GOOGLE_RATE_LIMIT=1000.0)
    api = Api(app.test_client(), new_api_key(app))
    program = api.post("/programs", {"name": "G", "template": "cafe"}).get_json()
    members = enroll(api, program, MEMBERS)
    try:
        sweep(app)
        assert len(google.resources["loyaltyObject"]) == MEMBERS
        for m in members:
            assert api.post(f"/members/{m}/earn", {"points": 3}).status_code == 201
        server.stop()  # down: the port is closed
        sweep(app)
        assert google_due(app) == MEMBERS  # each failed, backing off
        server = GoogleServer(google.port, google)
        server.start()
        google.fail_next(429, 4, "rateLimitExceeded")
        google.fail_next(500, 3)
        for m in members:  # the last change
            assert api.post(f"/members/{m}/earn", {"points": 2}).status_code == 201
        sweep(app)
        assert google_due(app) == 7  # the scripted failures: tried again later
        sweep(app)
        assert google_due(app) == 0
        assert sweep(app) == 0
    finally:
        server.stop()
    with app.app_context():
        final = {f"{ISSUER}.{m.serial_number}": m.points
                 for m in db.session.scalars(select(Member).where(Member.id.in_(members)))}
    stored = google.resources["loyaltyObject"]
    assert {oid: stored[oid]["loyaltyPoints"]["balance"]["int"] for oid in final} == final
    assert balance_writes(google) == {oid: 2 for oid in final}  # the insert, the last change


# --- Celery and Redis -------------------------------------------------------------------


def redis_on(port: int, folder: Path) -> subprocess.Popen[bytes]:
    """A redis-server on this loopback port, no persistence (a restart forgets the queue)."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed: run `bash tests/setup_services.sh`"
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, "redis-server")
    return proc


def celery_child(settings: dict[str, Any], folder: Path, name: str,
                 beat: bool = False) -> subprocess.Popen[bytes]:
    """A real Celery worker process (with beat inside it when asked) on these settings."""
    argv = [sys.executable, "-m", "celery", "-A", "app.celery_app", "worker", "--loglevel",
            "WARNING", "--concurrency", "1", "--hostname", f"{name}@%h"]
    if beat:
        argv += ["--beat", "--schedule", str(folder / "celerybeat-schedule")]
    return spawn(argv, environ(settings), folder / f"{name}.log")


def test_celery_worker_killed_mid_sweep_and_redis_restarted_lose_no_push(
        make_app: Any, apns: ApnsStandIn, apns_tls: dict[str, Path], tmp_path: Path,
        database_url: str, cert_paths: dict[str, Path]) -> None:
    port = free_port()
    redis = redis_on(port, tmp_path)
    broker = f"redis://127.0.0.1:{port}/0"
    extra = apns_settings(apns, apns_tls, CELERY_BROKER_URL=broker, PUSH_BATCH_SIZE=4,
                          PUSH_LEASE_SECONDS=1.0, APNS_CONCURRENCY=4)
    settings = {**app_config(tmp_path, cert_paths, database_url), **extra}
    app = make_app(**extra)
    api = Api(app.test_client(), new_api_key(app))
    program = api.post("/programs", {"name": "Q", "template": "cafe"}).get_json()
    ids = enroll(api, program, 3 * MEMBERS)
    tokens = add_devices(app, ids)
    children: list[subprocess.Popen[bytes]] = []
    try:
        children.append(celery_child(settings, tmp_path, "first"))
        apns.delay = 0.3  # each batch of 4 takes a while: the kill lands mid-sweep
        api.patch(f"/programs/{program['id']}", {"background_color": "#0a0b0c"})  # wakes it
        assert apns.wait_for(6, timeout=60), (tmp_path / "first.log").read_text()
        os.killpg(children[0].pid, signal.SIGKILL)
        children[0].wait(10)
        time.sleep(apns.delay + 0.2)  # what the dead worker had in flight arrives
        before = set(apns.tokens())
        assert 0 < lagging(app) < len(ids)  # it died mid-fan-out
        with app.app_context():
            for _ in range(5):  # jobs queued while no worker runs...
                run_sweep.delay(PASS_UPDATES)
        redis.kill()  # ...and lost with Redis, which restarts empty
        redis.wait(10)
        redis = redis_on(port, tmp_path)
        apns.delay = 0.0
        children.append(celery_child(settings, tmp_path, "second", beat=True))
        assert wait_until(lambda: lagging(app) == 0, timeout=60), (
            tmp_path / "second.log").read_text()
        time.sleep(1.0)  # a push done twice would arrive by now
    finally:
        for child in children:
            kill_group(child)
        redis.kill()
        redis.wait(10)
    counts = Counter(apns.tokens())
    assert set(counts) == set(tokens.values())  # nothing lost
    twice = {t for t, n in counts.items() if n > 1}
    # Only what the dead worker had pushed but not recorded is sent again: the round in
    # flight and, the sweep overlapping them, the round before it while it was recorded.
    assert twice <= before and len(twice) <= 2 * 4
    assert max(counts.values()) <= 2


def test_earns_answer_at_once_while_redis_is_down_and_the_work_is_found_later(
        make_app: Any, apns: ApnsStandIn, apns_tls: dict[str, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from app.api import ratelimit

    monkeypatch.setattr(ratelimit, "clock", lambda: 6_000_030.0)  # one window throughout
    port = free_port()
    app = make_app(**apns_settings(apns, apns_tls, API_RATE_LIMIT=8,
                                   CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0"))
    api = Api(app.test_client(), new_api_key(app))
    program = api.post("/programs", {"name": "R", "template": "cafe"}).get_json()
    ids = enroll(api, program, 3)  # Redis is not running: each wake-up fails to queue
    tokens = add_devices(app, ids)
    for m in ids:
        started = time.monotonic()
        assert api.post(f"/members/{m}/earn", {"points": 1}).status_code == 201
        assert time.monotonic() - started < 3.0
    assert apns.pushes == [] and lagging(app) == len(ids)
    assert sweep(app) == len(ids)  # what beat runs once a broker is back
    assert sorted(apns.tokens()) == sorted(tokens.values())
    assert api.get("/programs").status_code == 200  # the 8th call: the limit still counts,
    refused = api.get("/programs")  # in this process while Redis is away
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "rate_limited"
