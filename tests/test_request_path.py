"""The lean request path: reads never take the write lock, and requests make few queries.

Every statement the app runs is recorded with whether it ran in the request's own
transaction or in a bookkeeping transaction of its own (app/transactions.py).
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select, text, update
from sqlalchemy.engine import Connection

from app import transactions
from app.extensions import db
from app.models import ApiKey, AppleRegistration, Member
from app.transactions import WRITE_OPTION, reads_only
from tests.conftest import Api
from tests.test_webservice import Device, auth_token, pass_type_id, touch

WRITES = ("INSERT", "UPDATE", "DELETE")


@dataclass
class Recorder:
    """The statements run, split into the request's own and bookkeeping ones."""

    own: list[str] = field(default_factory=list)
    bookkeeping: list[str] = field(default_factory=list)

    def clear(self) -> None:
        """Forget what was recorded so far."""
        self.own.clear()
        self.bookkeeping.clear()

    def queries(self) -> list[str]:
        """The request's own statements, BEGIN left out (PostgreSQL's is not a statement)."""
        return [s for s in self.own if not s.startswith("BEGIN")]

    def writes(self) -> list[str]:
        """The request's own statements that write."""
        return [s for s in self.own if s.lstrip().upper().startswith(WRITES)]


@pytest.fixture
def recorder(app: Flask) -> Iterator[Recorder]:
    """Record every statement run on the app's engine."""
    rec = Recorder()

    def _record(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        kept = rec.bookkeeping if conn.get_execution_options().get(WRITE_OPTION) else rec.own
        kept.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", _record)
    yield rec
    event.remove(engine, "before_cursor_execute", _record)


def on_sqlite(app: Flask) -> bool:
    """Whether the app runs on SQLite."""
    with app.app_context():
        return bool(db.engine.dialect.name == "sqlite")


def forget_last_use(app: Flask) -> None:
    """Make every API key look unused, so the next call records its use."""
    with app.app_context():
        db.session.execute(update(ApiKey).values(last_used_at=None))
        db.session.commit()


def last_used(app: Flask) -> list[Any]:
    """Every API key's last-used time."""
    with app.app_context():
        return list(db.session.scalars(select(ApiKey.last_used_at)))


def test_read_requests_only_select_and_bookkeep_apart(app: Flask, api: Api,
                                                      member: dict[str, Any],
                                                      recorder: Recorder) -> None:
    forget_last_use(app)
    recorder.clear()
    assert api.get(f"/members/{member['id']}").status_code == 200
    assert recorder.writes() == []
    assert all(s.startswith("SELECT") for s in recorder.queries()), recorder.own
    if on_sqlite(app):
        assert recorder.own[0] == "BEGIN"  # deferred: no write lock
    assert [s.split(" SET")[0] for s in recorder.bookkeeping if "UPDATE" in s] == [
        "UPDATE api_keys"]
    assert all(used is not None for used in last_used(app))
    recorder.clear()
    assert api.get(f"/members/{member['id']}").status_code == 200
    assert recorder.bookkeeping == []  # used a moment ago: nothing to record


def test_device_fetch_state_is_recorded_outside_the_read(app: Flask, client: FlaskClient,
                                                         member: dict[str, Any],
                                                         recorder: Recorder) -> None:
    dev = Device(client, pass_type_id(app))
    token, serial = auth_token(app, member["id"]), member["serial_number"]
    dev.register(serial, token)
    touch(app, member["id"])
    recorder.clear()
    assert dev.serials().status_code == 200
    assert dev.fetch(serial, token).status_code == 200
    assert recorder.writes() == []
    assert sum("UPDATE apple_registrations" in s for s in recorder.bookkeeping) == 2
    with app.app_context():
        reg = db.session.scalar(select(AppleRegistration))
        version = db.session.get(Member, member["id"]).pass_version
        assert reg.fetched_version == version and reg.listed_at is not None
        fetched_at = reg.fetched_at
    recorder.clear()
    modified = dev.fetch(serial, token).headers["Last-Modified"]
    assert dev.fetch(serial, token, since=modified).status_code == 304
    assert recorder.bookkeeping == [] and recorder.writes() == []  # nothing changed
    with app.app_context():
        assert db.session.scalar(select(AppleRegistration.fetched_at)) == fetched_at
    # the stale-member list still sees a device that has not fetched the newest version
    touch(app, member["id"])
    with app.app_context():
        reg = db.session.scalar(select(AppleRegistration))
        assert reg.fetched_version == version < db.session.get(Member, member["id"]).pass_version


def test_reads_do_not_wait_for_a_writer(app: Flask, client: FlaskClient, api: Api,
                                        member: dict[str, Any]) -> None:
    token = member["links"]["apple"].rsplit("/", 2)[-2]
    assert client.get(f"/cards/{token}/apple.pkpass").status_code == 200
    with app.app_context():
        holder = db.engine.connect().execution_options(**{WRITE_OPTION: True})
        holder.begin()  # SQLite: BEGIN IMMEDIATE, the database's write lock
        holder.execute(update(Member).where(Member.id == member["id"]).values(name="Busy"))
        try:
            began = time.monotonic()
            assert api.get(f"/members/{member['id']}").get_json()["name"] == "Ann Lee"
            assert client.get(f"/cards/{token}/apple.pkpass").status_code == 200
            assert time.monotonic() - began < 5  # a write-locked read waited 30 s, then 500
        finally:
            holder.rollback()
            holder.close()


def test_background_work_still_takes_the_write_lock_at_begin(app: Flask,
                                                             recorder: Recorder) -> None:
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    if on_sqlite(app):
        assert recorder.own[0] == "BEGIN IMMEDIATE"
    else:
        assert recorder.own == ["SELECT 1"]


# Upper bounds of the statements one request runs (tiers and rewards exist, so a lazy
# load of either would show); BEGIN and COMMIT are not counted.
MAX_STATEMENTS = {"member GET": 4, "earn": 8, "pass download": 1}


def test_statements_per_request(app: Flask, client: FlaskClient, api: Api,
                                program: dict[str, Any], member: dict[str, Any],
                                recorder: Recorder) -> None:
    pid = program["id"]
    assert api.post(f"/programs/{pid}/tiers", {"name": "Gold", "threshold": "100"}
                    ).status_code == 201
    assert api.post(f"/programs/{pid}/rewards", {"name": "Coffee", "kind": "free_item",
                                                 "points_cost": 1}).status_code == 201
    token = member["links"]["apple"].rsplit("/", 2)[-2]
    calls = {
        "member GET": lambda i: api.get(f"/members/{member['id']}"),
        "earn": lambda i: api.post(f"/members/{member['id']}/earn", {"points": 5},
                                   headers={"Idempotency-Key": f"till-1-{i}"}),
        "pass download": lambda i: client.get(f"/cards/{token}/apple.pkpass"),
    }
    counted = {}
    for name, call in calls.items():
        assert call(0).status_code in (200, 201)  # warm: caches, last use recorded
        recorder.clear()
        assert call(1).status_code in (200, 201)
        counted[name] = len(recorder.queries())
    assert all(counted[name] <= bound for name, bound in MAX_STATEMENTS.items()), counted
    with app.app_context():
        assert db.session.get(Member, member["id"]).points == 10


def test_a_download_with_expiring_points_adds_one_statement(
        app: Flask, client: FlaskClient, api: Api, program: dict[str, Any],
        member: dict[str, Any], recorder: Recorder) -> None:
    assert api.patch(f"/programs/{program['id']}/rules", {"expiry_days": 30}).status_code == 200
    assert api.post(f"/members/{member['id']}/earn", {"points": 7}).status_code == 201
    token = member["links"]["apple"].rsplit("/", 2)[-2]
    assert client.get(f"/cards/{token}/apple.pkpass").status_code == 200
    recorder.clear()
    card = client.get(f"/cards/{token}/apple.pkpass")
    assert card.status_code == 200 and len(recorder.queries()) == 2
    with zipfile.ZipFile(io.BytesIO(card.data)) as archive:
        fields = json.loads(archive.read("pass.json"))["storeCard"]
    shown = [f for group in fields.values() for f in group if "7" in str(f.get("value"))]
    assert any("xpir" in json.dumps(f) for f in shown), fields  # the expiring points


def test_reads_only_views_run_outside_a_transaction_on_postgresql(
        app: Flask, client: FlaskClient, api: Api, member: dict[str, Any]) -> None:
    """PostgreSQL: no BEGIN before and no ROLLBACK after a reads_only view's statements
    (each runs in autocommit); other requests keep their transaction."""
    seen: list[bool] = []

    def _autocommit(conn: Connection, *_: Any) -> None:
        seen.append(bool(getattr(conn.connection.dbapi_connection, "autocommit", False)))

    with app.app_context():
        engine = db.engine
        postgres = engine.dialect.name == "postgresql"
    event.listen(engine, "before_cursor_execute", _autocommit)
    try:
        token = member["links"]["apple"].rsplit("/", 2)[-2]
        for call in (lambda: api.get(f"/members/{member['id']}"),
                     lambda: client.get(f"/cards/{token}/apple.pkpass")):
            seen.clear()
            assert call().status_code == 200 and seen
            assert all(seen) if postgres else not any(seen)
        seen.clear()
        assert api.post(f"/members/{member['id']}/earn", {"points": 1}).status_code == 201
        assert seen and not any(seen)  # a write keeps its one transaction
    finally:
        event.remove(engine, "before_cursor_execute", _autocommit)


def test_a_reads_only_view_that_writes_fails_and_changes_nothing(
        make_app: Any, member_of: Any) -> None:
    app = make_app()

    @reads_only
    def sneaky() -> str:
        row = db.session.scalar(select(Member))
        row.name = "Changed in a read"
        db.session.flush()
        return "wrote"

    app.add_url_rule("/test/sneaky", "sneaky", sneaky)
    member_id = member_of(app)
    assert app.test_client().get("/test/sneaky").status_code == 500
    with app.app_context():
        assert db.session.get(Member, member_id).name != "Changed in a read"


@pytest.fixture
def member_of() -> Any:
    """Make a member (through the API) in a given app; returns its id."""

    def make(app: Flask) -> int:
        from tests.conftest import new_api_key

        key = new_api_key(app)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {key}"}
        program = client.post("/api/v1/programs", json={"name": "P", "template": "cafe"},
                              headers=headers).get_json()
        return int(client.post(f"/api/v1/programs/{program['id']}/members",
                               json={"email": "a@example.test", "name": "Ann"},
                               headers=headers).get_json()["id"])

    return make


def test_idle_connections_are_pinged_and_dead_ones_replaced(
        app: Flask, api: Api, member: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL: a connection used a moment ago is not pinged; one that sat idle is, and
    when its server side is gone the pool replaces it and the request still succeeds."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        assert "pool_pre_ping" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
        return
    pings: list[bool] = []
    real_ping = engine.dialect.do_ping

    def counted(dbapi_conn: Any) -> bool:
        pings.append(True)
        return bool(real_ping(dbapi_conn))

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    assert api.get(f"/members/{member['id']}").status_code == 200
    pings.clear()
    assert api.get(f"/members/{member['id']}").status_code == 200
    assert pings == []  # busy: no round trip spent on a ping
    monkeypatch.setattr(transactions, "IDLE_PING_AFTER", 0.0)
    with engine.connect() as conn:  # end every other session's backend: a restart, in short
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    time.sleep(0.2)
    answer = api.get(f"/members/{member['id']}")
    assert answer.status_code == 200 and answer.get_json()["id"] == member["id"]
    assert pings  # the idle connection was tested, found dead and replaced


def test_a_transaction_answers_the_standing_a_read_shows(app: Flask, api: Api,
                                                         program: dict[str, Any],
                                                         member: dict[str, Any],
                                                         recorder: Recorder) -> None:
    """A point transaction's answer reads no expiring lots when its lock query saw none
    expiring soon, and promotion and the next tier share one qualifying sum; the member in
    its answer equals the member a GET shows afterwards, with lots opened, taken from and
    given back by a void."""
    mid = member["id"]
    assert api.post(f"/programs/{program['id']}/tiers", {"name": "Gold", "threshold": "100"}
                    ).status_code == 201

    ran: list[str] = []

    def answered(path: str, body: dict[str, Any]) -> dict[str, Any]:
        recorder.clear()
        answer = api.post(path, body)
        assert answer.status_code == 201, answer.get_json()
        ran[:] = recorder.queries()
        got = answer.get_json()
        shown = api.get(f"/members/{mid}").get_json()
        for name in ("points", "tier", "next_tier", "expiring_points"):
            assert got["member"][name] == shown[name], name
        return dict(got)

    def lot_queries() -> int:
        return sum("remaining >" in s and "expires_at <=" in s for s in ran)

    def sums() -> int:
        return sum("sum(ledger_entries.qualifying_points)" in s for s in ran)

    assert answered(f"/members/{mid}/earn", {"points": 5})["member"]["expiring_points"] == []
    assert lot_queries() == 0 and sums() == 1
    assert api.patch(f"/programs/{program['id']}/rules", {"expiry_days": 20}).status_code == 200
    got = answered(f"/members/{mid}/earn", {"points": 120})  # expires within the 30-day window
    assert got["member"]["expiring_points"][0]["points"] == 120 and got["member"]["tier"]
    assert lot_queries() == 1 and sums() == 1  # a lot now expires soon: the lots are read
    redeemed = answered(f"/members/{mid}/redeem", {"points": 100})
    assert redeemed["member"]["expiring_points"][0]["points"] == 20
    assert lot_queries() == 1
    voided = answered(f"/transactions/{redeemed['transaction']['id']}/void", {})
    assert voided["member"]["expiring_points"][0]["points"] == 120
