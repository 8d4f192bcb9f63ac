"""Which transactions take SQLite's write lock, and the small writes a read request makes.

On SQLite a transaction that may write starts with ``BEGIN IMMEDIATE``: it takes the write
lock before it reads, so two writers queue instead of deadlocking on the upgrade from a
read lock (the loser would get "database is locked" at once). A read-only request has no
such need and must not wait behind writers, so a request whose method is safe (GET, HEAD,
OPTIONS) starts a plain deferred ``BEGIN`` and reads from its snapshot while writers work.
Everything else (other methods, background jobs, the CLI, tests outside a request) keeps
``BEGIN IMMEDIATE``.

A read request may still have bookkeeping to record (an API key's last use, which pass
version a device fetched). `bookkeeping` runs it in a short transaction of its own that
takes the write lock from the start, so the request's own transaction stays read-only and
never upgrades. In a request that writes, the bookkeeping joins the request's transaction
(a second connection would wait for the lock that transaction holds).

On PostgreSQL a transaction costs two round trips of its own (psycopg sends BEGIN before
the first statement, and the pool's ROLLBACK at the end). Views marked `reads_only` (the
hot read paths: a member, a card download, a device's pass fetch) run their statements
without one: PostgreSQL's READ COMMITTED takes a snapshot per statement anyway, so what a
read sees is the same. Such a view must not write through the session (a flush in it is a
programming error and raises); its bookkeeping goes through `bookkeeping`. And a pooled
PostgreSQL connection is tested (one round trip) only when it has sat idle for a while,
not before every request: see `configure_idle_ping`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app, g, has_request_context, request
from sqlalchemy import Executable, event, exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from app.extensions import db

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_OPTION = "walletpass_write"
"""Execution option that makes a connection's transactions take the write lock at BEGIN."""
READS_ONLY = "walletpass_reads_only"
"""Attribute of a view function marked `reads_only`."""
IDLE_PING_AFTER = 10.0
"""Seconds a pooled PostgreSQL connection may sit idle before it is tested on checkout."""
View = TypeVar("View", bound=Callable[..., Any])


def read_only_request() -> bool:
    """Whether the current request's method is safe (it only reads)."""
    return has_request_context() and request.method in READ_METHODS


def takes_write_lock(conn: Connection) -> bool:
    """Whether a transaction beginning on this connection takes the write lock at BEGIN."""
    return bool(conn.get_execution_options().get(WRITE_OPTION)) or not read_only_request()


def configure_sqlite_begin(engine: Engine) -> None:
    """Begin SQLite transactions IMMEDIATE when they may write, deferred in read requests."""

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if takes_write_lock(conn) else "BEGIN")


def bookkeeping(*statements: Executable) -> None:
    """Record small writes of the current work: in a read request in a short transaction
    of their own (committed now), else in the session's transaction (committed with it)."""
    if not read_only_request():
        for stmt in statements:
            db.session.execute(stmt)
        return
    with db.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
        with conn.begin():
            for stmt in statements:
                conn.execute(stmt)


def reads_only(view: View) -> View:
    """Mark a view that only reads (its small writes go through `bookkeeping`): on
    PostgreSQL its statements run outside a transaction, saving BEGIN and ROLLBACK."""
    setattr(view, READS_ONLY, True)
    return view


def begin_reads_only_request() -> None:
    """Before any statement of a request to a `reads_only` view (the API key lookup
    included): on PostgreSQL, bind the session to a connection in autocommit."""
    if request.method not in READ_METHODS or request.endpoint is None:
        return
    view = current_app.view_functions.get(request.endpoint)
    if not getattr(view, READS_ONLY, False):
        return
    g.walletpass_reads_only = True
    if db.engine.dialect.name == "postgresql" and not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def refuse_writes_in_reads_only(session: Session, _context: Any, _instances: Any) -> None:
    """A `reads_only` view that changes a row is a bug (on PostgreSQL each statement would
    commit by itself): fail loudly instead."""
    if not (has_request_context() and g.get("walletpass_reads_only")):
        return
    if session.new or session.deleted or any(session.is_modified(o) for o in session.dirty):
        raise RuntimeError(f"{request.endpoint} is marked reads_only but changes rows; "
                           "record small writes with app.transactions.bookkeeping")


def configure_idle_ping(engine: Engine) -> None:
    """Test a pooled connection before use only when it sat idle over IDLE_PING_AFTER.

    A busy server reuses its connections within milliseconds; pinging each checkout (the
    pool's pre_ping) would add a round trip to every request. A connection that died while
    idle (a database restart, a firewall's idle timeout) is found by the ping and replaced;
    one that dies while in use fails its request, and the pool then replaces every
    connection older than the failure.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < IDLE_PING_AFTER:
            return  # a new connection, or one in use a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception:
            alive = False
        if not alive:
            raise exc.DisconnectionError("connection found dead after sitting idle")
